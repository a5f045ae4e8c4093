#!/usr/bin/python3
"""Exports a small multi-head attention pooler whose shapes need both of its dynamic dims (a Reshape of the projected
input to [N, S, 3, heads, 8], its target computed from Shape -> Gather -> Concat as torch exports it), once as
exported and once with its input's shape removed (a model that declares no input shape), with PyTorch's outputs as
goldens: the cases for Onnx.load(file, OnnxOptions) fixing a dynamic dim or giving a missing shape.

Run with Debian's /usr/bin/python3 (python3-torch 1.13, python3-onnx):
    /usr/bin/python3 scripts/goldens/export_onnx_load_options.py OUT_DIR
Writes into OUT_DIR (produced at test time into a cache by onnx/ OnnxLoadOptionsTest, never committed):
  heads.onnx          input "x" f32 [N, S, 16] (batch N and sequence S dynamic), output "y" [N, 4] (opset 13)
  heads_noshape.onnx  the same model, its input "x" declared with no shape (and "y" with none)
  heads.goldens.safetensors   x_b1 [1, 6, 16], y_b1; x_b3 [3, 6, 16], y_b3; x_s9 [2, 9, 16], y_s9
Weights: PyTorch's initialisation under torch.manual_seed(SEED).
"""
import os
import sys

import onnx
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from goldens_io import write_safetensors  # noqa: E402

SEED = 20261206


class Heads(nn.Module):
    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(16, 48)
        self.o = nn.Linear(16, 4)

    def forward(self, x):
        n, s, _ = x.shape
        q, k, v = self.qkv(x).reshape(n, s, 3, 2, 8).permute(2, 0, 3, 1, 4)
        w = torch.softmax(q @ k.transpose(-1, -2) / 8 ** 0.5, -1)
        y = (w @ v).transpose(1, 2).reshape(n, s, 16)
        return self.o(y.mean(1))


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: export_onnx_load_options.py OUT_DIR")
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(SEED)
    model = Heads().eval()
    g = torch.Generator().manual_seed(SEED + 1)
    x1, x3, x9 = torch.randn(1, 6, 16, generator=g), torch.randn(3, 6, 16, generator=g), torch.randn(2, 9, 16, generator=g)
    with torch.no_grad():
        y1, y3, y9 = model(x1), model(x3), model(x9)
        path = os.path.join(out_dir, "heads.onnx")
        torch.onnx.export(model, (x3,), path + ".tmp", opset_version=13, input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "N", 1: "S"}, "y": {0: "N"}})
        os.replace(path + ".tmp", path)
    m = onnx.load(path)
    for v in list(m.graph.input) + list(m.graph.output):
        v.type.tensor_type.ClearField("shape")
    onnx.save(m, os.path.join(out_dir, "heads_noshape.onnx.tmp"))
    os.replace(os.path.join(out_dir, "heads_noshape.onnx.tmp"), os.path.join(out_dir, "heads_noshape.onnx"))
    meta = {"producer": "scripts/goldens/export_onnx_load_options.py", "seed": str(SEED), "torch": torch.__version__}
    write_safetensors(os.path.join(out_dir, "heads.goldens.safetensors"),
                      {"x_b1": x1, "y_b1": y1, "x_b3": x3, "y_b3": y3, "x_s9": x9, "y_s9": y9}, meta)
    print("load options: written to %s" % out_dir)


if __name__ == "__main__":
    main()
