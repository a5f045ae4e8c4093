#!/usr/bin/python3
"""Exports the demo's trained digits CNN to ONNX, for the demo's import step (scripts/demo).

Run with Debian's /usr/bin/python3 (torch 1.13) from the repository root:
    /usr/bin/python3 scripts/train/export_digits_onnx.py [--dir DIR]
Reads DIR/digits_resnet.safetensors (the weights scripts/train/train_digits.py trained) into the
same PyTorch architecture, checks that PyTorch reproduces the logits stored in
DIR/digits_test.safetensors, and writes DIR/digits_resnet.onnx (torch.onnx.export, opset 13,
input "input" [batch, 1, 8, 8] with a dynamic batch axis, output "logits" [batch, 10]).
DIR defaults to demo/src/main/resources/dev/panamadnn/demo/digits/.
"""
import argparse
import json
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_digits import DEFAULT_OUT, model  # noqa: E402

DTYPES = {"F32": np.float32, "I64": np.int64}


def read_safetensors(path):
    """{name: torch tensor} of a plain safetensors file (F32 and I64 only, as goldens_io writes)."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    out = {}
    for key, h in header.items():
        if key == "__metadata__":
            continue
        a, b = h["data_offsets"]
        arr = np.frombuffer(data[8 + n + a:8 + n + b], dtype=DTYPES[h["dtype"]]).reshape(h["shape"])
        out[key] = torch.from_numpy(arr.copy())
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", default=DEFAULT_OUT, help="the digits resource directory (default: %(default)s)")
    a = ap.parse_args()
    torch.set_num_threads(1)
    net = model()
    net.load_state_dict(read_safetensors(os.path.join(a.dir, "digits_resnet.safetensors")))
    net.eval()
    test = read_safetensors(os.path.join(a.dir, "digits_test.safetensors"))
    with torch.no_grad():
        logits = net(test["images"])
    err = float((logits - test["logits"]).abs().max())
    if err > 1e-5:
        sys.exit("PyTorch does not reproduce the stored logits (max |err| %.3g): weights and test split disagree" % err)
    path = os.path.join(a.dir, "digits_resnet.onnx")
    torch.onnx.export(net, test["images"][:1], path + ".tmp", opset_version=13, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    os.replace(path + ".tmp", path)
    print("wrote %s (%d bytes); PyTorch reproduces the stored logits within %.3g" % (path, os.path.getsize(path), err))


if __name__ == "__main__":
    main()
