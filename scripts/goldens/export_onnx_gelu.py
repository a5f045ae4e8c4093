#!/usr/bin/python3
"""Exports a small MLP with both GELU forms to ONNX, with PyTorch's outputs as goldens.

Run with Debian's /usr/bin/python3 (python3-torch 1.13):
    /usr/bin/python3 scripts/goldens/export_onnx_gelu.py OUT_DIR
Writes into OUT_DIR (produced at test time into a cache by onnx/ OnnxGeluFusionTest, never committed):
  gelu.opset13.onnx, gelu.opset17.onnx   torch.onnx.export (TorchScript exporter), eval mode, input
                                         "input" [batch, 16] with a dynamic batch axis, output "output"
  gelu.goldens.safetensors               input_b1 [1,16], output_b1; input_b3 [3,16], output_b3 (PyTorch)
The model: Linear(16, 32), nn.GELU() (exact: torch 1.13 writes x * 0.5 * (1 + Erf(x / sqrt 2)) as
Div/Erf/Add/Mul/Mul), Linear(32, 24), nn.GELU(approximate='tanh') (written as Pow/Mul/Add/Mul/Tanh/
Add/Mul/Mul), Linear(24, 8). Inputs scaled by 3 so the GELUs see values well past their knee.
Weights: PyTorch's initialisation under torch.manual_seed(SEED). The goldens file is written last.
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from goldens_io import write_safetensors  # noqa: E402

SEED = 20261203
OPSETS = (13, 17)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: export_onnx_gelu.py OUT_DIR")
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(SEED)
    model = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.GELU(), torch.nn.Linear(32, 24),
                                torch.nn.GELU(approximate="tanh"), torch.nn.Linear(24, 8)).eval()
    g = torch.Generator().manual_seed(SEED + 1)
    x1 = 3 * torch.randn(1, 16, generator=g)
    x3 = 3 * torch.randn(3, 16, generator=g)
    with torch.no_grad():
        y1, y3 = model(x1), model(x3)
        for opset in OPSETS:
            path = os.path.join(out_dir, "gelu.opset%d.onnx" % opset)
            torch.onnx.export(model, x1, path + ".tmp", opset_version=opset, input_names=["input"], output_names=["output"],
                              dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
            os.replace(path + ".tmp", path)
    meta = {"producer": "scripts/goldens/export_onnx_gelu.py", "seed": str(SEED), "torch": torch.__version__}
    write_safetensors(os.path.join(out_dir, "gelu.goldens.safetensors"), {"input_b1": x1, "output_b1": y1, "input_b3": x3, "output_b3": y3}, meta)
    print("gelu: output max-abs %.4g, written to %s" % (float(y3.abs().max()), out_dir))


if __name__ == "__main__":
    main()
