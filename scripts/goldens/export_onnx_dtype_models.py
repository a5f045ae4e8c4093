#!/usr/bin/python3
"""Exports two small networks whose ONNX inputs and outputs are not FLOAT, with PyTorch's outputs as goldens.

Run with Debian's /usr/bin/python3 (python3-torch 1.13):
    /usr/bin/python3 scripts/goldens/export_onnx_dtype_models.py OUT_DIR
Writes into OUT_DIR (produced at test time into a cache by onnx/ OnnxDtypeModelsTest, never committed):
  uint8.opset13.onnx, uint8.opset17.onnx   a uint8 image [N, 3, 16, 16] cast to float and normalized in the graph
                                           ((x / 255 - 0.5) / 0.25: Cast, Div, Sub, Div), then Conv, ReLU, a spatial
                                           mean and a Linear: float logits [N, 4]
  half.opset13.onnx, half.opset17.onnx     a half-precision input [N, 8] cast to float, Linear, ReLU, cast back to
                                           half: a FLOAT16 output [N, 6]
  dtype.goldens.safetensors                per model and batch 1 and 2 the input and PyTorch's output, stored as F32
                                           (every uint8 and float16 value is a float: exact)
"""
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from goldens_io import write_safetensors  # noqa: E402

SEED = 20261204
OPSETS = (13, 17)


class Uint8Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        y = (x.float() / 255.0 - 0.5) / 0.25
        return self.fc(torch.relu(self.conv(y)).mean((2, 3)))


class HalfNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 6)

    def forward(self, x):
        return torch.relu(self.fc(x.float())).half()


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: export_onnx_dtype_models.py OUT_DIR")
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    goldens = {}
    meta = {"producer": "scripts/goldens/export_onnx_dtype_models.py", "seed": str(SEED), "torch": torch.__version__}
    for i, (name, model) in enumerate((("uint8", Uint8Net()), ("half", HalfNet()))):
        torch.manual_seed(SEED + i)
        for p in model.parameters():
            nn.init.uniform_(p, -0.5, 0.5)
        model.eval()
        g = torch.Generator().manual_seed(SEED + 10 + i)
        if name == "uint8":
            x1, x2 = (torch.randint(0, 256, (n, 3, 16, 16), generator=g, dtype=torch.uint8) for n in (1, 2))
        else:   # beyond float16's range (+-65504) too: +-inf after the cast, as numpy and ONNX Runtime give it
            x1, x2 = ((torch.randn(n, 8, generator=g) * 4).half() for n in (1, 2))
            x2[1, 0] = float("inf")
        with torch.no_grad():
            y1, y2 = model(x1), model(x2)
        for opset in OPSETS:
            path = os.path.join(out_dir, "%s.opset%d.onnx" % (name, opset))
            torch.onnx.export(model, x2, path + ".tmp", opset_version=opset, input_names=["input"], output_names=["output"],
                              dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
            os.replace(path + ".tmp", path)
        goldens.update({name + "_input_b1": x1.float(), name + "_output_b1": y1.float(),
                        name + "_input_b2": x2.float(), name + "_output_b2": y2.float()})
        print("%s: output %s, max-abs %.4g" % (name, y2.dtype, float(y2.float().abs().max())))
    write_safetensors(os.path.join(out_dir, "dtype.goldens.safetensors"), goldens, meta)
    print("written to", out_dir)


if __name__ == "__main__":
    main()
