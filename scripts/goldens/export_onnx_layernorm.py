#!/usr/bin/python3
"""Exports a small model with three layer normalizations to ONNX, with PyTorch's outputs as goldens.

Run with Debian's /usr/bin/python3 (python3-torch 1.13):
    /usr/bin/python3 scripts/goldens/export_onnx_layernorm.py OUT_DIR
Writes into OUT_DIR (produced at test time into a cache by onnx/ OnnxLayerNormFusionTest, never committed):
  layernorm.opset13.onnx, layernorm.opset17.onnx   torch.onnx.export (TorchScript exporter), eval mode, input "input"
                                                   [batch, 6, 16] with a dynamic batch axis, output "output"
  layernorm.goldens.safetensors                    input_b1 [1,6,16], output_b1; input_b3 [3,6,16], output_b3 (PyTorch)
The model: nn.LayerNorm(16) (eps 1e-5), Linear(16, 16), nn.LayerNorm([6, 16]) (two normalized dims, its weight and bias
[6, 16]), transpose to [batch, 16, 6], nn.LayerNorm(6, eps=1e-6) (ConvNeXt's channels-last form and eps), Linear(6, 4).
Below opset 17 torch 1.13 writes each as ReduceMean/Sub/Pow/ReduceMean/Add/Sqrt/Div/Mul/Add; at 17 as
LayerNormalization. The norms' weights and biases are drawn (not torch's ones and zeros), the inputs 3 * randn + 2 so
that the means matter. Weights: PyTorch's initialisation under torch.manual_seed(SEED). The goldens file is written last.
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from goldens_io import write_safetensors  # noqa: E402

SEED = 20261207
OPSETS = (13, 17)


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1 = torch.nn.LayerNorm(16)
        self.fc1 = torch.nn.Linear(16, 16)
        self.ln2 = torch.nn.LayerNorm([6, 16])
        self.ln3 = torch.nn.LayerNorm(6, eps=1e-6)
        self.fc2 = torch.nn.Linear(6, 4)

    def forward(self, x):
        y = self.ln2(self.fc1(self.ln1(x)))
        return self.fc2(self.ln3(y.transpose(1, 2)))


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: export_onnx_layernorm.py OUT_DIR")
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(SEED)
    model = Model().eval()
    with torch.no_grad():
        for ln in (model.ln1, model.ln2, model.ln3):
            ln.weight.copy_(1 + 0.5 * torch.randn(ln.weight.shape))
            ln.bias.copy_(torch.randn(ln.bias.shape))
    g = torch.Generator().manual_seed(SEED + 1)
    x1 = 3 * torch.randn(1, 6, 16, generator=g) + 2
    x3 = 3 * torch.randn(3, 6, 16, generator=g) + 2
    with torch.no_grad():
        y1, y3 = model(x1), model(x3)
        for opset in OPSETS:
            path = os.path.join(out_dir, "layernorm.opset%d.onnx" % opset)
            torch.onnx.export(model, x1, path + ".tmp", opset_version=opset, input_names=["input"], output_names=["output"],
                              dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
            os.replace(path + ".tmp", path)
    meta = {"producer": "scripts/goldens/export_onnx_layernorm.py", "seed": str(SEED), "torch": torch.__version__}
    write_safetensors(os.path.join(out_dir, "layernorm.goldens.safetensors"),
                      {"input_b1": x1, "output_b1": y1, "input_b3": x3, "output_b3": y3}, meta)
    print("layernorm: output max-abs %.4g, written to %s" % (float(y3.abs().max()), out_dir))


if __name__ == "__main__":
    main()
