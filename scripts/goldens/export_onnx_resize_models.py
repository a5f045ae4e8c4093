#!/usr/bin/python3
"""Exports a small upsampling network to ONNX with PyTorch's outputs as goldens.

Run with Debian's /usr/bin/python3 (python3-torch 1.13):
    /usr/bin/python3 scripts/goldens/export_onnx_resize_models.py OUT_DIR
Writes into OUT_DIR (produced at test time into a cache by onnx/ OnnxResizeModelsTest, never committed):
  upsample.opset13.onnx, upsample.opset17.onnx   torch.onnx.export (TorchScript exporter), eval mode, input "input"
                                                 [batch, 3, 6, 8] with a dynamic batch axis, outputs "maps" and "classes"
  upsample.goldens.safetensors                   input_b1, maps_b1, classes_b1 (as float), and the same for batch 2
The network: Conv2d(3, 4, 3, padding=1), then F.interpolate nearest x2 (exported as Resize asymmetric/floor),
bilinear x2 (half_pixel), bilinear to size (20, 28) with align_corners=True (sizes computed from the
input's shape), bicubic x0.5 (half_pixel, a = -0.75); "maps" is that, "classes" its argmax over channels
(ArgMax, I64). Weights are PyTorch's own random initialisation under torch.manual_seed(SEED).
The goldens file is written last (each file to a .tmp, then renamed): if it exists, the rest do.
"""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from goldens_io import write_safetensors  # noqa: E402

SEED = 20261204
OPSETS = (13, 17)


class Upsampler(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, x):
        y = F.interpolate(self.conv(x), scale_factor=2, mode="nearest")
        y = F.interpolate(y, scale_factor=2, mode="bilinear", align_corners=False)
        y = F.interpolate(y, size=(20, 28), mode="bilinear", align_corners=True)
        y = F.interpolate(y, scale_factor=0.5, mode="bicubic", align_corners=False)
        return y, y.argmax(1)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: export_onnx_resize_models.py OUT_DIR")
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    torch.manual_seed(SEED)
    model = Upsampler().eval()
    g = torch.Generator().manual_seed(SEED + 1)
    x1 = torch.randn(1, 3, 6, 8, generator=g)
    x2 = torch.randn(2, 3, 6, 8, generator=g)
    meta = {"producer": "scripts/goldens/export_onnx_resize_models.py", "seed": str(SEED), "torch": torch.__version__}
    with torch.no_grad():
        (m1, c1), (m2, c2) = model(x1), model(x2)
        for opset in OPSETS:
            path = os.path.join(out_dir, "upsample.opset%d.onnx" % opset)
            torch.onnx.export(model, x1, path + ".tmp", opset_version=opset, input_names=["input"], output_names=["maps", "classes"],
                              dynamic_axes={"input": {0: "batch"}, "maps": {0: "batch"}, "classes": {0: "batch"}})
            os.replace(path + ".tmp", path)
    write_safetensors(os.path.join(out_dir, "upsample.goldens.safetensors"),
                      {"input_b1": x1, "maps_b1": m1, "classes_b1": c1.float(), "input_b2": x2, "maps_b2": m2, "classes_b2": c2.float()}, meta)
    print("upsample: maps max-abs %.4g, written to %s" % (float(m2.abs().max()), out_dir))


if __name__ == "__main__":
    main()
