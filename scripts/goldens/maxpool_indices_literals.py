#!/usr/bin/env python3
"""Prints the literals of java-api's MaxPoolIndicesTest: PyTorch's max pooling with return_indices=True
(Debian's torch 1.13), and from its indices ONNX's (flat over [N, C, spatial...], row- or column-major).
Run with /usr/bin/python3; paste the printed arrays into the test."""
import numpy as np
import torch
import torch.nn.functional as F

nan, inf = float('nan'), float('inf')


def show(name, t):
    def f(v):
        if isinstance(v, float) and v != v:
            return "NAN"
        if v == -inf:
            return "NEG_INF"
        return repr(v) + ("f" if isinstance(v, float) else "")
    print(name, ", ".join(f(v) for v in t.flatten().tolist()))


torch.manual_seed(0)
# [2, 2, 5, 6]: ties, two NaNs in one window, -inf columns in the last plane
x = torch.randint(-3, 4, (2, 2, 5, 6)).float()
x[0, 0, 1, 1] = nan
x[0, 0, 1, 3] = nan
x[1, 1, :, :2] = -inf
show("X", x)
y, i = F.max_pool2d(x, (3, 2), (2, 1), (1, 1), (1, 2), ceil_mode=True, return_indices=True)
print(list(y.shape))
show("Y", y)
plane = np.arange(4).reshape(2, 2, 1, 1) * 30   # torch counts within each [H, W] plane, ONNX over the whole input
ii = i.numpy()
show("INDICES", torch.tensor(plane + ii))
show("INDICES_COLUMN_MAJOR", torch.tensor(plane + (ii % 6) * 5 + ii // 6))   # storage_order 1: w * H + h

# asymmetric ONNX pads [top 0, left 1, bottom 2, right 0]: torch pools the -inf-padded input; indices shifted back
x2 = torch.randn(1, 1, 5, 5)
show("x2", x2)
y2, i2 = F.max_pool2d(F.pad(x2, (1, 0, 0, 2), value=-inf), 3, 2, return_indices=True)
print(list(y2.shape))
show("y2", y2)
show("i2", (i2 // 6) * 5 + (i2 % 6 - 1))

# 1-D with padding and a NaN
y3, i3 = F.max_pool1d(torch.tensor([[[1., 5., 5., 2., nan, 3., 4.]]]), 2, 2, 1, return_indices=True)
show("y3", y3)
show("i3", i3)
