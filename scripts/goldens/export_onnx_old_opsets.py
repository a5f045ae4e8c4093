#!/usr/bin/python3
"""Exports small PyTorch modules at ONNX opsets 7 and 8, where torch 1.13 writes scalars and index constants as DOUBLE
Constants each followed by a Cast, with PyTorch's outputs as goldens.

Run with Debian's /usr/bin/python3 (python3-torch 1.13):
    /usr/bin/python3 scripts/goldens/export_onnx_old_opsets.py OUT_DIR
Writes into OUT_DIR (produced at test time into a cache by onnx/ OnnxOldOpsetsTest, never committed):
  <case>.opset<k>.onnx             torch.onnx.export (TorchScript exporter), input "input", output "output", opsets 7, 8
  old_opsets.goldens.safetensors   per case: input_<case>, output_<case> (PyTorch, float32)
Cases (each exports at least one DOUBLE Constant read by a Cast):
  std_var        torch.var(x, 1, keepdim=True) + x.std(1, keepdim=True): Gather of Shape with a DOUBLE index, a DOUBLE 1
  group_norm     nn.GroupNorm(2, 6) on [2, 6, 3, 4]
  pixel_shuffle  nn.PixelShuffle(2) on [1, 8, 3, 4]
  attention      two-head self-attention written out (Linear to q, k, v; view, permute, softmax(q k^T / 2) v; Linear) on
                 [2, 5, 8]: shape arithmetic with DOUBLE constants
Weights: PyTorch's initialisation under torch.manual_seed(SEED). The goldens file is written last.
"""
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from goldens_io import write_safetensors  # noqa: E402

SEED = 20261205
OPSETS = (7, 8)


class StdVar(nn.Module):
    def forward(self, x):
        return torch.var(x, 1, keepdim=True) + x.std(1, keepdim=True)


class SelfAttention(nn.Module):
    """Two-head self-attention written out (nn.MultiheadAttention's eval fast path has no opset-7 export)."""

    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(8, 24)
        self.out = nn.Linear(8, 8)

    def forward(self, x):
        b, t, _ = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, 2, 4).permute(2, 0, 3, 1, 4)
        w = torch.softmax(q @ k.transpose(-1, -2) / 2.0, -1)
        return self.out((w @ v).transpose(1, 2).reshape(b, t, 8))


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: export_onnx_old_opsets.py OUT_DIR")
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(SEED)
    g = torch.Generator().manual_seed(SEED + 1)
    cases = [("std_var", StdVar(), torch.randn(3, 8, generator=g)),
             ("group_norm", nn.GroupNorm(2, 6), torch.randn(2, 6, 3, 4, generator=g)),
             ("pixel_shuffle", nn.PixelShuffle(2), torch.randn(1, 8, 3, 4, generator=g)),
             ("attention", SelfAttention(), torch.randn(2, 5, 8, generator=g))]
    goldens = {}
    for name, model, x in cases:
        model.eval()
        with torch.no_grad():
            y = model(x)
            for opset in OPSETS:
                path = os.path.join(out_dir, "%s.opset%d.onnx" % (name, opset))
                torch.onnx.export(model, (x,), path + ".tmp", opset_version=opset, input_names=["input"], output_names=["output"])
                os.replace(path + ".tmp", path)
        goldens["input_" + name] = x.contiguous()
        goldens["output_" + name] = y.contiguous()
    meta = {"producer": "scripts/goldens/export_onnx_old_opsets.py", "seed": str(SEED), "torch": torch.__version__}
    write_safetensors(os.path.join(out_dir, "old_opsets.goldens.safetensors"), goldens, meta)
    print("old opsets: %d cases written to %s" % (len(cases), out_dir))


if __name__ == "__main__":
    main()
