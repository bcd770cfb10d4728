"""ctypes binding to the C quantization layer (codec/fp8_quant.h), built as
build/libfp8quant.so from accuracy/fp8quant_lib.c. The study measures this
code, not a Python re-implementation of it."""
import ctypes
import os

import numpy as np

FORMATS = {"E4M3": 0, "E5M2": 1}
MAX = {"E4M3": 448.0, "E5M2": 57344.0}

TENSOR, TILES, E8M0 = 0, 1, 2
POW2 = 1             # FP8_QUANT_POW2
OCP, CEIL = 0, 1     # FP8_E8M0_OCP, FP8_E8M0_CEIL

# name -> (kind, how, tile rows, tile cols); a tile of None rows spans the
# tensor. Blocks of B run along each row (1 x B tiles, the last one of a row
# partial), as DeepSeek-V3's 1 x 128 activation blocks; MX blocks likewise.
SCHEMES = {
    "per-tensor": (TENSOR, 0, None, None),
    "per-tensor pow2": (TENSOR, POW2, None, None),
    "tile 128x128": (TILES, 0, 128, 128),
    "block 256": (TILES, 0, 1, 256),
    "block 128": (TILES, 0, 1, 128),
    "block 64": (TILES, 0, 1, 64),
    "block 32": (TILES, 0, 1, 32),
    "block 16": (TILES, 0, 1, 16),
    "MX-32 OCP": (E8M0, OCP, 1, 32),
    "MX-32 ceil": (E8M0, CEIL, 1, 32),
}


def default_lib_path():
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.join(here, "..", "build", "libfp8quant.so")


class Quantizer:
    def __init__(self, lib_path=None):
        path = lib_path or default_lib_path()
        if not os.path.exists(path):
            raise FileNotFoundError(f"{path} not found: build it with `make {os.path.relpath(path)}`")
        self.lib = ctypes.CDLL(path)
        f = self.lib.fq_run
        p = np.ctypeslib.ndpointer
        f.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_uint,
                      p(np.float32, flags="C_CONTIGUOUS"), ctypes.c_size_t, ctypes.c_size_t,
                      ctypes.c_size_t, ctypes.c_size_t,
                      p(np.uint8, flags="C_CONTIGUOUS"), p(np.float32, flags="C_CONTIGUOUS"),
                      p(np.float32, flags="C_CONTIGUOUS")]
        f.restype = ctypes.c_int

    def run(self, x, fmt, scheme):
        """Quantize x (FP32, 1-D or 2-D) with a scheme of SCHEMES and
        dequantize. Returns (codes, values back as FP32, each element's
        scale), all shaped like x."""
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}: one of {sorted(FORMATS)}")
        if scheme not in SCHEMES:
            raise ValueError(f"unknown scheme {scheme!r}: one of {list(SCHEMES)}")
        x = np.ascontiguousarray(x, dtype=np.float32)
        if x.ndim not in (1, 2):
            raise ValueError(f"x must be 1-D or 2-D, got shape {x.shape}")
        rows, cols = (1, x.shape[0]) if x.ndim == 1 else x.shape
        kind, how, tr, tc = SCHEMES[scheme]
        tr = rows if tr is None else tr
        tc = cols if tc is None else tc
        flat = x.reshape(-1)
        q = np.empty(flat.size, np.uint8)
        y = np.empty(flat.size, np.float32)
        s = np.empty(flat.size, np.float32)
        if flat.size:
            rc = self.lib.fq_run(FORMATS[fmt], kind, how, flat, rows, cols, max(tr, 1), max(tc, 1), q, y, s)
            if rc != 0:
                raise RuntimeError(f"fq_run({fmt}, {scheme}) returned {rc}")
        return q.reshape(x.shape), y.reshape(x.shape), s.reshape(x.shape)
