#!/usr/bin/python3
"""Exports torchvision models beyond the ten of export_onnx_models.py (classification, video, segmentation) to
ONNX at their usual input sizes, with PyTorch's output for one input: scripts/onnx-zoo's models.

Run with Debian's /usr/bin/python3 (python3-torch 1.13, python3-torchvision 0.14):
    /usr/bin/python3 scripts/goldens/export_torchvision_zoo.py OUT_DIR MODEL[,MODEL...]
Writes, for each model M, into OUT_DIR (tens to hundreds of MB each, so a cache, never committed):
  M.onnx            torch.onnx.export (TorchScript exporter), opset 13, eval mode, input "x" with a dynamic batch axis,
                    output "y" (a segmentation model's "out" map)
  M.in, M.out       the input (batch 1) and PyTorch's output, raw little-endian float32
  M.shape           two lines: the input's shape, the output's shape
M.shape is written last: if it exists, the rest do. A model torch cannot export prints EXPORTFAIL and is skipped.

No pretrained download is reachable here: torchvision's own random initialisation under torch.manual_seed(SEED),
BatchNorm running statistics drawn (mean in [-0.1, 0.1], variance in [0.5, 1.5]) so no BatchNorm is the identity,
and zero-initialised heads (ViT's) drawn too so the output is not all zeros.
"""
import os
import sys

import torch
import torchvision

SEED = 20261204
VIDEO = {"r3d_18", "mc3_18", "r2plus1d_18"}
SEGMENTATION = {"fcn_resnet50", "deeplabv3_mobilenet_v3_large", "lraspp_mobilenet_v3_large", "deeplabv3_resnet50"}


class SegmentationOut(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x)["out"]


def build(name):
    m = torchvision.models
    if name in VIDEO:
        return getattr(m.video, name)(weights=None), (1, 3, 16, 112, 112)
    if name in SEGMENTATION:
        return SegmentationOut(getattr(m.segmentation, name)(weights=None, weights_backbone=None, aux_loss=False)), (1, 3, 224, 224)
    size = 299 if name == "inception_v3" else 224
    return getattr(m, name)(weights=None), (1, 3, size, size)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: export_torchvision_zoo.py OUT_DIR MODEL[,MODEL...]")
    out_dir, names = sys.argv[1], sys.argv[2].split(",")
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    for name in names:
        if os.path.exists(os.path.join(out_dir, name + ".shape")):
            continue
        try:
            torch.manual_seed(SEED)
            model, shape = build(name)
            model.eval()
            for mod in model.modules():
                if isinstance(mod, torch.nn.modules.batchnorm._BatchNorm):
                    mod.running_mean.uniform_(-0.1, 0.1)
                    mod.running_var.uniform_(0.5, 1.5)
                if isinstance(mod, torch.nn.Linear) and bool((mod.weight == 0).all()):
                    torch.nn.init.normal_(mod.weight, std=0.02)
            x = torch.randn(*shape, generator=torch.Generator().manual_seed(SEED + 1))
            with torch.no_grad():
                y = model(x)
            path = os.path.join(out_dir, name + ".onnx")
            torch.onnx.export(model, x, path + ".tmp", opset_version=13, input_names=["x"], output_names=["y"],
                              dynamic_axes={"x": {0: "N"}, "y": {0: "N"}})
            os.replace(path + ".tmp", path)
            x.numpy().astype("<f4").tofile(os.path.join(out_dir, name + ".in"))
            y.numpy().astype("<f4").tofile(os.path.join(out_dir, name + ".out"))
            with open(os.path.join(out_dir, name + ".shape.tmp"), "w") as f:
                f.write(" ".join(map(str, shape)) + "\n" + " ".join(map(str, y.shape)) + "\n")
            os.replace(os.path.join(out_dir, name + ".shape.tmp"), os.path.join(out_dir, name + ".shape"))
            print("OK", name, shape, tuple(y.shape), flush=True)
        except Exception as e:  # noqa: BLE001 (one model's export failure must not stop the others)
            print("EXPORTFAIL", name, repr(e)[:300], flush=True)


if __name__ == "__main__":
    main()
