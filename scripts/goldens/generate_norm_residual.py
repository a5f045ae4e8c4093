#!/usr/bin/python3
"""Writes PyTorch goldens for BatchNorm1d/2d, LayerNorm, Residual, BasicBlock and Bottleneck.

Run with Debian's /usr/bin/python3 (torch 1.13):
    /usr/bin/python3 scripts/goldens/generate_norm_residual.py
Output: java-api/src/test/resources/goldens/norm_residual.safetensors (format: goldens_io.py).
Every module is in eval() mode (running statistics), with randomized running_mean/running_var,
affine parameters and num_batches_tracked, so a bug that ignores a statistic shows.
Parameters and buffers are stored under their exact state_dict keys, num_batches_tracked as
I64 like PyTorch keeps it. BasicBlock/Bottleneck are copied verbatim from torchvision 0.14
(torchvision/models/resnet.py), so the state_dict keys are torchvision's.
Residual has no PyTorch class: the one below (attributes f and projection) is the equivalent
whose state_dict names the Java Residual uses. Every case has its own fixed seed.
"""
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from goldens_io import write_goldens  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "java-api", "src", "test", "resources",
                   "goldens", "norm_residual.safetensors")


# --- torchvision/models/resnet.py (0.14), verbatim apart from type hints ---------------------
def conv3x3(in_planes, out_planes, stride=1, groups=1, dilation=1):
    """3x3 convolution with padding"""
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=dilation, groups=groups,
                     bias=False, dilation=dilation)


def conv1x1(in_planes, out_planes, stride=1):
    """1x1 convolution"""
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64, dilation=1,
                 norm_layer=None):
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        if groups != 1 or base_width != 64:
            raise ValueError("BasicBlock only supports groups=1 and base_width=64")
        if dilation > 1:
            raise NotImplementedError("Dilation > 1 not supported in BasicBlock")
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = norm_layer(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = norm_layer(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x
        out = self.conv1(x)
        out = self.bn1(out)
        out = self.relu(out)
        out = self.conv2(out)
        out = self.bn2(out)
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        out = self.relu(out)
        return out


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64, dilation=1,
                 norm_layer=None):
        super().__init__()
        if norm_layer is None:
            norm_layer = nn.BatchNorm2d
        width = int(planes * (base_width / 64.0)) * groups
        self.conv1 = conv1x1(inplanes, width)
        self.bn1 = norm_layer(width)
        self.conv2 = conv3x3(width, width, stride, groups, dilation)
        self.bn2 = norm_layer(width)
        self.conv3 = conv1x1(width, planes * self.expansion)
        self.bn3 = norm_layer(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x
        out = self.conv1(x)
        out = self.bn1(out)
        out = self.relu(out)
        out = self.conv2(out)
        out = self.bn2(out)
        out = self.relu(out)
        out = self.conv3(out)
        out = self.bn3(out)
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        out = self.relu(out)
        return out
# ---------------------------------------------------------------------------------------------


class Residual(nn.Module):
    """f(h) + h, or projection(h) + f(h): the equivalent of dev.panamadnn.nn.Residual."""

    def __init__(self, f, projection=None):
        super().__init__()
        self.f = f
        self.projection = projection

    def forward(self, h):
        return self.f(h) + (h if self.projection is None else self.projection(h))


def randomize_norms(module, gen):
    """Non-trivial running statistics and affine parameters for every BatchNorm/LayerNorm."""
    for m in module.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            c = m.num_features
            m.running_mean.copy_(torch.randn(c, generator=gen) * 0.5)
            m.running_var.copy_(torch.rand(c, generator=gen) * 1.5 + 0.5)
            m.num_batches_tracked.fill_(int(torch.randint(1, 100, (1,), generator=gen)))
        if isinstance(m, (nn.modules.batchnorm._BatchNorm, nn.LayerNorm)):
            if m.weight is not None:
                m.weight.copy_(torch.rand(m.weight.shape, generator=gen) + 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.2)


def case(cases, seed, name, spec, make, in_shape):
    torch.manual_seed(seed)
    m = make()
    gen = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        randomize_norms(m, gen)
    m.eval()
    x = torch.randn(*in_shape, generator=gen)
    with torch.no_grad():
        y = m(x.clone())
    tensors = {"input": x, "output": y}
    for k, v in m.state_dict().items():
        tensors["param:" + k] = v
    cases.append((name, spec, tensors))


def downsample(inplanes, outplanes, stride):
    return nn.Sequential(conv1x1(inplanes, outplanes, stride), nn.BatchNorm2d(outplanes))


def main():
    cases = []
    # BatchNorm1d: [N, C] and [N, C, L]
    case(cases, 101, "bn1d_2d", "BatchNorm1d features=5 eps=1e-05 affine=1", lambda: nn.BatchNorm1d(5), (4, 5))
    case(cases, 102, "bn1d_2d_b1", "BatchNorm1d features=3 eps=1e-05 affine=1", lambda: nn.BatchNorm1d(3), (1, 3))
    case(cases, 103, "bn1d_3d", "BatchNorm1d features=3 eps=0.001 affine=1", lambda: nn.BatchNorm1d(3, eps=1e-3), (2, 3, 7))
    case(cases, 104, "bn1d_3d_noaffine_b1", "BatchNorm1d features=4 eps=1e-05 affine=0",
         lambda: nn.BatchNorm1d(4, affine=False), (1, 4, 6))
    # BatchNorm2d
    case(cases, 201, "bn2d", "BatchNorm2d features=6 eps=1e-05 affine=1", lambda: nn.BatchNorm2d(6), (2, 6, 5, 4))
    case(cases, 202, "bn2d_b1", "BatchNorm2d features=3 eps=0.001 affine=1", lambda: nn.BatchNorm2d(3, eps=1e-3), (1, 3, 7, 5))
    case(cases, 203, "bn2d_noaffine", "BatchNorm2d features=4 eps=1e-05 affine=0",
         lambda: nn.BatchNorm2d(4, affine=False), (3, 4, 3, 3))
    case(cases, 204, "bn2d_c1", "BatchNorm2d features=1 eps=0.1 affine=1", lambda: nn.BatchNorm2d(1, eps=0.1), (2, 1, 4, 4))
    # LayerNorm over the last 1 or 2 dims
    case(cases, 301, "ln_1", "LayerNorm shape=8 eps=1e-05 affine=1", lambda: nn.LayerNorm(8), (3, 8))
    case(cases, 302, "ln_1_3d", "LayerNorm shape=6 eps=1e-05 affine=1", lambda: nn.LayerNorm(6), (2, 5, 6))
    case(cases, 303, "ln_1_noaffine_b1", "LayerNorm shape=7 eps=0.001 affine=0",
         lambda: nn.LayerNorm(7, eps=1e-3, elementwise_affine=False), (1, 7))
    case(cases, 304, "ln_2", "LayerNorm shape=4,5 eps=1e-05 affine=1", lambda: nn.LayerNorm([4, 5]), (2, 3, 4, 5))
    case(cases, 305, "ln_2_noaffine", "LayerNorm shape=3,4 eps=1e-05 affine=0",
         lambda: nn.LayerNorm([3, 4], elementwise_affine=False), (2, 3, 4))
    case(cases, 306, "ln_2_unbatched", "LayerNorm shape=3,4 eps=1e-05 affine=1", lambda: nn.LayerNorm([3, 4]), (3, 4))
    # Residual: identity and projection
    case(cases, 401, "res_identity_conv", "Residual f=conv_bn_relu in=4 out=4 stride=1 projection=none",
         lambda: Residual(nn.Sequential(nn.Conv2d(4, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU())), (2, 4, 6, 6))
    case(cases, 402, "res_identity_linear_b1", "Residual f=linear in=5 out=5 projection=none",
         lambda: Residual(nn.Linear(5, 5)), (1, 5))
    case(cases, 403, "res_projection_conv", "Residual f=conv_bn_relu in=3 out=8 stride=2 projection=conv1x1",
         lambda: Residual(nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.BatchNorm2d(8), nn.ReLU()),
                          nn.Conv2d(3, 8, 1, stride=2)), (2, 3, 7, 7))
    case(cases, 404, "res_projection_linear", "Residual f=linear_relu in=6 out=10 projection=linear",
         lambda: Residual(nn.Sequential(nn.Linear(6, 10), nn.ReLU()), nn.Linear(6, 10, bias=False)), (3, 6))
    # torchvision blocks
    case(cases, 501, "basic_s1", "BasicBlock inplanes=8 planes=8 stride=1 downsample=0",
         lambda: BasicBlock(8, 8), (2, 8, 6, 6))
    case(cases, 502, "basic_s1_b1", "BasicBlock inplanes=4 planes=4 stride=1 downsample=0",
         lambda: BasicBlock(4, 4), (1, 4, 5, 5))
    case(cases, 503, "basic_s2_ds", "BasicBlock inplanes=4 planes=8 stride=2 downsample=1",
         lambda: BasicBlock(4, 8, 2, downsample(4, 8, 2)), (2, 4, 7, 7))
    case(cases, 504, "basic_s2_ds_b1", "BasicBlock inplanes=6 planes=6 stride=2 downsample=1",
         lambda: BasicBlock(6, 6, 2, downsample(6, 6, 2)), (1, 6, 8, 8))
    case(cases, 601, "bottleneck_ds", "Bottleneck inplanes=8 planes=4 stride=1 downsample=1 groups=1 base_width=64 dilation=1",
         lambda: Bottleneck(8, 4, 1, downsample(8, 16, 1)), (2, 8, 5, 5))
    case(cases, 602, "bottleneck_g2_s2_b1",
         "Bottleneck inplanes=16 planes=4 stride=2 downsample=1 groups=2 base_width=32 dilation=1",
         lambda: Bottleneck(16, 4, 2, downsample(16, 16, 2), groups=2, base_width=32), (1, 16, 6, 6))
    case(cases, 603, "bottleneck_g2_w128", "Bottleneck inplanes=8 planes=2 stride=1 downsample=1 groups=2 base_width=128 dilation=1",
         lambda: Bottleneck(8, 2, 1, downsample(8, 8, 1), groups=2, base_width=128), (3, 8, 4, 5))
    case(cases, 604, "bottleneck_dil2", "Bottleneck inplanes=16 planes=4 stride=1 downsample=0 groups=1 base_width=64 dilation=2",
         lambda: Bottleneck(16, 4, dilation=2), (2, 16, 5, 5))
    write_goldens(OUT, cases)
    print("wrote %d cases to %s (%d bytes)" % (len(cases), os.path.normpath(OUT), os.path.getsize(OUT)))


if __name__ == "__main__":
    main()
