#!/usr/bin/python3
"""Half-precision (and f64) checkpoints for SafeTensorsHalfTest, written by torch.

Writes two files into java-api/src/test/resources/safetensors/:

  half.safetensors           the stored tensors in BF16, F16 and F64
  half.expected.safetensors  the same names, each tensor's torch `.float()` value in F32

SafeTensorsHalfTest loads the first into f32 parameters (the conversion under test) and the
second with a plain same-dtype load, and compares the two bit for bit. The expectation is
torch's own conversion on this x86-64 machine, never ours.

Tensors (names are the test module's parameters):
  f16.all       every one of the 65,536 f16 bit patterns, as [256, 256]: normals, all
                subnormals, +-0, +-Inf, every NaN payload (quiet and signalling), +-max
  bf16.edges    bf16 edge values (subnormals, +-Inf, NaNs incl. a signalling one, +-max,
                +-min normal, -0.0) followed by seeded random values, [4, 64]
  f64.edges     f64 values that exercise rounding to f32: ties to even either way, just
                above/below f32 max (overflow to Inf or not), f32 subnormals, underflow to
                +-0, NaNs with payloads, -0.0, f64 max/min, then seeded random values, [8, 32]

The safetensors package is not installed on our machines (no pip), so the format (8-byte
little-endian header length, JSON header, raw little-endian data) is written here with
struct + json, as scripts/goldens/safetensors_fixture.py does.

Run:  /usr/bin/python3 scripts/goldens/safetensors_half.py
"""
import json
import os
import struct

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT_DIR = os.path.join(ROOT, "java-api", "src", "test", "resources", "safetensors")
SEED = 20261203
ST_NAME = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64"}


def from_bits(bits, int_dtype, dtype):
    """A tensor of `dtype` with the given raw bit patterns (numpy keeps the bits exactly)."""
    signed = {np.uint16: np.int16, np.uint64: np.int64}[int_dtype]     # torch has no uint16/uint64
    return torch.from_numpy(np.array(bits, dtype=int_dtype).view(signed)).view(dtype)


def f16_all():
    return from_bits(np.arange(65536, dtype=np.uint32).astype(np.uint16), np.uint16, torch.float16).reshape(256, 256)


def bf16_edges(g):
    edges = [0x0000, 0x8000,            # +0, -0
             0x0001, 0x8001, 0x007F,    # smallest / largest subnormal
             0x0080, 0x8080,            # smallest normal
             0x7F7F, 0xFF7F,            # +-max
             0x7F80, 0xFF80,            # +-Inf
             0x7FC0, 0xFFC0, 0x7FC1,    # quiet NaNs, one with a payload
             0x7F81, 0xFF81,            # signalling NaNs
             0x3F80, 0xBF80, 0x3F81]    # 1, -1, 1 + 2^-7
    t = from_bits(np.array(edges, dtype=np.uint16), np.uint16, torch.bfloat16)
    rand = (torch.randn(4 * 64 - len(edges), generator=g) * 100).to(torch.bfloat16)
    return torch.cat([t, rand]).reshape(4, 64)


def f64_edges(g):
    f32_max = float(np.finfo(np.float32).max)
    ulp_at_max = 2.0 ** 104                       # f32 ulp at its largest binade
    min_sub = 2.0 ** -149
    one_ulp = 2.0 ** -23
    values = [0.0, -0.0, 1.0, -1.0,
              1.0 + one_ulp / 2,                  # tie: rounds down to 1.0 (even)
              1.0 + 3 * one_ulp / 2,              # tie: rounds up to 1 + 2 ulp (even)
              1.0 + one_ulp / 2 + 2.0 ** -52,     # just above the tie: up
              -(1.0 + 3 * one_ulp / 2),
              f32_max, -f32_max,
              f32_max + ulp_at_max / 2 - 2.0 ** 76,    # just below the overflow threshold: max
              f32_max + ulp_at_max / 2,           # the threshold (a tie to an odd max): Inf
              float(np.finfo(np.float64).max), -float(np.finfo(np.float64).max),
              float("inf"), float("-inf"),
              min_sub, -min_sub, min_sub / 2,     # min_sub/2 is a tie to 0 (even)
              min_sub * 0.75,                     # rounds up to min_sub
              min_sub * 1.5,                      # tie between 1 and 2 min_sub: 2 (even)
              2.0 ** -126 - min_sub / 2,          # just below the smallest normal: a tie
              2.0 ** -127, 3.0 ** -90,            # subnormal results
              float(np.finfo(np.float64).tiny), 5e-324, -5e-324,   # far below: +-0
              1.0 / 3.0, -2.0 / 3.0, 0.1, 1e30, -1e-30, 3.14159265358979]
    t = torch.tensor(values, dtype=torch.float64)
    nans = from_bits(np.array([0x7FF8000000000000, 0xFFF8000000000000, 0x7FF0000000000001,
                               0x7FF00000E0000000, 0xFFF4000000000123], dtype=np.uint64),
                     np.uint64, torch.float64)
    head = torch.cat([t, nans])
    rand = torch.randn(8 * 32 - head.numel(), generator=g, dtype=torch.float64) * 1e3
    return torch.cat([head, rand]).reshape(8, 32)


def raw(t):
    """Row-major little-endian bytes (bit patterns, so NaN payloads survive)."""
    ints = {2: np.uint16, 4: np.uint32, 8: np.uint64}[t.element_size()]
    width = {2: torch.int16, 4: torch.int32, 8: torch.int64}[t.element_size()]
    return t.contiguous().view(width).numpy().view(ints).astype(np.dtype(ints).newbyteorder("<")).tobytes()


def write(path, tensors):
    header, data = {}, b""
    for name, t in tensors.items():
        b = raw(t)
        header[name] = {"dtype": ST_NAME[t.dtype], "shape": list(t.shape), "data_offsets": [len(data), len(data) + len(b)]}
        data += b
    header["__metadata__"] = {"format": "pt", "producer": "scripts/goldens/safetensors_half.py"}
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + data)
    print("wrote", path, os.path.getsize(path), "bytes")


def main():
    g = torch.Generator().manual_seed(SEED)
    stored = {"f16.all": f16_all(), "bf16.edges": bf16_edges(g), "f64.edges": f64_edges(g)}
    expected = {name: t.float() for name, t in stored.items()}
    write(os.path.join(OUT_DIR, "half.safetensors"), stored)
    write(os.path.join(OUT_DIR, "half.expected.safetensors"), expected)


if __name__ == "__main__":
    main()
