#!/usr/bin/python3
"""Writes PyTorch goldens for NaN, infinities and extreme values (docs/numerics.md).

Run with a Python that has torch (Debian's python3-torch 1.13):
    /usr/bin/python3 scripts/goldens/generate_nonfinite.py
Output: java-api/src/test/resources/goldens/nonfinite.safetensors (format: goldens_io.py), read by
NonFiniteGoldenTest (eager, both backends) and CompiledNonFiniteTest (compiled plans). Each case has
<case>/input, <case>/output, <case>/param:<name> for a layer's state_dict, and a spec
"Layer key=value ..." whose keys are:
  elementwise: ReLU, LeakyReLU negative_slope=, ELU alpha=, GELU approximate=, SiLU, Sigmoid, Tanh;
  Softmax dim=; LayerNorm shape= eps=; BatchNorm2d features= eps=; KMaxPool1d k=;
  Linear in= out= [activation=ReLU|GELU|...]: the activation fused into the matrix product;
  pools: the keys of generate_pool.py (kernel, stride, padding, dilation, ceil, include_pad; output_size);
  Compiled net=<name>: a small network the test builds in code (see CompiledNonFiniteTest), its
  parameters given here.
The special values are placed by hand at chosen positions, everything else is seeded random.
"""
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

from generate_pool import adaptive_spec, pool_module
from goldens_io import write_goldens

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "java-api", "src", "test", "resources",
                   "goldens", "nonfinite.safetensors")

NAN, INF = float("nan"), float("inf")
# Every special value, then ordinary ones either side of the activations' interesting ranges.
SPECIALS = [NAN, INF, -INF, -0.0, 3e38, -3e38, 1e-45, -1e-45, 0.0, 1.5, -2.5, 20.0, -20.0, 100.0, -100.0,
            1.7e38, -1.7e38, 1e30, -1e30, 88.7, -88.7, 5.0, -5.0]

cases = []


def add(name, spec, x, y, params=None):
    tensors = {"input": x}
    for k, v in (params or {}).items():
        tensors["param:" + k] = v
    tensors["output"] = y
    cases.append((name, spec, tensors))


def specials(rows):
    """[rows, len(SPECIALS)]: each row the specials rotated, so oneDNN's vector body and tail both see each."""
    n = len(SPECIALS)
    return torch.tensor([[SPECIALS[(i + r * 5) % n] for i in range(n)] for r in range(rows)], dtype=torch.float32)


def elementwise():
    x = specials(3)
    for name, spec, m in [
        ("relu", "ReLU", nn.ReLU()),
        ("leaky_relu", "LeakyReLU negative_slope=0.01", nn.LeakyReLU(0.01)),
        ("leaky_relu_0_2", "LeakyReLU negative_slope=0.2", nn.LeakyReLU(0.2)),
        ("elu", "ELU alpha=1.0", nn.ELU(1.0)),
        ("elu_0_5", "ELU alpha=0.5", nn.ELU(0.5)),
        ("gelu", "GELU approximate=none", nn.GELU()),
        ("gelu_tanh", "GELU approximate=tanh", nn.GELU(approximate="tanh")),
        ("silu", "SiLU", nn.SiLU()),
        ("sigmoid", "Sigmoid", nn.Sigmoid()),
        ("tanh", "Tanh", nn.Tanh()),
    ]:
        add(name, spec, x, m(x))


def softmax():
    rows = [[NAN, 1, 2, 0.5], [INF, 1, 2, 0.5], [-INF, 1, 2, 0.5], [INF, INF, 1, 0.5], [-INF, -INF, -INF, -INF],
            [3e38, -3e38, 1, 0.5], [1e-45, 0.0, -0.0, -1e-45], [1, 2, 3, 4], [-INF, 5, -INF, 5], [INF, -INF, 0, 1],
            [100, -100, 88, 3e38]]
    x = torch.tensor(rows, dtype=torch.float32)
    add("softmax_last", "Softmax dim=-1", x, F.softmax(x, -1))
    add("softmax_first", "Softmax dim=0", x.t().contiguous(), F.softmax(x.t().contiguous(), 0))
    x3 = torch.tensor(rows, dtype=torch.float32).reshape(11, 2, 2)   # a softmax over a middle axis
    add("softmax_middle", "Softmax dim=1", x3, F.softmax(x3, 1))


def layer_norm():
    g = torch.Generator().manual_seed(3)
    x = torch.randn(7, 5, generator=g)
    x[0, 1] = NAN
    x[1, 2] = INF
    x[2, 0] = -INF
    x[3, 3] = 1e-45
    x[4, 4] = -0.0
    m = nn.LayerNorm(5, eps=1e-5)
    with torch.no_grad():
        m.weight.copy_(torch.randn(5, generator=g))
        m.bias.copy_(torch.randn(5, generator=g))
    add("layer_norm", "LayerNorm shape=5 eps=1e-05", x, m(x).detach(), dict(m.state_dict()))


def batch_norm():
    g = torch.Generator().manual_seed(4)
    x = torch.randn(2, 3, 4, 4, generator=g)
    flat = x.view(-1)
    for i, v in zip([0, 5, 17, 30, 44, 61, 77, 90], [NAN, INF, -INF, 3e38, -3e38, 1e-45, -0.0, 1e30]):
        flat[i] = v
    m = nn.BatchNorm2d(3).eval()
    with torch.no_grad():
        m.weight.copy_(torch.randn(3, generator=g))
        m.bias.copy_(torch.randn(3, generator=g))
        m.running_mean.copy_(torch.randn(3, generator=g))
        m.running_var.copy_(torch.rand(3, generator=g) + 0.5)
    add("batch_norm2d", "BatchNorm2d features=3 eps=1e-05", x, m(x).detach(), dict(m.state_dict()))


def linear():
    g = torch.Generator().manual_seed(5)
    x = torch.randn(6, 8, generator=g)
    x[0, 0] = NAN
    x[1, 3] = INF
    x[2, 5] = -INF
    x[3, 1] = 1e30
    x[4, 7] = -1e30
    for act, spec, f in [(None, "", lambda t: t), ("relu", " activation=ReLU", F.relu),
                         ("gelu", " activation=GELU", F.gelu), ("leaky", " activation=LeakyReLU", lambda t: F.leaky_relu(t, 0.01)),
                         ("elu", " activation=ELU", F.elu), ("silu", " activation=SiLU", F.silu)]:
        m = nn.Linear(8, 5)
        with torch.no_grad():
            m.weight.copy_(torch.randn(5, 8, generator=g))
            m.bias.copy_(torch.randn(5, generator=g))
        add("linear" + ("_" + act if act else ""), "Linear in=8 out=5" + spec, x, f(m(x)).detach(), dict(m.state_dict()))


def pool(name, layer, x, kernel, stride=None, padding=0, dilation=1, ceil=False, include_pad=True):
    m, spec = pool_module(layer, kernel, stride, padding, dilation, ceil, include_pad)
    add(name, spec, x, m(x))


def adaptive(name, layer, x, output_size):
    add(name, adaptive_spec(layer, output_size), x, getattr(nn, layer)(output_size)(x))


def with_specials(shape, seed, places):
    """A seeded random tensor with the given (flat index, value) pairs written in."""
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(seed))
    flat = x.view(-1)
    for i, v in places:
        flat[i] = v
    return x


def pools():
    # 1-D: [2, 2, 12]; a NaN alone, a NaN next to +inf, -inf, a window of only -inf, huge values.
    p1 = [(1, NAN), (5, INF), (6, NAN), (9, -INF), (14, -INF), (15, -INF), (16, -INF), (20, 3e38), (21, 3e38),
          (30, -3e38), (31, INF), (32, -INF), (40, 1e-45), (44, NAN)]
    x1 = with_specials((2, 2, 12), 10, p1)
    pool("max1_k3", "MaxPool1d", x1, 3, 1, 1)
    pool("max1_k2_s2", "MaxPool1d", x1, 2)
    pool("max1_dil2_ceil", "MaxPool1d", x1, 3, 2, 1, dilation=2, ceil=True)
    pool("avg1_k3", "AvgPool1d", x1, 3, 1, 1)
    pool("avg1_k2_excl", "AvgPool1d", x1, 2, 2, 1, include_pad=False)
    adaptive("adaptive_avg1_4", "AdaptiveAvgPool1d", x1, 4)
    adaptive("adaptive_avg1_5", "AdaptiveAvgPool1d", x1, 5)
    # 2-D: [2, 2, 6, 6]
    p2 = [(0, NAN), (8, INF), (9, NAN), (20, -INF), (21, -INF), (26, -INF), (27, -INF), (40, 3e38), (41, 3e38),
          (47, INF), (53, -INF), (60, -3e38), (80, NAN), (100, 1e-45), (110, INF), (111, -INF)]
    x2 = with_specials((2, 2, 6, 6), 11, p2)
    pool("max2_k2", "MaxPool2d", x2, 2)
    pool("max2_k3_s1_p1", "MaxPool2d", x2, 3, 1, 1)
    pool("max2_k3_s2_ceil", "MaxPool2d", x2, 3, 2, 1, ceil=True)
    pool("avg2_k2", "AvgPool2d", x2, 2)
    pool("avg2_k3_s1_p1", "AvgPool2d", x2, 3, 1, 1)
    pool("avg2_k3_s2_excl", "AvgPool2d", x2, 3, 2, 1, include_pad=False)
    adaptive("adaptive_max2_3", "AdaptiveMaxPool2d", x2, 3)
    adaptive("adaptive_max2_4", "AdaptiveMaxPool2d", x2, 4)      # non-divisible: overlapping windows
    adaptive("adaptive_max2_1", "AdaptiveMaxPool2d", x2, 1)
    adaptive("adaptive_avg2_2", "AdaptiveAvgPool2d", x2, 2)
    adaptive("adaptive_avg2_4", "AdaptiveAvgPool2d", x2, 4)
    # Windows entirely in the padding (issue 11, defect 8): PyTorch gives -inf there.
    pool("max1_window_in_padding", "MaxPool1d", torch.tensor([[[5.0]], [[NAN]]]), 2, 1, 1, dilation=2)
    pool("max1_window_in_padding_long", "MaxPool1d", with_specials((1, 2, 3), 12, [(1, NAN)]), 2, 1, 1, dilation=3)
    pool("max2_window_in_padding", "MaxPool2d", with_specials((1, 2, 1, 3), 13, []), 2, 1, 1, dilation=2)
    pool("max2_window_in_padding_both", "MaxPool2d", with_specials((1, 1, 1, 1), 14, []), 2, 1, 1, dilation=2)


def kmax():
    x = with_specials((2, 3, 9), 15, [(0, NAN), (3, INF), (4, -INF), (10, 3e38), (11, -3e38), (12, NAN), (13, NAN),
                                        (20, -0.0), (21, 0.0), (30, -INF), (31, -INF), (40, INF), (41, INF), (50, 1e-45)])
    # DCNN's k-max pooling: the k largest (NaN counts as the largest, as in torch.topk) kept in their order.
    idx = torch.topk(x, 4, dim=-1).indices.sort(dim=-1).values
    add("kmax_k4", "KMaxPool1d k=4", x, x.gather(-1, idx))


def compiled():
    """Small networks run as compiled plans; the Java test builds the same modules."""
    g = torch.Generator().manual_seed(20)
    # One NaN, one +inf, one -inf and one huge pixel in different places of a 2x8x8 image.
    x = torch.randn(1, 2, 8, 8, generator=g)
    x[0, 0, 1, 1] = NAN
    x[0, 1, 5, 2] = INF
    x[0, 0, 6, 6] = -INF
    x[0, 1, 2, 6] = 1e30

    conv = nn.Conv2d(2, 4, 3, padding=1)
    with torch.no_grad():
        conv.weight.copy_(torch.randn(4, 2, 3, 3, generator=g))
        conv.bias.copy_(torch.randn(4, generator=g))
    net = nn.Sequential(conv, nn.ReLU())
    add("compiled_conv_relu", "Compiled net=conv_relu", x, net(x).detach(), dict(net.state_dict()))

    net = nn.Sequential(conv, nn.BatchNorm2d(4).eval(), nn.ReLU())
    with torch.no_grad():
        net[1].weight.copy_(torch.randn(4, generator=g))
        net[1].bias.copy_(torch.randn(4, generator=g))
        net[1].running_mean.copy_(torch.randn(4, generator=g))
        net[1].running_var.copy_(torch.rand(4, generator=g) + 0.5)
    add("compiled_conv_bn_relu", "Compiled net=conv_bn_relu", x, net(x).detach(), dict(net.state_dict()))

    # A residual block: conv-bn-relu-conv-bn, + identity, relu (the sum and the ReLU fused as post-ops).
    from torchvision.models.resnet import BasicBlock
    block = BasicBlock(2, 2).eval()
    with torch.no_grad():
        for p in block.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.5)
        for bn in (block.bn1, block.bn2):
            bn.running_mean.copy_(torch.randn(2, generator=g))
            bn.running_var.copy_(torch.rand(2, generator=g) + 0.5)
    add("compiled_basic_block", "Compiled net=basic_block", x, block(x).detach(), dict(block.state_dict()))

    net = nn.Sequential(nn.MaxPool2d(3, 1, 1))
    add("compiled_maxpool", "Compiled net=maxpool", x, net(x), {})
    small = torch.tensor([[[[5.0, NAN, -INF]]]])
    net = nn.Sequential(nn.MaxPool2d(2, 1, 1, dilation=2))
    add("compiled_maxpool_window_in_padding", "Compiled net=maxpool_window_in_padding", small, net(small), {})

    lin = nn.Linear(128, 6)
    with torch.no_grad():
        lin.weight.copy_(torch.randn(6, 128, generator=g))
        lin.bias.copy_(torch.randn(6, generator=g))
    net = nn.Sequential(nn.Flatten(), lin, nn.ReLU())
    add("compiled_linear_relu", "Compiled net=linear_relu", x, net(x).detach(), dict(net.state_dict()))
    net = nn.Sequential(nn.Flatten(), nn.Sigmoid(), nn.GELU(), nn.Tanh())
    add("compiled_activations", "Compiled net=activations", x, net(x).detach(), {})
    # Max pooling of a ReLU's output (values in [0, +inf] or NaN): the plan's NaN mask averages the input itself.
    net = nn.Sequential(conv, nn.ReLU(), nn.MaxPool2d(3, 2, 1))
    add("compiled_conv_relu_maxpool", "Compiled net=conv_relu_maxpool", x, net(x).detach(), dict(net.state_dict()))
    net = nn.Sequential(nn.ReLU(), nn.MaxPool2d(3, 1, 1))
    add("compiled_relu_maxpool", "Compiled net=relu_maxpool", x, net(x), {})


def main():
    elementwise()
    softmax()
    layer_norm()
    batch_norm()
    linear()
    pools()
    kmax()
    compiled()
    write_goldens(OUT, cases)
    print("wrote %d cases to %s" % (len(cases), os.path.normpath(OUT)))


if __name__ == "__main__":
    main()
