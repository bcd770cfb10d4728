"""Writing run-length reference tables (the format tests/exhaustive.cpp
reads): comment lines, then for each table "table NAME INPUT_BITS RUNS" and
one "start value" line (hex) a run. Written to a temporary file, then
renamed."""
import os


def write_tables(path, comments, tables):
    """tables: [(name, input_bits, make)] where make() gives (starts, values)."""
    with open(path + ".tmp", "w") as f:
        for c in comments:
            f.write("# %s\n" % c)
        for name, bits, make in tables:
            starts, vals = make()
            f.write("table %s %d %d\n" % (name, bits, len(starts)))
            for s, v in zip(starts, vals):
                f.write("%x %x\n" % (s, v))
    os.replace(path + ".tmp", path)
