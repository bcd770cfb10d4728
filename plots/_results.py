"""Reading results/: Google Benchmark JSON files written by `make sweep`.

Tolerant of partial results: a missing or unreadable family file gives an
empty list and a note, never an exception, so a chart can say what is
missing instead of crashing.
"""
import json
import os
import re


def gpus(results_dir):
    """GPU result folders present (results/<gpu>/ with a ceilings or family file)."""
    if not os.path.isdir(results_dir):
        return []
    out = []
    for d in sorted(os.listdir(results_dir)):
        p = os.path.join(results_dir, d)
        if os.path.isdir(p) and d not in ("cpu", "accuracy") and any(f.endswith(".json") for f in os.listdir(p)):
            out.append(d)
    return out


def load(results_dir, gpu, family, notes=None):
    """(context, [median rows]) of results/<gpu>/<family>.json; ({}, []) with
    a note appended when the file is missing or broken."""
    path = os.path.join(results_dir, gpu, family + ".json")
    try:
        with open(path) as f:
            data = json.load(f)
    except FileNotFoundError:
        if notes is not None:
            notes.append("%s: no %s results" % (gpu, family))
        return {}, []
    except (OSError, ValueError) as e:
        if notes is not None:
            notes.append("%s: %s.json unreadable (%s)" % (gpu, family, e.__class__.__name__))
        return {}, []
    rows = []
    for b in data.get("benchmarks", []):
        if b.get("error_occurred"):
            continue
        agg = b.get("aggregate_name")
        if agg not in (None, "median"):
            continue
        if agg is None and b.get("run_type") == "aggregate":
            continue
        row = dict(b)
        row["base"] = re.sub(r"(/manual_time|/real_time)?(_median)?$", "", b.get("run_name", b["name"]))
        rows.append(row)
    # with repetitions but no aggregate, keep one row a name (the last)
    seen = {}
    for r in rows:
        seen[r["base"]] = r
    return data.get("context", {}), list(seen.values())


def time_s(row):
    unit = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[row.get("time_unit", "ns")]
    return row["real_time"] * unit


def stamp_text(ctx, gpu):
    """'NVIDIA H100 80GB HBM3 · 2026-11-25 · abc1234' for a chart's corner."""
    name = ctx.get("gpu_name", gpu)
    fp = ctx.get("fp8kit", {})
    date = (fp.get("date") or ctx.get("run_date") or ctx.get("date") or "")[:10]
    commit = (fp.get("git_commit") or ctx.get("git_commit") or "")[:7]
    return " · ".join(x for x in (name, date, commit) if x)


def layers(sweeps_dir):
    """{(N, K): 'model/layer'} from sweeps/layers.txt."""
    out = {}
    path = os.path.join(sweeps_dir, "layers.txt")
    if not os.path.exists(path):
        return out
    for line in open(path):
        line = line.split("#")[0].split()
        if len(line) == 4:
            out[(int(line[2]), int(line[3]))] = "%s/%s" % (line[0], line[1])
    return out
