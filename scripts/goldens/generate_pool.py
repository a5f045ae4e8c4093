#!/usr/bin/python3
"""Writes PyTorch goldens for the pooling layers.

Run with a Python that has torch (Debian's python3-torch 1.13):
    /usr/bin/python3 scripts/goldens/generate_pool.py
Output: java-api/src/test/resources/goldens/pool.safetensors (format: goldens_io.py). Each case has
<case>/input and <case>/output, and a spec "Layer key=value ..." with keys
  kernel, stride, padding, dilation (comma lists, one entry per spatial dimension),
  ceil (0/1), include_pad (0/1) for the windowed layers; output_size for the adaptive ones.
Every case has its own fixed seed (its index).
"""
import os

import torch
import torch.nn as nn

from goldens_io import write_goldens

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "java-api", "src", "test", "resources",
                   "goldens", "pool.safetensors")


def tup(v, nd):
    return list(v) if isinstance(v, (tuple, list)) else [v] * nd


def csv(v):
    return ",".join(str(int(x)) for x in v)


CASES = []


def pool_module(layer, kernel, stride=None, padding=0, dilation=1, ceil=False, include_pad=True):
    """The torch module for a pooling case and its spec line (also used by generate_nonfinite.py)."""
    nd = 2 if layer.endswith("2d") else 1
    stride = kernel if stride is None else stride
    if layer.startswith("Max"):
        m = getattr(nn, layer)(kernel, stride, padding, dilation=dilation, ceil_mode=ceil)
    else:
        m = getattr(nn, layer)(kernel, stride, padding, ceil_mode=ceil, count_include_pad=include_pad)
    spec = "%s kernel=%s stride=%s padding=%s dilation=%s ceil=%d include_pad=%d" % (
        layer, csv(tup(kernel, nd)), csv(tup(stride, nd)), csv(tup(padding, nd)), csv(tup(dilation, nd)), ceil,
        include_pad)
    return m, spec


def adaptive_spec(layer, output_size):
    nd = 2 if layer.endswith("2d") else 1
    return "%s output_size=%s" % (layer, csv(tup(output_size, nd)))


def window(name, layer, shape, kernel, stride=None, padding=0, dilation=1, ceil=False, include_pad=True, negative=False):
    m, spec = pool_module(layer, kernel, stride, padding, dilation, ceil, include_pad)
    CASES.append((name, spec, m, shape, negative))


def adaptive(name, layer, shape, output_size):
    spec = adaptive_spec(layer, output_size)
    CASES.append((name, spec, getattr(nn, layer)(output_size), shape, False))


# MaxPool1d
window("max1_k3", "MaxPool1d", (2, 3, 17), 3)
window("max1_k4_s3_p2", "MaxPool1d", (2, 3, 19), 4, 3, 2)
window("max1_dil2_s2_p1", "MaxPool1d", (2, 2, 23), 3, 2, 1, dilation=2)
window("max1_ceil", "MaxPool1d", (1, 3, 10), 3, 2, 0, ceil=True)
window("max1_ceil_dropped", "MaxPool1d", (2, 2, 5), 2, 3, 1, ceil=True)   # ceil window would start in padding
window("max1_unbatched", "MaxPool1d", (3, 11), 2, 1, 1)
window("max1_negative_pad", "MaxPool1d", (2, 2, 9), 3, 2, 1, negative=True)
# MaxPool2d
window("max2_k2", "MaxPool2d", (2, 3, 7, 9), 2)
window("max2_k3_s2_p1", "MaxPool2d", (2, 3, 11, 13), 3, 2, 1)
window("max2_rect", "MaxPool2d", (1, 2, 8, 10), (2, 3), (1, 2), (1, 0))
window("max2_dil2_s2_p1", "MaxPool2d", (2, 2, 13, 15), 3, 2, 1, dilation=2)
window("max2_dil_rect", "MaxPool2d", (1, 2, 12, 14), (2, 3), (2, 3), (1, 1), dilation=(3, 2))
window("max2_ceil", "MaxPool2d", (2, 2, 8, 9), 3, 2, 0, ceil=True)
window("max2_ceil_p1", "MaxPool2d", (1, 3, 10, 11), 3, 2, 1, ceil=True)
window("max2_ceil_dropped", "MaxPool2d", (2, 2, 5, 8), 2, 3, 1, ceil=True)
window("max2_ceil_dil", "MaxPool2d", (1, 2, 12, 13), 3, 3, 1, dilation=2, ceil=True)
window("max2_unbatched", "MaxPool2d", (3, 7, 6), 3, 2, 1)
window("max2_negative_pad", "MaxPool2d", (2, 2, 6, 7), 3, 2, 1, negative=True)
# AvgPool1d
window("avg1_k3", "AvgPool1d", (2, 3, 17), 3)
window("avg1_k3_s2_p1_incl", "AvgPool1d", (2, 3, 16), 3, 2, 1)
window("avg1_k3_s2_p1_excl", "AvgPool1d", (2, 3, 16), 3, 2, 1, include_pad=False)
window("avg1_ceil_incl", "AvgPool1d", (2, 2, 10), 3, 2, 1, ceil=True)
window("avg1_ceil_excl", "AvgPool1d", (2, 2, 10), 3, 2, 1, ceil=True, include_pad=False)
window("avg1_ceil_nopad_incl", "AvgPool1d", (1, 2, 8), 3, 2, 0, ceil=True)
window("avg1_ceil_dropped", "AvgPool1d", (2, 2, 5), 2, 3, 1, ceil=True)
window("avg1_unbatched", "AvgPool1d", (3, 13), 4, 3, 2)
# AvgPool2d
window("avg2_k2", "AvgPool2d", (2, 3, 7, 9), 2)
window("avg2_k3_s2_p1_incl", "AvgPool2d", (2, 3, 11, 12), 3, 2, 1)
window("avg2_k3_s2_p1_excl", "AvgPool2d", (2, 3, 11, 12), 3, 2, 1, include_pad=False)
window("avg2_rect", "AvgPool2d", (1, 2, 9, 10), (3, 2), (2, 1), (1, 1))
window("avg2_rect_excl", "AvgPool2d", (1, 2, 9, 10), (3, 2), (2, 1), (1, 1), include_pad=False)
window("avg2_ceil_incl", "AvgPool2d", (2, 2, 10, 11), 3, 2, 1, ceil=True)
window("avg2_ceil_excl", "AvgPool2d", (2, 2, 10, 11), 3, 2, 1, ceil=True, include_pad=False)
window("avg2_ceil_nopad_incl", "AvgPool2d", (1, 3, 8, 8), 3, 2, 0, ceil=True)
window("avg2_ceil_rect_incl", "AvgPool2d", (1, 2, 9, 12), (3, 4), (2, 3), (1, 2), ceil=True)
window("avg2_ceil_dropped", "AvgPool2d", (2, 2, 5, 8), 2, 3, 1, ceil=True)
window("avg2_unbatched", "AvgPool2d", (3, 7, 6), 3, 2, 1, ceil=True)
# AdaptiveAvgPool1d
adaptive("aavg1_divisible", "AdaptiveAvgPool1d", (2, 3, 12), 4)
adaptive("aavg1_10_to_3", "AdaptiveAvgPool1d", (2, 3, 10), 3)
adaptive("aavg1_7_to_4", "AdaptiveAvgPool1d", (1, 2, 7), 4)
adaptive("aavg1_5_to_8", "AdaptiveAvgPool1d", (2, 2, 5), 8)
adaptive("aavg1_global", "AdaptiveAvgPool1d", (2, 3, 9), 1)
adaptive("aavg1_unbatched", "AdaptiveAvgPool1d", (3, 11), 4)
# AdaptiveAvgPool2d / AdaptiveMaxPool2d
for layer, short in (("AdaptiveAvgPool2d", "aavg2"), ("AdaptiveMaxPool2d", "amax2")):
    adaptive(short + "_divisible", layer, (2, 3, 8, 12), (4, 3))
    adaptive(short + "_7x9_to_3x4", layer, (2, 3, 7, 9), (3, 4))
    adaptive(short + "_6x10_to_4x5", layer, (1, 2, 6, 10), (4, 5))
    adaptive(short + "_3x3_to_5x7", layer, (1, 2, 3, 3), (5, 7))
    adaptive(short + "_global", layer, (2, 4, 5, 7), 1)
    adaptive(short + "_global_divisible", layer, (1, 3, 6, 6), (1, 1))
    adaptive(short + "_unbatched", layer, (3, 10, 7), (3, 3))


def main():
    out = []
    for seed, (name, spec, m, shape, negative) in enumerate(CASES):
        torch.manual_seed(seed)
        x = torch.randn(*shape)
        if negative:
            x = -x.abs() - 1   # all below zero: zero padding would win a max, -inf padding must not
        with torch.no_grad():
            y = m(x)
        out.append((name, spec, {"input": x, "output": y}))
    write_goldens(OUT, out)
    print("wrote %d cases to %s (%d bytes)" % (len(out), os.path.normpath(OUT), os.path.getsize(OUT)))


if __name__ == "__main__":
    main()
