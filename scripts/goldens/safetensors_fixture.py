#!/usr/bin/python3
"""Independent writer and reader of the safetensors format, for Panama DNN's interop tests.

The `safetensors` Python package is not installed on our build machines (no internet, and
Debian does not package it), so this script writes and reads the format itself with struct
and json, following https://github.com/huggingface/safetensors (8-byte little-endian header
length N, N bytes of UTF-8 JSON, then the raw little-endian tensor bytes). Tensor values
come from torch with a fixed seed; torch also computes the expected sums.

Run with Debian's python, which has torch 1.13:

  /usr/bin/python3 scripts/goldens/safetensors_fixture.py write
      writes java-api/src/test/resources/safetensors/fixture.safetensors and
      fixture.expected.txt (what SafeTensorsFixtureTest checks)
  /usr/bin/python3 scripts/goldens/safetensors_fixture.py read FILE [--expect EXPECTED]
      reads FILE (e.g. one written by Java's SafeTensors.save), prints each tensor and, with
      --expect, checks every tensor, value and metadata entry against an expected file

The fixture is deliberately unlike what Java's writer produces: header keys are not sorted,
tensor data is laid out in insertion order, and the header is padded to an odd length so
that every tensor's data is unaligned in the file.
"""
import hashlib
import json
import os
import struct
import sys

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT_DIR = os.path.join(ROOT, "java-api", "src", "test", "resources", "safetensors")
SEED = 1234

TORCH_TO_ST = {torch.float32: "F32", torch.bfloat16: "BF16", torch.int64: "I64"}
ST_TO_TORCH = {v: k for k, v in TORCH_TO_ST.items()}
ST_SIZE = {"F32": 4, "BF16": 2, "I64": 8}


def fixture_tensors():
    """Insertion order is the data order in the file; it is deliberately not sorted."""
    g = torch.Generator().manual_seed(SEED)
    return {
        "layer2.weight": torch.randn(3, 4, generator=g),
        "layer1.weight": torch.randn(2, 3, 4, generator=g),
        "layer1.bias": torch.randn(5, generator=g),
        "scale": torch.randn((), generator=g),  # rank 0: shape []
        "conv.weight": torch.randn(2, 1, 3, 3, generator=g),
        "embed.bf16": torch.randn(4, 4, generator=g).to(torch.bfloat16),
        "positions": torch.randint(-10**12, 10**12, (6,), generator=g, dtype=torch.int64),
    }


FIXTURE_METADATA = {
    "format": "pt",
    "producer": "scripts/goldens/safetensors_fixture.py",
    "note": "non-ASCII survives: \u00e9\u2713",  # json.dumps escapes it as \u00e9\u2713
}


def to_bytes(t):
    """Raw little-endian bytes, row-major."""
    t = t.contiguous()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().astype("<i2").tobytes()
    if t.dtype == torch.float32:
        return t.numpy().astype("<f4").tobytes()
    return t.numpy().astype("<i8").tobytes()


def from_bytes(raw, dtype, shape):
    import numpy as np
    if dtype == "BF16":
        return torch.from_numpy(np.frombuffer(raw, dtype="<i2").copy()).view(torch.bfloat16).reshape(shape)
    if dtype == "F32":
        return torch.from_numpy(np.frombuffer(raw, dtype="<f4").copy()).reshape(shape)
    if dtype == "I64":
        return torch.from_numpy(np.frombuffer(raw, dtype="<i8").copy()).reshape(shape)
    raise ValueError("this reader handles F32, BF16 and I64, not " + dtype)


def write(path, tensors, metadata, header_mod8):
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name, t in tensors.items():
        raw = to_bytes(t)
        header[name] = {"dtype": TORCH_TO_ST[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode("utf-8")
    while len(text) % 8 != header_mod8:  # odd padding: tensor data starts unaligned
        text += b" "
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)
    return len(text)


def summary(t):
    """Sum in float64 (exact for I64), the sha256 of the raw bytes, a few sampled elements."""
    flat = t.reshape(-1)
    if t.dtype == torch.int64:
        total = str(int(flat.sum().item()))
    else:
        total = repr(float(flat.double().sum().item()))
    n = flat.numel()
    picks = sorted({0, n // 3, n // 2, n - 1})
    samples = []
    for i in picks:
        v = flat[i]
        if t.dtype == torch.bfloat16:
            samples.append((i, str(int(v.view(torch.int16).item()) & 0xFFFF)))  # raw bits
        elif t.dtype == torch.int64:
            samples.append((i, str(int(v.item()))))
        else:
            samples.append((i, repr(float(v.item()))))
    return total, hashlib.sha256(to_bytes(t)).hexdigest(), samples


def expected_lines(tensors, metadata, header_len):
    lines = ["# written by scripts/goldens/safetensors_fixture.py (torch %s, seed %d); do not edit"
             % (torch.__version__, SEED),
             "# tab-separated; BF16 samples are raw 16-bit patterns, F32 sums are float64",
             "header_length\t%d" % header_len]
    for k in sorted(metadata):
        lines.append("metadata\t%s\t%s" % (k, metadata[k]))
    for name in sorted(tensors):
        t = tensors[name]
        total, digest, samples = summary(t)
        shape = "[" + ",".join(str(d) for d in t.shape) + "]"
        lines.append("tensor\t%s\t%s\t%s\t%s\t%s" % (name, TORCH_TO_ST[t.dtype], shape, total, digest))
        for i, v in samples:
            lines.append("sample\t%s\t%d\t%s" % (name, i, v))
    return lines


def read(path):
    """A strict reader: checks what the Java reader checks, fails loudly on anything else."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    if n > len(blob) - 8:
        raise ValueError("header length %d exceeds the file" % n)
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", {}) or {}
    data = blob[8 + n:]
    tensors, cursor = {}, 0
    for name, e in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"]):
        begin, end = e["data_offsets"]
        if begin != cursor:
            raise ValueError("tensor %s starts at %d, expected %d" % (name, begin, cursor))
        numel = 1
        for d in e["shape"]:
            numel *= d
        if end - begin != numel * ST_SIZE[e["dtype"]]:
            raise ValueError("tensor %s: size mismatch" % name)
        tensors[name] = from_bytes(data[begin:end], e["dtype"], e["shape"])
        cursor = end
    if cursor != len(data):
        raise ValueError("data area has %d bytes, tensors cover %d" % (len(data), cursor))
    return tensors, metadata, n


def main(argv):
    if len(argv) >= 2 and argv[1] == "write":
        os.makedirs(OUT_DIR, exist_ok=True)
        tensors = fixture_tensors()
        path = os.path.join(OUT_DIR, "fixture.safetensors")
        n = write(path, tensors, FIXTURE_METADATA, header_mod8=5)
        with open(os.path.join(OUT_DIR, "fixture.expected.txt"), "w", encoding="utf-8") as f:
            f.write("\n".join(expected_lines(tensors, FIXTURE_METADATA, n)) + "\n")
        print("wrote %s (%d bytes, header %d bytes)" % (path, os.path.getsize(path), n))
        return 0
    if len(argv) >= 3 and argv[1] == "read":
        tensors, metadata, n = read(argv[2])
        got = expected_lines(tensors, metadata, n)
        print("\n".join(got[2:]))
        if len(argv) == 5 and argv[3] == "--expect":
            with open(argv[4], encoding="utf-8") as f:
                want = [l for l in f.read().splitlines() if not l.startswith("#")]
            # The header length depends on the writer; everything else must match exactly.
            want = [l for l in want if not l.startswith("header_length")]
            got = [l for l in got if not l.startswith("#") and not l.startswith("header_length")]
            if got != want:
                for a, b in zip(want, got):
                    if a != b:
                        print("MISMATCH expected: %s\n         found:    %s" % (a, b))
                print("FAIL: %s differs from %s" % (argv[2], argv[4]))
                return 1
            print("OK: %s matches %s" % (argv[2], argv[4]))
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
