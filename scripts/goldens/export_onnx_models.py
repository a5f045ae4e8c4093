#!/usr/bin/python3
"""Exports torchvision models to ONNX (random weights, fixed seed) with PyTorch's logits as goldens.

Run with Debian's /usr/bin/python3 (python3-torch 1.13, python3-torchvision 0.14):
    /usr/bin/python3 scripts/goldens/export_onnx_models.py OUT_DIR [--models resnet18,vgg11_bn]
Writes, for each model M, into OUT_DIR (created if missing; tens of MB per model, so they are
produced at test time into a cache by onnx/ OnnxModelsTest, never committed):
  M.opset13.onnx, M.opset17.onnx   torch.onnx.export (TorchScript exporter), eval mode, input
                                   "input" [batch, 3, 128, 128] (vgg11_bn: 224) with a dynamic batch axis, output "logits"
  M.goldens.safetensors            input_b1 [1,3,S,S], logits_b1; input_b2 [2,3,S,S], logits_b2
                                   (PyTorch, eval mode); metadata: torch/torchvision versions, seed
The goldens file is written last (each file to a .tmp, then renamed): if it exists, the rest do.

No pretrained download is reachable here, so the weights are torchvision's own random
initialisation under torch.manual_seed(SEED). BatchNorm would then be the identity map, which
would hide a bug that ignores a statistic, so (as scripts/goldens/export_resnet.py does) its affine
parameters are randomized, its running statistics calibrated on random images in train mode
(cumulative average, so activations stay of order one through the depth), then perturbed.
"""
import argparse
import os
import sys

import torch
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from goldens_io import write_safetensors  # noqa: E402

SEED = 20261203
SIZE = 128
SIZES = {"vgg11_bn": 224}   # its AdaptiveAvgPool2d((7, 7)) exports only where 7 divides the feature map
OPSETS = (13, 17)
TV = torchvision.models
BUILDERS = {
    "resnet18": lambda: TV.resnet18(weights=None),
    "resnet50": lambda: TV.resnet50(weights=None),
    "mobilenet_v2": lambda: TV.mobilenet_v2(weights=None),
    "squeezenet1_1": lambda: TV.squeezenet1_1(weights=None),
    "densenet121": lambda: TV.densenet121(weights=None),
    "efficientnet_b0": lambda: TV.efficientnet_b0(weights=None),
    "shufflenet_v2_x1_0": lambda: TV.shufflenet_v2_x1_0(weights=None),
    "vgg11_bn": lambda: TV.vgg11_bn(weights=None),
    "regnet_y_400mf": lambda: TV.regnet_y_400mf(weights=None),
    "googlenet": lambda: TV.googlenet(weights=None, aux_logits=False, init_weights=True),
}


def build(name, size):
    torch.manual_seed(SEED)
    model = BUILDERS[name]()
    g = torch.Generator().manual_seed(SEED + 1)
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    with torch.no_grad():
        for bn in bns:
            c = bn.num_features
            bn.weight.copy_(torch.rand(c, generator=g) + 0.5)          # U(0.5, 1.5)
            bn.bias.copy_(torch.randn(c, generator=g) * 0.1)
            bn.momentum = None                                          # cumulative average over the calibration batches
            bn.reset_running_stats()
        if bns:
            model.train()
            for _ in range(2):
                model(torch.randn(4, 3, size, size, generator=g))
        for bn in bns:
            c = bn.num_features
            bn.running_mean.add_(torch.randn(c, generator=g) * 0.05 * bn.running_var.sqrt())
            bn.running_var.mul_(torch.rand(c, generator=g) * 0.5 + 0.75)   # x U(0.75, 1.25)
            bn.momentum = 0.1
    model.eval()
    return model, g


def export(name, out_dir):
    size = SIZES.get(name, SIZE)
    model, g = build(name, size)
    meta = {"producer": "scripts/goldens/export_onnx_models.py", "model": name, "seed": str(SEED),
            "torch": torch.__version__, "torchvision": torchvision.__version__}
    x1 = torch.randn(1, 3, size, size, generator=g)
    x2 = torch.randn(2, 3, size, size, generator=g)
    with torch.no_grad():
        y1, y2 = model(x1), model(x2)
        for opset in OPSETS:
            path = os.path.join(out_dir, "%s.opset%d.onnx" % (name, opset))
            torch.onnx.export(model, x1, path + ".tmp", opset_version=opset, input_names=["input"], output_names=["logits"],
                              dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
            os.replace(path + ".tmp", path)
    write_safetensors(os.path.join(out_dir, name + ".goldens.safetensors"),
                      {"input_b1": x1, "logits_b1": y1, "input_b2": x2, "logits_b2": y2}, meta)
    print("%s: logits max-abs %.4g, written to %s" % (name, float(y2.abs().max()), out_dir))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out_dir")
    p.add_argument("--models", default=",".join(BUILDERS), help="comma-separated, of " + ",".join(BUILDERS))
    a = p.parse_args()
    os.makedirs(a.out_dir, exist_ok=True)
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    for name in a.models.split(","):
        if name not in BUILDERS:
            p.error("unknown model %r (known: %s)" % (name, ", ".join(BUILDERS)))
        export(name, a.out_dir)


if __name__ == "__main__":
    main()
