#!/usr/bin/python3
"""Writes PyTorch goldens for issue 14's eager layers: Embedding, GroupNorm, Upsample, cat/split/chunk,
broadcasting add/sub/mul/div, Identity/Dropout (in a Sequential), AdaptiveMaxPool1d, FiLM and the
FiLM-ed residual block.

Run with Debian's /usr/bin/python3 (torch 1.13):
    /usr/bin/python3 scripts/goldens/generate_layers14.py
Output: java-api/src/test/resources/goldens/layers14.safetensors (format: goldens_io.py), and the
state_dict of the Sequential with Dropout as a plain checkpoint, sequential_dropout_state_dict.safetensors.
Every case has its own fixed seed; modules are in eval() mode. Case tensors besides input/output:
  Embedding: input is the I64 index tensor. cat: in1, in2 (further inputs). split/chunk: piece0..k
  (output is piece0). binary ops: other (the second operand). FiLM and FiLMBlock: cond (z).
FiLM has no torch.nn class: the one below (gamma and beta each a Linear of the conditioning input,
Perez et al. 2018) defines the state_dict names the Java FiLM uses; FiLMBlock is the paper's
residual block (1x1 conv, ReLU, 3x3 conv, BatchNorm without affine, FiLM, ReLU, + the first ReLU's output).
"""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from goldens_io import write_goldens, write_safetensors  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "java-api", "src", "test", "resources",
                   "goldens", "layers14.safetensors")
STATE_DICT = os.path.join(os.path.dirname(OUT), "sequential_dropout_state_dict.safetensors")


class FiLM(nn.Module):
    def __init__(self, cond_dim, channels):
        super().__init__()
        self.gamma = nn.Linear(cond_dim, channels)
        self.beta = nn.Linear(cond_dim, channels)

    def forward(self, x, z):
        shape = (z.shape[0], -1) + (1,) * (x.dim() - 2)
        return self.gamma(z).view(shape) * x + self.beta(z).view(shape)


class FiLMBlock(nn.Module):
    def __init__(self, in_channels, channels, cond_dim):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, channels, 1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
        self.bn = nn.BatchNorm2d(channels, affine=False)
        self.film = FiLM(cond_dim, channels)

    def forward(self, x, z):
        h = F.relu(self.conv1(x))
        out = F.relu(self.film(self.bn(self.conv2(h)), z))
        return out + h


def params(m):
    return {"param:" + k: v for k, v in m.state_dict().items()}


def randomise(m, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for k, v in m.state_dict().items():
            if k.endswith("running_var"):
                v.copy_(torch.rand(v.shape, generator=g) + 0.5)
            elif v.dtype.is_floating_point:
                v.copy_(torch.randn(v.shape, generator=g) * 0.5 + (1.0 if k.endswith("weight") and v.dim() == 1 else 0.0))


def main():
    cases = []

    def add(name, spec, tensors):
        cases.append((name, spec, tensors))

    # --- Embedding -----------------------------------------------------------------------------
    for i, (num, dim, pad, shape) in enumerate([(10, 4, None, (2, 5)), (10, 4, 0, (3, 4)), (7, 3, -1, (6,)), (5, 6, 2, (2, 2, 3))]):
        torch.manual_seed(100 + i)
        m = nn.Embedding(num, dim, padding_idx=pad).eval()
        idx = torch.randint(0, num, shape)
        idx.view(-1)[0] = m.padding_idx if m.padding_idx is not None else 0
        add("embedding%d" % i, "Embedding num=%d dim=%d padding_idx=%s" % (num, dim, "none" if pad is None else pad),
            dict(params(m), input=idx, output=m(idx).detach()))
    torch.manual_seed(110)
    w = torch.randn(6, 5)
    m = nn.Embedding.from_pretrained(w, padding_idx=3)
    idx = torch.tensor([[3, 0, 5], [1, 3, 2]])
    add("embedding_pretrained", "EmbeddingPretrained num=6 dim=5 padding_idx=3", dict(params(m), input=idx, output=m(idx).detach()))

    # --- GroupNorm -----------------------------------------------------------------------------
    for i, (g, c, affine, shape) in enumerate([(1, 4, True, (2, 4, 3, 3)), (4, 4, True, (2, 4, 3, 3)), (2, 6, True, (3, 6, 5)),
                                               (3, 6, False, (2, 6, 2, 4)), (2, 4, True, (5, 4))]):
        torch.manual_seed(200 + i)
        m = nn.GroupNorm(g, c, affine=affine).eval()
        randomise(m, 200 + i)
        x = torch.randn(shape) * 2 + 0.5
        add("groupnorm%d" % i, "GroupNorm groups=%d channels=%d affine=%s" % (g, c, affine), dict(params(m), input=x, output=m(x).detach()))

    # --- Upsample ------------------------------------------------------------------------------
    ups = [("nearest", None, 2, None, (2, 3, 4, 5)), ("nearest", None, None, (5, 7), (1, 2, 3, 4)),
           ("nearest", None, 1.5, None, (1, 2, 4, 3)), ("nearest", None, 3, None, (2, 3, 4)),
           ("bilinear", False, 2, None, (2, 2, 3, 4)), ("bilinear", True, 2, None, (2, 2, 3, 4)),
           ("bilinear", False, None, (5, 3), (1, 2, 4, 6)), ("bilinear", True, None, (5, 3), (1, 2, 4, 6)),
           ("bilinear", False, 2.5, None, (1, 1, 3, 2)), ("linear", False, 2, None, (2, 3, 5)),
           ("linear", True, None, 9, (2, 3, 5)), ("bilinear", True, None, (1, 4), (1, 1, 3, 3))]
    for i, (mode, ac, scale, size, shape) in enumerate(ups):
        torch.manual_seed(300 + i)
        m = nn.Upsample(size=size, scale_factor=scale, mode=mode, align_corners=ac)
        x = torch.randn(shape)
        sz = "none" if size is None else (str(size) if isinstance(size, int) else "x".join(map(str, size)))
        add("upsample%d" % i, "Upsample mode=%s align_corners=%s scale=%s size=%s" % (mode, ac, scale, sz), dict(input=x, output=m(x)))

    # --- cat / split / chunk -------------------------------------------------------------------
    for i, (dim, shapes) in enumerate([(0, [(2, 3), (1, 3), (3, 3)]), (1, [(2, 3, 4), (2, 1, 4)]), (-1, [(2, 3, 4), (2, 3, 2), (2, 3, 1)]),
                                       (-3, [(1, 2, 2, 2), (1, 3, 2, 2)]),
                                       (1, [(2, 3), (2, 0), (2, 1)]), (0, [(0, 2), (0, 2)])]):   # empty inputs, and all empty
        torch.manual_seed(400 + i)
        ts = [torch.randn(s) for s in shapes]
        t = dict(input=ts[0], output=torch.cat(ts, dim))
        for j in range(1, len(ts)):
            t["in%d" % j] = ts[j]
        add("cat%d" % i, "cat dim=%d inputs=%d" % (dim, len(ts)), t)
    for i, (kind, arg, dim, shape) in enumerate([("split", "2", 1, (2, 5, 3)), ("split", "1x3x2", -1, (2, 6)), ("chunk", "3", 0, (5, 2)),
                                                 ("chunk", "4", -2, (2, 6, 3)), ("split", "4", 0, (3, 2)),
                                                 # empty pieces: sizes of 0, an empty dim split and chunked (PyTorch: one piece,
                                                 # and `chunks` pieces)
                                                 ("split", "0x3x0x2", 1, (2, 5, 3)), ("split", "2", 0, (0, 3)), ("chunk", "3", 1, (2, 0, 4))]):
        torch.manual_seed(500 + i)
        x = torch.randn(shape)
        if kind == "split":
            a = [int(v) for v in arg.split("x")]
            pieces = torch.split(x, a[0] if len(a) == 1 else a, dim)
        else:
            pieces = torch.chunk(x, int(arg), dim)
        t = dict(input=x, output=pieces[0])
        for j, p in enumerate(pieces):
            t["piece%d" % j] = p.contiguous()
        add("%s%d" % (kind, i), "%s arg=%s dim=%d pieces=%d" % (kind, arg, dim, len(pieces)), t)

    # --- broadcasting binary ops ---------------------------------------------------------------
    pairs = [((2, 3, 4), (4,)), ((2, 1, 4), (3, 1)), ((1,), (2, 3)), ((5, 1, 3, 1), (1, 4, 1, 2)), ((2, 3), (2, 3)),
             ((3, 1), (1, 3)), ((2, 3, 1, 5), (3, 4, 1)),
             ((2, 3, 2, 3, 2, 3), (2, 1, 2, 1, 2, 1))]   # six alternating kinds: past oneDNN's 5 dims, the plain loop
    ops = {"add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div}
    k = 0
    for op, f in ops.items():
        for a, b in pairs:
            torch.manual_seed(600 + k)
            x, y = torch.randn(a), torch.randn(b)
            if op == "div":
                y.view(-1)[0] = 0.0   # a division by zero: inf or nan as PyTorch
                x.view(-1)[-1] = float("nan")
            add("%s%d" % (op, k), "%s a=%s b=%s" % (op, "x".join(map(str, a)), "x".join(map(str, b))), dict(input=x, other=y, output=f(x, y)))
            k += 1

    # --- Dropout/Identity in a Sequential, AdaptiveMaxPool1d -----------------------------------
    torch.manual_seed(700)
    seq = nn.Sequential(nn.Linear(4, 5), nn.Dropout(0.3), nn.ReLU(), nn.Identity(), nn.Linear(5, 3)).eval()
    x = torch.randn(2, 4)
    add("sequential_dropout", "SequentialDropout p=0.3", dict(params(seq), input=x, output=seq(x).detach()))
    # The same state_dict as a plain checkpoint, for SafeTensors.loadInto (keys 0.* and 4.*: Dropout and Identity hold indices 1 and 3)
    write_safetensors(STATE_DICT, {k: v for k, v in seq.state_dict().items()})
    for i, (out, shape) in enumerate([(3, (2, 4, 7)), (1, (3, 5)), (4, (1, 2, 8)), (5, (2, 3, 5))]):
        torch.manual_seed(710 + i)
        x = torch.randn(shape)
        x.view(-1)[1] = float("nan")
        add("adaptivemax%d" % i, "AdaptiveMaxPool1d out=%d" % out, dict(input=x, output=nn.AdaptiveMaxPool1d(out)(x)))

    # --- FiLM and the FiLM-ed residual block ---------------------------------------------------
    for i, (cond, c, shape) in enumerate([(3, 4, (2, 4, 5, 5)), (5, 4, (2, 4, 7)), (2, 3, (3, 3))]):
        torch.manual_seed(800 + i)
        m = FiLM(cond, c).eval()
        x, z = torch.randn(shape), torch.randn(shape[0], cond)
        add("film%d" % i, "FiLM cond=%d channels=%d" % (cond, c), dict(params(m), input=x, cond=z, output=m(x, z).detach()))
    for i, (cin, c, cond, shape) in enumerate([(3, 4, 2, (2, 3, 5, 5)), (2, 6, 4, (1, 2, 4, 3))]):
        torch.manual_seed(850 + i)
        m = FiLMBlock(cin, c, cond).eval()
        randomise(m, 850 + i)
        x, z = torch.randn(shape), torch.randn(shape[0], cond)
        add("filmblock%d" % i, "FiLMBlock in=%d channels=%d cond=%d" % (cin, c, cond), dict(params(m), input=x, cond=z, output=m(x, z).detach()))
        if i == 0:   # also as a plain checkpoint, for SafeTensors.loadInto
            write_safetensors(os.path.join(os.path.dirname(OUT), "filmblock_state_dict.safetensors"), dict(m.state_dict()))

    # --- NaN and infinities, as PyTorch propagates them ------------------------------------------
    torch.manual_seed(900)
    m = nn.GroupNorm(2, 4).eval()
    randomise(m, 900)
    x = torch.randn(2, 4, 3)
    x[0, 0, 1] = float("nan")    # sample 0, group 0: all NaN; group 1 finite
    x[1, 3, 2] = float("inf")    # sample 1, group 1: inf - inf = NaN
    add("groupnorm_nonfinite", "GroupNorm groups=2 channels=4 affine=True", dict(params(m), input=x, output=m(x).detach()))
    for i, (mode, ac) in enumerate([("nearest", None), ("bilinear", False), ("bilinear", True)]):
        torch.manual_seed(910 + i)
        x = torch.randn(1, 2, 3, 4)
        x[0, 0, 1, 1] = float("inf")
        x[0, 1, 2, 0] = float("nan")
        x[0, 1, 0, 3] = -float("inf")
        m = nn.Upsample(scale_factor=2, mode=mode, align_corners=ac)
        add("upsample_nonfinite%d" % i, "Upsample mode=%s align_corners=%s scale=2 size=none" % (mode, ac), dict(input=x, output=m(x)))
    # Where a blend weight is exactly 0 an infinite neighbour gives inf * 0 = NaN, and whether it is exactly 0
    # depends on the kernel's index arithmetic (exact ratios like 0.5 give NaN at the end, 3/7 gives -inf).
    for n in (5, 6, 7, 8, 9, 11, 13):
        for j, row in enumerate(([1.0, 2.0, 3.0, -float("inf")], [1.0, float("inf"), 3.0, 4.0])):
            x = torch.tensor([[row]])
            add("upsample_edge%d_%d" % (n, j), "Upsample mode=linear align_corners=True scale=None size=%d" % n,
                dict(input=x, output=F.interpolate(x, size=n, mode="linear", align_corners=True)))
    # PyTorch's shortcuts, found by scripts/torch-probe (seed 5804): a linear dimension whose output size equals its
    # input's is copied whatever the scale (an infinity becomes NaN, x * 1 + x * 0, its neighbours stay finite); 2-D
    # nearest of a one-channel input (torch 1.13's channels-last kernel) copies an equal size and halves a doubled one,
    # while 1-D nearest and 2-D nearest of several channels take floor(dst / scale).
    same = [("linear", False, 1.1, None, (1, 2, 5), (0, 1, 2)), ("linear", True, None, 4, (2, 1, 4), (1, 0, 2)),
            ("bilinear", False, 1.25, None, (1, 3, 6, 2), (0, 2, 3, 1)), ("bilinear", True, None, (7, 4), (1, 2, 1, 4), (0, 1, 0, 2)),
            ("nearest", None, 1.1, None, (1, 1, 2, 3), None), ("nearest", None, 2.4, None, (1, 1, 2, 3), None),
            ("nearest", None, 1.1, None, (1, 2, 2, 3), None), ("nearest", None, 2.4, None, (2, 2, 2, 3), None),
            ("nearest", None, 2.2, None, (1, 2, 3), None), ("nearest", None, 1.1, None, (1, 1, 5), None)]
    for i, (mode, ac, scale, size, shape, inf_at) in enumerate(same):
        torch.manual_seed(930 + i)
        x = torch.randn(shape)
        if inf_at is not None:
            x[inf_at] = float("inf") if i % 2 == 0 else -float("inf")
        m = nn.Upsample(size=size, scale_factor=scale, mode=mode, align_corners=ac)
        sz = "none" if size is None else (str(size) if isinstance(size, int) else "x".join(map(str, size)))
        add("upsample_same%d" % i, "Upsample mode=%s align_corners=%s scale=%s size=%s" % (mode, ac, scale, sz), dict(input=x, output=m(x)))
    torch.manual_seed(920)
    m = FiLM(2, 3).eval()
    x, z = torch.randn(2, 3, 4), torch.randn(2, 2)
    x[0, 1, 2] = float("inf")
    x[1, 2, 0] = float("nan")
    z[1, 0] = float("inf")
    add("film_nonfinite", "FiLM cond=2 channels=3", dict(params(m), input=x, cond=z, output=m(x, z).detach()))

    # --- edges: one element per group (variance 0), more inputs than one oneDNN concat call takes ----
    torch.manual_seed(950)
    m = nn.GroupNorm(4, 4).eval()
    randomise(m, 950)
    x = torch.randn(3, 4)
    add("groupnorm_single", "GroupNorm groups=4 channels=4 affine=True", dict(params(m), input=x, output=m(x).detach()))
    torch.manual_seed(951)
    ts = [torch.randn(2, 1 + j % 3, 3) for j in range(13)]   # past one execution's 12 argument slots
    t = dict(input=ts[0], output=torch.cat(ts, 1))
    for j in range(1, len(ts)):
        t["in%d" % j] = ts[j]
    add("cat_many", "cat dim=1 inputs=13", t)

    write_goldens(OUT, cases)
    print("wrote %d cases to %s" % (len(cases), os.path.normpath(OUT)))


if __name__ == "__main__":
    main()
