#!/usr/bin/python3
"""Exports the sequence models of scripts/bench's sequence jobs (issue 14) for ONNX Runtime.

Run with Debian's /usr/bin/python3 (python3-torch 1.13):
    /usr/bin/python3 scripts/goldens/export_sequence_models.py OUT_DIR [--models lstm-512-512,mha-512h8]
Models (random weights, torch.manual_seed(SEED), eval mode, sequence first [T, N, E] like torch's default):
  lstm-I-H          nn.LSTM(I, H), one layer; the ONNX graph returns the output only
  gru-I-H           nn.GRU(I, H), likewise
  mha-EhH           nn.MultiheadAttention(E, H) as self-attention, mha(x, x, x, need_weights=False)[0]
  encoder-EhHfF     nn.TransformerEncoderLayer(E, H, dim_feedforward=F) (post-norm, ReLU)
For each model M it writes into OUT_DIR (created if missing; produced at bench time, never committed):
  M.onnx            torch.onnx.export, opset 17 (LayerNormalization as one op), dynamic sequence and batch
  M.safetensors     the state_dict under torch's names (the Java benchmark loads it: the same weights)
  M.io.safetensors  "input" [T, 1, E] (T = 128) and "output", PyTorch's, which both benchmarks check once
Each file is written to a .tmp and renamed; the io file is written last (if it exists, the rest do).

Autograd stays on while exporting and computing the output so that torch 1.13 takes the documented
math path, not its inference fast path (torch._native_multi_head_attention, which does not export).
"""
import argparse
import os
import re
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from goldens_io import write_safetensors  # noqa: E402

SEED = 20261203
STEPS = 128
DEFAULT = "lstm-512-512,gru-512-512,mha-512h8,encoder-512h8f2048"


class OutputOnly(torch.nn.Module):
    """A recurrent layer or MultiheadAttention returning only its output (what Module.forward(x) gives)."""

    def __init__(self, inner, attention):
        super().__init__()
        self.inner = inner
        self.attention = attention

    def forward(self, x):
        if self.attention:
            return self.inner(x, x, x, need_weights=False)[0]
        return self.inner(x)[0]


def build(name):
    torch.manual_seed(SEED)
    m = re.fullmatch(r"(lstm|gru)-(\d+)-(\d+)", name)
    if m:
        cls = torch.nn.LSTM if m.group(1) == "lstm" else torch.nn.GRU
        inner = cls(int(m.group(2)), int(m.group(3)))
        return OutputOnly(inner, False), inner, int(m.group(2))
    m = re.fullmatch(r"mha-(\d+)h(\d+)", name)
    if m:
        inner = torch.nn.MultiheadAttention(int(m.group(1)), int(m.group(2)))
        return OutputOnly(inner, True), inner, int(m.group(1))
    m = re.fullmatch(r"encoder-(\d+)h(\d+)f(\d+)", name)
    if m:
        layer = torch.nn.TransformerEncoderLayer(int(m.group(1)), int(m.group(2)), dim_feedforward=int(m.group(3)))
        return layer, layer, int(m.group(1))
    raise SystemExit("unknown model " + name + ": expected lstm-I-H, gru-I-H, mha-EhH or encoder-EhHfF")


def export(name, out_dir):
    model, inner, width = build(name)
    model.eval()
    g = torch.Generator().manual_seed(SEED + 1)
    x = torch.rand(STEPS, 1, width, generator=g) * 2 - 1
    with torch.enable_grad():
        y = model(x).detach()
        tmp = os.path.join(out_dir, name + ".onnx.tmp")
        torch.onnx.export(model, (x,), tmp, opset_version=17, input_names=["input"], output_names=["output"],
                          dynamic_axes={"input": {0: "steps", 1: "batch"}, "output": {0: "steps", 1: "batch"}})
    os.replace(tmp, os.path.join(out_dir, name + ".onnx"))
    state = {k: v.detach().contiguous() for k, v in inner.state_dict().items()}
    write_safetensors(os.path.join(out_dir, name + ".safetensors"), state)
    write_safetensors(os.path.join(out_dir, name + ".io.safetensors"), {"input": x, "output": y},
                      {"torch": torch.__version__, "seed": str(SEED)})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--models", default=DEFAULT)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    for name in a.models.split(","):
        export(name, a.out)
        print("wrote", os.path.join(a.out, name + ".onnx"))


if __name__ == "__main__":
    main()
