#!/usr/bin/python3
"""Random PyTorch goldens for scripts/torch-probe: the layers' golden tests run on configurations nobody chose.

Writes, in the format of scripts/goldens/goldens_io.py, drawn at random:
  rnn.safetensors        LSTM/GRU/LSTMCell/GRUCell: sizes, layers, directions, batch_first, projections, initial
                         states, padded lengths, unbatched inputs, NaN/Inf inputs, inputs scaled up to 50x;
  attention.safetensors  SDPA, MultiheadAttention, TransformerEncoder(Layer): masks of both kinds and shapes, heads,
                         kdim/vdim, norm_first, activations, encoder stacks;
  layers14.safetensors   Embedding, GroupNorm, Upsample, cat/split/chunk, broadcasting add/sub/mul/div,
                         AdaptiveMaxPool1d, FiLM and the FiLM-ed block;
  conv.safetensors       Conv1d/2d, ConvTranspose1d/2d: groups, strides, dilations, every padding form and mode;
  pool.safetensors       max/avg pooling 1-D and 2-D (ceil_mode, count_include_pad, dilation), adaptive pooling.
Every expected value is computed by torch 1.13 (through the committed generators' own case functions where they
have them). The Java golden tests read these files in place of their resources with -Dpanamadnn.goldens.dir=DIR.
Run with Debian's /usr/bin/python3:  random_torch_goldens.py --out DIR [--count N] [--seed S]
"""
import argparse
import math
import os
import random
import sys
import warnings

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "goldens"))
from goldens_io import write_goldens  # noqa: E402
import generate_attention as att  # noqa: E402
import generate_conv as conv  # noqa: E402
import generate_layers14 as l14  # noqa: E402
import generate_pool as pool  # noqa: E402
import generate_rnn as rnn  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

ap = argparse.ArgumentParser(description="random PyTorch goldens for scripts/torch-probe")
ap.add_argument("--out", required=True)
ap.add_argument("--count", type=int, default=200, help="cases per file")
ap.add_argument("--seed", type=int, default=1)
opts = ap.parse_args()
R = random.Random(opts.seed)
torch.set_num_threads(1)
warnings.filterwarnings("ignore")   # torch's notes on 'same' padding with even kernels


def maybe(p):
    return R.random() < p


def poison_value():
    # No huge finite values: where they overflow, NaN or +-inf depends on the order of the sums (docs/numerics.md, 5).
    return R.choice([float("nan"), float("inf"), -float("inf")])


def rnn_case(i):
    seed = opts.seed * 100003 + i
    if maybe(0.2):
        kind = R.choice(["LSTMCell", "GRUCell"])
        unbatched = maybe(0.2)
        batch = R.randint(1, 5)
        inp = R.randint(1, 12)
        poison = None
        if maybe(0.1):
            poison = ((R.randrange(inp),) if unbatched else (R.randrange(batch), R.randrange(inp)), poison_value())
        return rnn.cell_case(f"r{i}", seed, kind, inp, R.randint(1, 16), bias=maybe(0.8), batch=batch,
                             state=maybe(0.6), unbatched=unbatched, poison=poison)
    kind = R.choice(["LSTM", "GRU"])
    inp, hidden = R.randint(1, 12), R.randint(1, 16)
    layers = R.choice([1, 1, 2, 2, 3])
    bidir, bf = maybe(0.5), maybe(0.5)
    proj = R.randint(1, hidden - 1) if kind == "LSTM" and hidden > 1 and maybe(0.3) else 0
    length, batch = R.randint(1, 9), R.randint(1, 5)
    unbatched = maybe(0.15)
    lengths = None
    if not unbatched and maybe(0.35):
        lengths = [R.randint(1, length) for _ in range(batch)]
    scale = R.choice([1.0, 1.0, 1.0, 0.1, 5.0, 50.0])
    poison = None
    if maybe(0.1):
        t, b, f = R.randrange(length), R.randrange(batch), R.randrange(inp)
        index = (t, f) if unbatched else ((b, t, f) if bf else (t, b, f))
        poison = (index, poison_value())
    case, _ = rnn.sequence_case(f"r{i}", seed, kind, inp, hidden, num_layers=layers, bias=maybe(0.8), batch_first=bf,
                                bidirectional=bidir, proj_size=proj, length=length, batch=batch, state=maybe(0.5),
                                lengths=lengths, unbatched=unbatched, scale=scale, poison=poison)
    return case


def bool_mask(shape, p_keep):
    return torch.rand(*shape) < p_keep


def float_mask(shape, p_inf):
    """An additive mask: normal values, and with probability p_inf a -inf in about 30% of its places."""
    def make():
        m = torch.randn(*shape)
        if maybe(p_inf):
            m[torch.rand(*shape) < 0.3] = float("-inf")
        return m
    return make


def attention_case(cases, i):
    seed = opts.seed * 100003 + i
    name = f"a{i}"
    r = R.random()
    if r < 0.25:
        lead = [R.randint(1, 3) for _ in range(R.choice([0, 1, 1, 2]))]
        L, S, E, Ev = R.randint(1, 6), R.randint(1, 7), R.randint(1, 9), R.randint(1, 6)
        scale = R.choice([None, None, 0.5, 2.0, 0.125])
        kind = R.choice(["none", "none", "bool", "float", "causal"])
        mask_shape = R.choice([[L, S], lead + [L, S]]) if kind in ("bool", "float") else None
        mask = None
        if kind == "bool":
            p = R.choice([0.3, 0.6, 0.9])
            mask = lambda: bool_mask(mask_shape, p)  # noqa: E731
        elif kind == "float":
            mask = float_mask(mask_shape, 0.5)
        att.sdpa_case(cases, name, seed, tuple(lead + [L, E]), tuple(lead + [S, E]), tuple(lead + [S, Ev]),
                      mask=mask, mask_kind="none" if kind in ("none", "causal") else kind, is_causal=kind == "causal",
                      scale=scale)
    elif r < 0.75:
        H = R.randint(1, 4)
        E = H * R.randint(1, 4)
        self_attn = maybe(0.4)
        L = R.randint(1, 6)
        S = L if self_attn else R.randint(1, 7)
        N = R.randint(1, 4)
        unbatched = maybe(0.15)
        if unbatched:
            N = 1
        kdim = None if self_attn or maybe(0.5) else R.randint(1, 9)
        vdim = None if self_attn or maybe(0.5) else R.randint(1, 9)
        am_kind = R.choice(["none", "none", "bool", "float", "causal"])
        if am_kind == "causal" and L != S:
            am_kind = "bool"
        am_shape = [L, S] if unbatched or maybe(0.6) else [N * H, L, S]
        attn_mask = None
        if am_kind == "bool":
            p = R.choice([0.2, 0.5])
            attn_mask = lambda: bool_mask(am_shape, p)  # noqa: E731  True = masked out
        elif am_kind == "causal":
            attn_mask = lambda: torch.ones(L, S, dtype=torch.bool).triu(1)  # noqa: E731
        elif am_kind == "float":
            attn_mask = float_mask(am_shape, 0.4)
        kp_kind = R.choice(["none", "none", "bool", "float"])
        kp_shape = [S] if unbatched else [N, S]
        kpm = None
        if kp_kind == "bool":
            p = R.choice([0.2, 0.5, 0.9])
            kpm = lambda: bool_mask(kp_shape, p)  # noqa: E731
        elif kp_kind == "float":
            kpm = lambda: torch.randn(*kp_shape)  # noqa: E731
        additive = kp_kind == "float" and attn_mask is not None
        if additive and unbatched:
            kpm = None
            additive = False
        poison = None
        if maybe(0.08):
            v = poison_value()

            def poison(q, v=v):
                q[tuple(R.randrange(d) for d in q.shape)] = v
        att.mha_case(cases, name, seed, E, H, L, S, N, bias=maybe(0.8), kdim=kdim, vdim=vdim, batch_first=maybe(0.5),
                     need_weights=maybe(0.6), average=maybe(0.6), attn_mask=attn_mask, kpm=kpm, self_attn=self_attn,
                     unbatched=unbatched, additive=additive, poison=poison)
    else:
        h = R.randint(1, 3)
        d = h * R.randint(2 if h == 1 else 1, 4)   # d_model 1: LayerNorm of one value, torch's rounding times 1/sqrt(eps)
        L, N = R.randint(1, 6), R.randint(1, 3)
        kind = R.choice(["none", "bool", "float", "causal"])
        mask = None
        if kind == "causal":
            mask = lambda: torch.ones(L, L, dtype=torch.bool).triu(1)  # noqa: E731
        elif kind == "bool":
            mask = lambda: torch.rand(L, L) < 0.3  # noqa: E731
        elif kind == "float":
            mask = lambda: torch.randn(L, L)  # noqa: E731
        kpm = (lambda: torch.rand(N, L) < 0.3) if maybe(0.4) else None
        layers = R.choice([0, 0, 1, 2, 3])
        att.encoder_case(cases, name, seed, d, h, R.randint(1, 20), L, N, maybe(0.5), R.choice(["relu", "gelu"]),
                         maybe(0.5), eps=R.choice([1e-5, 1e-5, 1e-6, 1e-3]), num_layers=layers,
                         final_norm=layers > 0 and maybe(0.5), mask=mask, kpm=kpm)


def dims(shape):
    return "x".join(map(str, shape))


def layers14_case(i):
    """One case in generate_layers14.py's spec forms: Embedding, GroupNorm, Upsample, cat/split/chunk, broadcasting
    add/sub/mul/div, AdaptiveMaxPool1d, FiLM, FiLMBlock."""
    name = f"l{i}"
    torch.manual_seed(opts.seed * 100003 + i)
    kind = R.choice(["Embedding", "GroupNorm", "Upsample", "Upsample", "Upsample", "cat", "split", "chunk", "binary",
                     "AdaptiveMaxPool1d", "FiLM", "FiLMBlock"])
    if kind == "Embedding":
        num, dim = R.randint(1, 12), R.randint(1, 8)
        pad = None if maybe(0.5) else R.randint(-num, num - 1)
        shape = [R.randint(1, 4) for _ in range(R.randint(1, 3))]   # an empty index: refused, as documented
        m = nn.Embedding(num, dim, padding_idx=pad).eval()
        idx = torch.randint(0, num, shape)
        spec = "Embedding num=%d dim=%d padding_idx=%s" % (num, dim, "none" if pad is None else pad)
        return name, spec, dict(l14.params(m), input=idx, output=m(idx).detach())
    if kind == "GroupNorm":
        g = R.randint(1, 4)
        c = g * R.randint(1, 3)
        affine = maybe(0.7)
        shape = [R.randint(1, 3), c] + [R.randint(1, 5) for _ in range(R.randint(0, 2))]
        if c // g * math.prod(shape[2:]) == 1:
            # One value per group: 0 * rstd (1 / sqrt(eps) = 316) * weight + bias, which torch rounds as x * 316w - mean
            # * 316w (6e-5 off the bias at |x| = 4, seed 5805); the committed groupnorm_single covers the edge.
            shape.append(2)
        m = nn.GroupNorm(g, c, affine=affine).eval()
        l14.randomise(m, opts.seed * 100003 + i)
        # Means at most 5 standard deviations off 0: a group of 10 +- 0.01 leaves only the float inputs' last digits
        # (torch 1.13's own result is 3e-4 off the exact one there, seed 5804), nothing to compare.
        x = torch.randn(shape) * R.choice([1.0, 3.0, 0.1]) + R.choice([0.0, 0.5, -0.5])
        if maybe(0.1):
            x.view(-1)[R.randrange(x.numel())] = poison_value()
        return name, "GroupNorm groups=%d channels=%d affine=%s" % (g, c, affine), dict(l14.params(m), input=x, output=m(x).detach())
    if kind == "Upsample":
        mode = R.choice(["nearest", "linear", "bilinear"])
        spatial = 1 if mode == "linear" else (2 if mode == "bilinear" else R.choice([1, 2]))
        shape = [R.randint(1, 2), R.randint(1, 3)] + [R.randint(1, 7) for _ in range(spatial)]
        ac = None if mode == "nearest" else maybe(0.5)
        scale, size = None, None
        if maybe(0.5):
            scale = R.choice([0.5, 0.75, 1.0, 1.25, 1.5, 1.7, 2.0, 2.5, 3.0, 4.0, 1 / 3])
        else:
            size = [R.randint(1, 12) for _ in range(spatial)]
        m = nn.Upsample(size=(size[0] if size and spatial == 1 else (tuple(size) if size else None)), scale_factor=scale,
                        mode=mode, align_corners=ac)
        x = torch.randn(shape)
        if maybe(0.1):
            x.view(-1)[R.randrange(x.numel())] = poison_value()
        y = m(x)
        sz = "none" if size is None else dims(size)
        return name, "Upsample mode=%s align_corners=%s scale=%s size=%s" % (mode, ac, scale, sz), dict(input=x, output=y)
    if kind == "cat":
        rank = R.randint(1, 4)
        base = [R.randint(1, 3) for _ in range(rank)]
        dim = R.randrange(-rank, rank)
        ts = []
        for _ in range(R.randint(1, 14)):
            s_ = list(base)
            s_[dim] = R.randint(0, 3)
            ts.append(torch.randn(s_))
        t = dict(input=ts[0], output=torch.cat(ts, dim))
        for j in range(1, len(ts)):
            t["in%d" % j] = ts[j]
        return name, "cat dim=%d inputs=%d" % (dim, len(ts)), t
    if kind in ("split", "chunk"):
        rank = R.randint(1, 4)
        shape = [R.randint(0 if maybe(0.05) else 1, 6) for _ in range(rank)]
        dim = R.randrange(-rank, rank)
        x = torch.randn(shape)
        if kind == "split":
            if maybe(0.5):
                arg = str(R.randint(1, 4))
                pieces = torch.split(x, int(arg), dim)
            else:
                n = shape[dim]
                cuts = sorted(R.randint(0, n) for _ in range(R.randint(0, 3)))
                sizes = [b - a for a, b in zip([0] + cuts, cuts + [n])]
                arg = dims(sizes)
                pieces = torch.split(x, sizes, dim)
        else:
            arg = str(R.randint(1, 5))
            pieces = torch.chunk(x, int(arg), dim)
        t = dict(input=x, output=pieces[0])
        for j, p in enumerate(pieces):
            t["piece%d" % j] = p.contiguous()
        return name, "%s arg=%s dim=%d pieces=%d" % (kind, arg, dim, len(pieces)), t
    if kind == "binary":
        rank = R.randint(1, 6)
        full = [R.randint(1, 4) for _ in range(rank)]
        a = [d if maybe(0.7) else 1 for d in full]
        b = [d if maybe(0.7) else 1 for d in full][R.randint(0, rank - 1):]
        if maybe(0.5):
            a, b = b, a
        op = R.choice(["add", "sub", "mul", "div"])
        x, y = torch.randn(a), torch.randn(b)
        if maybe(0.2):
            y.view(-1)[R.randrange(y.numel())] = R.choice([0.0, -0.0, poison_value()])
        if maybe(0.2):
            x.view(-1)[R.randrange(x.numel())] = poison_value()
        return name, "%s a=%s b=%s" % (op, dims(a), dims(b)), dict(input=x, other=y, output=getattr(torch, op)(x, y))
    if kind == "AdaptiveMaxPool1d":
        shape = [R.randint(1, 3) for _ in range(R.randint(1, 2))] + [R.randint(1, 12)]
        out = R.randint(1, 14)
        x = torch.randn(shape)
        if maybe(0.3):
            x.view(-1)[R.randrange(x.numel())] = poison_value()
        return name, "AdaptiveMaxPool1d out=%d" % out, dict(input=x, output=nn.AdaptiveMaxPool1d(out)(x))
    if kind == "FiLM":
        cond, c = R.randint(1, 5), R.randint(1, 6)
        shape = [R.randint(1, 3), c] + [R.randint(1, 5) for _ in range(R.randint(0, 2))]
        m = l14.FiLM(cond, c).eval()
        x, z = torch.randn(shape), torch.randn(shape[0], cond)
        return name, "FiLM cond=%d channels=%d" % (cond, c), dict(l14.params(m), input=x, cond=z, output=m(x, z).detach())
    cin, c, cond = R.randint(1, 4), R.randint(1, 6), R.randint(1, 4)
    shape = (R.randint(1, 3), cin, R.randint(1, 6), R.randint(1, 6))
    m = l14.FiLMBlock(cin, c, cond).eval()
    l14.randomise(m, opts.seed * 100003 + i)
    x, z = torch.randn(shape), torch.randn(shape[0], cond)
    return name, "FiLMBlock in=%d channels=%d cond=%d" % (cin, c, cond), dict(l14.params(m), input=x, cond=z, output=m(x, z).detach())


def conv_case(cases, i):
    """One case through generate_conv.py's case(): groups, strides, dilations, symmetric/asymmetric/causal/'same'/
    'valid' padding, the four padding modes, output_padding, unbatched inputs."""
    layer = R.choice(["Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d"])
    nd = 2 if layer.endswith("2d") else 1
    transposed = layer.startswith("ConvTranspose")
    groups = R.choice([1, 1, 1, 2, 3])
    in_ch, out_ch = groups * R.randint(1, 3), groups * R.randint(1, 3)
    if maybe(0.1):
        out_ch = in_ch = groups   # depthwise
    kernel = [R.randint(1, 5) for _ in range(nd)]
    stride = [R.choice([1, 1, 2, 3]) for _ in range(nd)]
    dilation = [R.choice([1, 1, 2, 3]) for _ in range(nd)]
    size = [R.randint(1, 12) for _ in range(nd)]
    shape = ([] if maybe(0.1) else [R.randint(1, 3)]) + [in_ch] + size
    kw = dict(stride=stride, dilation=dilation, groups=groups, bias=maybe(0.8))
    if transposed:
        kw["padding"] = [R.randint(0, 2) for _ in range(nd)]
        kw["output_padding"] = [R.randrange(max(s_, d_)) for s_, d_ in zip(stride, dilation)]
    else:
        r = R.random()
        if r < 0.5:
            kw["padding"] = [R.randint(0, 3) for _ in range(nd)]
            kw["mode"] = R.choice(["zeros", "zeros", "reflect", "replicate", "circular"])
        elif r < 0.65:
            kw["padding"] = "same" if maybe(0.7) else "valid"
            if kw["padding"] == "same":
                kw["stride"] = 1
        elif r < 0.85:
            kw["pad_before"] = [R.randint(0, 3) for _ in range(nd)]
            kw["pad_after"] = [R.randint(0, 3) for _ in range(nd)]
        elif nd == 1:
            kw["causal"] = True
    try:
        conv.case(cases, opts.seed * 100003 + i, f"c{i}", layer, tuple(shape), in_ch, out_ch, kernel if nd == 2 else kernel[0],
                  **kw)
        return True
    except RuntimeError:   # torch refuses it (an output size below 1, a reflection past the input)
        return False


def pool_case(i):
    """One case in generate_pool.py's forms: max/avg pooling 1-D and 2-D with strides, padding, dilation, ceil_mode,
    count_include_pad; adaptive average/max pooling to smaller and larger sizes."""
    torch.manual_seed(opts.seed * 100003 + i)
    layer = R.choice(["MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d",
                      "AdaptiveMaxPool2d"])
    nd = 2 if layer.endswith("2d") else 1
    shape = ([] if maybe(0.1) else [R.randint(1, 3)]) + [R.randint(1, 3)] + [R.randint(1, 13) for _ in range(nd)]
    if layer.startswith("Adaptive"):
        out = [R.randint(1, 9) for _ in range(nd)]
        m, spec = getattr(nn, layer)(out if nd == 2 else out[0]), pool.adaptive_spec(layer, out if nd == 2 else out[0])
    else:
        kernel = [R.randint(1, 5) for _ in range(nd)]
        stride = [R.randint(1, 4) for _ in range(nd)]
        padding = [R.randint(0, k // 2) for k in kernel]
        dilation = [R.choice([1, 1, 2, 3]) for _ in range(nd)] if layer.startswith("Max") else 1
        m, spec = pool.pool_module(layer, kernel, stride, padding, dilation, maybe(0.4), maybe(0.5))
    x = torch.randn(shape)
    if maybe(0.2):
        x = -x.abs() - 1   # all below zero: zero padding would win a max
    with torch.no_grad():
        y = m(x)
    if y.numel() == 0:
        # torch 1.13's MaxPool1d without autograd returns an empty output where its other paths (2-D, with autograd)
        # refuse an output size of 0: refused here, naming the sizes
        raise RuntimeError("empty output")
    return f"p{i}", spec, {"input": x, "output": y}


def main():
    os.makedirs(opts.out, exist_ok=True)
    conv_cases = []
    conv_refused = sum(0 if conv_case(conv_cases, i) else 1 for i in range(opts.count))
    write_goldens(os.path.join(opts.out, "conv.safetensors"), conv_cases)
    pool_cases, pool_refused = [], 0
    for i in range(opts.count):
        try:
            pool_cases.append(pool_case(i))
        except RuntimeError:   # an output size below 1, a window entirely in the padding
            pool_refused += 1
    write_goldens(os.path.join(opts.out, "pool.safetensors"), pool_cases)
    print("wrote", len(conv_cases), "conv cases (%d refused by torch) and" % conv_refused, len(pool_cases),
          "pool cases (%d refused)" % pool_refused)
    cases, refused = [], 0
    for i in range(opts.count):
        try:
            cases.append(layers14_case(i))
        except (RuntimeError, ValueError):   # torch refuses it (an output size of 0, one value per group)
            refused += 1
    write_goldens(os.path.join(opts.out, "layers14.safetensors"), cases)
    write_goldens(os.path.join(opts.out, "rnn.safetensors"), [rnn_case(i) for i in range(opts.count)])
    cases = []
    for i in range(opts.count):
        attention_case(cases, i)
    write_goldens(os.path.join(opts.out, "attention.safetensors"), cases)
    print("wrote", opts.count, "rnn,", len(cases), "attention and", opts.count - refused, "layers14 cases (" + str(refused),
          "refused by torch) to", opts.out)


if __name__ == "__main__":
    main()
