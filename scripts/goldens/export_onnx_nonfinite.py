#!/usr/bin/python3
"""Exports small PyTorch modules to ONNX with inputs holding NaN, +-inf, huge and subnormal values, with PyTorch's
outputs as goldens: the places where an ONNX graph run op by op would not give PyTorch's value, or where oneDNN's
kernels alone drop a NaN.

Run with Debian's /usr/bin/python3 (python3-torch 1.13):
    /usr/bin/python3 scripts/goldens/export_onnx_nonfinite.py OUT_DIR
Writes into OUT_DIR (produced at test time into a cache by onnx/ OnnxNonFiniteTest, never committed):
  <case>.opset<k>.onnx       torch.onnx.export (TorchScript exporter), input "input", output "output", opsets 13 and 17
  nonfinite.goldens.safetensors   per case: input_<case>, output_<case> (PyTorch, float32)
Cases:
  log_sigmoid    nn.LogSigmoid (exported as Log(Sigmoid(x))): x from -3e38 to +inf; the sigmoid of x below about -88
                 is a subnormal or 0, PyTorch gives x
  logsumexp      torch.logsumexp over dim 1 (ReduceLogSumExp): rows with +inf, only -inf, NaN, huge finite values
  pow            torch.pow(a, b) of two inputs: C's pow special cases (1 ** NaN = 1, (-1) ** inf = 1, NaN ** 0 = 1, 0 ** -1)
  sign           torch.sign: NaN gives 0 (NumPy would give NaN)
  conv_relu_pool Conv2d(2, 4, 3, padding 1), ReLU, MaxPool2d(3, 2, 1) on a batch of 3 images, a +inf pixel in the second,
                 a NaN and a -inf pixel in the third: the NaN reaches the pooling windows, where oneDNN's maximum
                 alone skips it; also
                 input_conv_relu_pool_finite / output_... (an ordinary image: the plan's proven-finite path)
  upsample_bilinear, upsample_bilinear_ac, upsample_linear, upsample_bicubic
                 F.interpolate (Resize) of images and lines holding +-inf and NaN: bilinear x2 (half_pixel), bilinear to
                 7x7 with align_corners (source positions on the pixels), linear to 15 of 8 with align_corners (a 1-D line), bicubic to 7x7 with
                 align_corners: PyTorch reads the neighbour of weight 0 too, so an infinity there gives NaN (0 * inf)
Weights: PyTorch's initialisation under torch.manual_seed(SEED). The goldens file is written last.
"""
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from goldens_io import write_safetensors  # noqa: E402

SEED = 20261205
OPSETS = (13, 17)
NAN, INF = float("nan"), float("inf")


class Pow(nn.Module):
    def forward(self, x):
        return torch.pow(x[0], x[1])


class LogSumExp(nn.Module):
    def forward(self, x):
        return torch.logsumexp(x, 1)


class Sign(nn.Module):
    def forward(self, x):
        return torch.sign(x)


class Interpolate(nn.Module):
    def __init__(self, **kwargs):
        super().__init__()
        self.kwargs = kwargs

    def forward(self, x):
        return nn.functional.interpolate(x, **self.kwargs)


def cases():
    torch.manual_seed(SEED)
    g = torch.Generator().manual_seed(SEED + 1)
    tail = [-3e38, -1e30, -1e4, -120.0, -104.0, -100.0, -88.0, -87.0, -20.0, -1.0, -1e-45, -0.0, 0.0, 1e-45, 1.0, 20.0, 88.0, 1e30,
            3e38, INF, -INF, NAN]
    # (name, module, input[, an ordinary input for the same model])
    yield "log_sigmoid", nn.LogSigmoid(), torch.tensor([tail, list(reversed(tail))])
    rows = torch.randn(6, 5, generator=g)
    rows[0, 2] = INF
    rows[1, :] = -INF
    rows[2, 3] = NAN
    rows[3, 1] = -INF
    rows[4, 0], rows[4, 4] = 1e30, 3e38
    rows[5, 2], rows[5, 3] = INF, -INF
    yield "logsumexp", LogSumExp(), rows
    base = [1.0, 1.0, 1.0, -1.0, -1.0, NAN, NAN, 0.0, 0.0, -0.0, 2.0, -2.0, -2.0, INF, -INF, 0.5, 3e38]
    expo = [NAN, INF, -INF, INF, -INF, 0.0, 1.0, -1.0, 0.0, -1.0, NAN, 0.5, 3.0, -1.0, 3.0, INF, 2.0]
    yield "pow", Pow(), torch.tensor([base, expo])
    yield "sign", Sign(), torch.tensor([[NAN, INF, -INF, 0.0, -0.0, 1e-45, -1e-45, 3e38, -2.5, 7.0]])
    image = torch.randn(3, 2, 8, 8, generator=g)
    image[2, 0, 1, 1] = NAN
    image[1, 1, 5, 2] = INF
    image[2, 0, 6, 6] = -INF
    yield "conv_relu_pool", nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2, 1)).eval(), image, \
        torch.randn(3, 2, 8, 8, generator=g)
    pixels = torch.randn(1, 2, 4, 4, generator=g)
    pixels[0, 0, 1, 2] = INF      # interior
    pixels[0, 0, 3, 3] = -INF     # last row and column
    pixels[0, 1, 0, 1] = NAN      # first row
    pixels[0, 1, 2, 0] = INF      # first column
    yield "upsample_bilinear", Interpolate(scale_factor=2.0, mode="bilinear", align_corners=False), pixels
    yield "upsample_bilinear_ac", Interpolate(size=(7, 7), mode="bilinear", align_corners=True), pixels
    line = torch.tensor([[[1.0, 2.0, INF, 4.0, 5.0, NAN, 7.0, -INF], [INF, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]]])
    # 15 outputs from 8 with align_corners: the ratio 7 / 14 is exact in float, so PyTorch's float ratio and ONNX's
    # arithmetic put the even outputs on the elements alike (with scale_factor=3, PyTorch's float 1/3 misses them by 3e-8)
    yield "upsample_linear", Interpolate(size=15, mode="linear", align_corners=True), line
    yield "upsample_bicubic", Interpolate(size=(7, 7), mode="bicubic", align_corners=True), pixels


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: export_onnx_nonfinite.py OUT_DIR")
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    goldens = {}
    for name, model, x, *finite in cases():
        with torch.no_grad():
            y = model(x)
            for f in finite:
                goldens["input_%s_finite" % name] = f.contiguous()
                goldens["output_%s_finite" % name] = model(f).contiguous()
            for opset in OPSETS:
                path = os.path.join(out_dir, "%s.opset%d.onnx" % (name, opset))
                torch.onnx.export(model, (x,), path + ".tmp", opset_version=opset, input_names=["input"], output_names=["output"])
                os.replace(path + ".tmp", path)
        goldens["input_" + name] = x.contiguous()
        goldens["output_" + name] = y.contiguous()
    meta = {"producer": "scripts/goldens/export_onnx_nonfinite.py", "seed": str(SEED), "torch": torch.__version__}
    write_safetensors(os.path.join(out_dir, "nonfinite.goldens.safetensors"), goldens, meta)
    print("nonfinite: %d cases written to %s" % (len(goldens) // 2, out_dir))


if __name__ == "__main__":
    main()
