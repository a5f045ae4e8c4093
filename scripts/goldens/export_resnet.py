#!/usr/bin/python3
"""Exports torchvision ResNets (random weights, fixed seed) with PyTorch's logits as goldens.

Run with Debian's /usr/bin/python3 (python3-torch 1.13, python3-torchvision 0.14):
    /usr/bin/python3 scripts/goldens/export_resnet.py OUT_DIR [--models resnet18,resnet50] [--no-onnx]
    /usr/bin/python3 scripts/goldens/export_resnet.py --keys java-api/src/test/resources/models
The second form writes only small committed references for resnet18/34/50: M.keys.txt (one
"state_dict key<TAB>shape<TAB>dtype" line per entry, in state_dict order) and M.repr.txt
(torchvision's repr), which ResNetsTest compares with the Java builders without needing Python.
Writes, for each model M, into OUT_DIR (created if missing; the files are large, ~45 MB for
resnet18 and ~100 MB for resnet50, so they are produced at test/bench time, never committed):
  M.safetensors          the state_dict under torchvision's keys (F32; num_batches_tracked I64)
  M.onnx                 the same model, torch.onnx.export, opset 13, dynamic batch dimension
  M.goldens.safetensors  input [2,3,112,112] and logits [2,1000] (PyTorch, eval mode);
                         input_small [1,3,64,64] and logits_small [1,1000] (for the slow
                         pure-Java reference path); metadata: torch/torchvision versions, seed
The goldens file is written last (each file to a .tmp, then renamed): if it exists, the rest do.

No pretrained download is reachable here, so the weights are torchvision's own random
initialisation under torch.manual_seed(SEED). BatchNorm would then be the identity map
(weight 1, bias 0, mean 0, var 1), which would hide a bug that ignores a statistic, so its
affine parameters are randomized, then its running statistics are calibrated on random images
(train-mode forward passes with cumulative averaging, so activations stay of order one through
the depth instead of exploding), then perturbed per channel; num_batches_tracked gets a random
count. The model is evaluated in eval() mode (running statistics), like the Java inference.
"""
import argparse
import inspect
import os
import sys

import torch
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from goldens_io import write_safetensors  # noqa: E402

SEED = 20240501
BUILDERS = {"resnet18": torchvision.models.resnet18, "resnet34": torchvision.models.resnet34,
            "resnet50": torchvision.models.resnet50}


def build(name):
    torch.manual_seed(SEED)
    model = BUILDERS[name](weights=None)
    g = torch.Generator().manual_seed(SEED + 1)
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    with torch.no_grad():
        for bn in bns:
            c = bn.num_features
            bn.weight.copy_(torch.rand(c, generator=g) + 0.5)          # U(0.5, 1.5)
            bn.bias.copy_(torch.randn(c, generator=g) * 0.1)
            bn.momentum = None                                          # cumulative average over the calibration batches
            bn.reset_running_stats()
        model.train()
        for _ in range(3):
            model(torch.randn(4, 3, 96, 96, generator=g))
        for bn in bns:
            c = bn.num_features
            bn.running_mean.add_(torch.randn(c, generator=g) * 0.05 * bn.running_var.sqrt())
            bn.running_var.mul_(torch.rand(c, generator=g) * 0.5 + 0.75)   # x U(0.75, 1.25)
            bn.num_batches_tracked.fill_(int(torch.randint(1, 100000, (1,), generator=g)))
            bn.momentum = 0.1
    model.eval()
    return model, g


def export(name, out_dir, onnx):
    model, g = build(name)
    meta = {"producer": "scripts/goldens/export_resnet.py", "model": name, "seed": str(SEED),
            "torch": torch.__version__, "torchvision": torchvision.__version__}
    write_safetensors(os.path.join(out_dir, name + ".safetensors"), model.state_dict(), meta)
    x = torch.randn(2, 3, 112, 112, generator=g)
    x_small = torch.randn(1, 3, 64, 64, generator=g)
    with torch.no_grad():
        logits, logits_small = model(x), model(x_small)
    if onnx:
        path = os.path.join(out_dir, name + ".onnx")
        # torch >= 2.9 defaults to the dynamo exporter; keep the TorchScript one where it can be chosen.
        legacy = {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}
        dummy = torch.randn(1, 3, 224, 224, generator=g)
        names = dict(input_names=["input"], output_names=["logits"], dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
        try:
            torch.onnx.export(model, dummy, path + ".tmp", opset_version=13, **names, **legacy)
        except Exception as e:  # a torch whose TorchScript exporter is gone: the dynamo one (opset >= 18)
            if not legacy:
                raise
            print("TorchScript ONNX export failed (%s); using the dynamo exporter" % e, file=sys.stderr)
            torch.onnx.export(model, dummy, path + ".tmp", opset_version=18, dynamo=True, **names)
        os.replace(path + ".tmp", path)
    write_safetensors(os.path.join(out_dir, name + ".goldens.safetensors"),
                     {"input": x, "logits": logits, "input_small": x_small, "logits_small": logits_small}, meta)
    print("%s: logits max-abs %.4g, written to %s" % (name, float(logits.abs().max()), out_dir))


def write_keys(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    for name, builder in BUILDERS.items():
        model = builder(weights=None)
        with open(os.path.join(out_dir, name + ".keys.txt"), "w") as f:
            for k, t in model.state_dict().items():
                f.write("%s\t%s\t%s\n" % (k, list(t.shape), "I64" if t.dtype == torch.int64 else "F32"))
        with open(os.path.join(out_dir, name + ".repr.txt"), "w") as f:
            f.write(repr(model) + "\n")
    print("keys and reprs written to", out_dir)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out_dir", nargs="?")
    p.add_argument("--keys", metavar="DIR", help="only write the small key/repr references to DIR")
    p.add_argument("--models", default="resnet18,resnet50", help="comma-separated, of " + ",".join(BUILDERS))
    p.add_argument("--no-onnx", action="store_true", help="skip the ONNX export")
    a = p.parse_args()
    if a.keys:
        write_keys(a.keys)
        return
    if not a.out_dir:
        p.error("OUT_DIR is required")
    os.makedirs(a.out_dir, exist_ok=True)
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    for name in a.models.split(","):
        if name not in BUILDERS:
            p.error("unknown model %r (known: %s)" % (name, ", ".join(BUILDERS)))
        export(name, a.out_dir, not a.no_onnx)


if __name__ == "__main__":
    main()
