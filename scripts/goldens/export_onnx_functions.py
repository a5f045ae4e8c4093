#!/usr/bin/python3
"""Exports models whose modules are ONNX local functions (torch.onnx.export's export_modules_as_functions), with
PyTorch's outputs as goldens.

Run with Debian's /usr/bin/python3 (python3-torch 1.13):
    /usr/bin/python3 scripts/goldens/export_onnx_functions.py OUT_DIR
Writes into OUT_DIR (produced at test time into a cache by onnx/ OnnxLocalFunctionsTest, never committed):
  blocks.onnx        a residual CNN: two Block modules (Conv2d, BatchNorm2d folded by the exporter, LeakyReLU with a
                     slope per block, a skip connection), each a function of domain '__main__' calling LeakyReLU, a
                     function of domain 'torch.nn.modules.activation' whose alpha is an attribute reference
                     (ref_attr_name) to the caller's; then a mean over H, W and a Linear. Opset 15, input "x"
                     [N, 4, 6, 6] with a dynamic batch, output "y".
  mlp.onnx           Linear, GELU, Linear, GELU with every Linear and GELU a function (opset 17, input "x" [N, 8]).
  functions.goldens.safetensors   blocks_x [3, 4, 6, 6], blocks_y; mlp_x [2, 8], mlp_y (PyTorch)
Weights: PyTorch's initialisation under torch.manual_seed(SEED), BatchNorm statistics randomized. The goldens file is
written last.
"""
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from goldens_io import write_safetensors  # noqa: E402

SEED = 20261205


class Block(nn.Module):
    def __init__(self, c, slope):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)
        self.bn = nn.BatchNorm2d(c)
        self.act = nn.LeakyReLU(slope)

    def forward(self, x):
        return x + self.act(self.bn(self.conv(x)))


class Blocks(nn.Module):
    def __init__(self):
        super().__init__()
        self.b1 = Block(4, 0.1)
        self.b2 = Block(4, 0.3)
        self.head = nn.Linear(4, 3)

    def forward(self, x):
        return self.head(self.b2(self.b1(x)).mean((2, 3)))


def export(model, x, path, opset, modules):
    torch.onnx.export(model, x, path + ".tmp", opset_version=opset, export_modules_as_functions=modules, input_names=["x"],
                      output_names=["y"], dynamic_axes={"x": {0: "N"}, "y": {0: "N"}})
    os.replace(path + ".tmp", path)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: export_onnx_functions.py OUT_DIR")
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(SEED)
    blocks = Blocks()
    for b in (blocks.b1, blocks.b2):
        b.bn.running_mean.uniform_(-0.5, 0.5)
        b.bn.running_var.uniform_(0.5, 2.0)
    blocks.eval()
    mlp = nn.Sequential(nn.Linear(8, 16), nn.GELU(), nn.Linear(16, 5), nn.GELU()).eval()
    g = torch.Generator().manual_seed(SEED + 1)
    bx = torch.randn(3, 4, 6, 6, generator=g)
    mx = 2 * torch.randn(2, 8, generator=g)
    with torch.no_grad():
        by, my = blocks(bx), mlp(mx)
        export(blocks, bx, os.path.join(out_dir, "blocks.onnx"), 15, {Block, nn.LeakyReLU})
        export(mlp, mx, os.path.join(out_dir, "mlp.onnx"), 17, {nn.Linear, nn.GELU})
    meta = {"producer": "scripts/goldens/export_onnx_functions.py", "seed": str(SEED), "torch": torch.__version__}
    write_safetensors(os.path.join(out_dir, "functions.goldens.safetensors"), {"blocks_x": bx, "blocks_y": by, "mlp_x": mx, "mlp_y": my}, meta)
    print("functions: written to %s" % out_dir)


if __name__ == "__main__":
    main()
