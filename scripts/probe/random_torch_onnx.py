#!/usr/bin/python3
"""Random PyTorch modules exported with torch.onnx.export, for scripts/torch-probe --onnx: the ONNX import on the graphs
torch writes (its LSTM/GRU with initial states, attention, Resize/Upsample, GroupNorm's InstanceNormalization pattern,
LayerNorm decomposed or whole, Shape->Gather->Concat->Reshape chains under a dynamic batch, padding modes as Pad,
several outputs of one node (chunk, split, topk, max with indices), an MLP with either GELU, Embedding of int64 ids,
torch.jit.script loops kept as ONNX Loops...),
at opsets 9 to 17, compared with torch's own outputs.

Writes DIR/node/<case>/model.onnx and test_data_set_0/input_k.pb, output_k.pb (TensorProtos; a model of one input
exported with a dynamic batch has test_data_set_1 at another batch size) in the layout of ONNX's backend test suite, so onnx's BackendSuiteTest runs them with -Dpanamadnn.onnx.testdata=DIR (the other suites'
directories are made empty). Every expected value is torch 1.13's output of the module. A module that torch cannot
export at the drawn opset is drawn again (counted). Run with Debian's /usr/bin/python3 (python3-torch, python3-onnx):
    random_torch_onnx.py --out DIR [--count N] [--seed S]
"""
import argparse
import io
import os
import random
import warnings

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import numpy_helper

ap = argparse.ArgumentParser(description="random torch.onnx.export cases for scripts/torch-probe --onnx")
ap.add_argument("--out", required=True)
ap.add_argument("--count", type=int, default=200)
ap.add_argument("--seed", type=int, default=1)
opts = ap.parse_args()
R = random.Random(opts.seed)
torch.set_num_threads(1)
warnings.filterwarnings("ignore")


def maybe(p):
    return R.random() < p


class Rnn(nn.Module):
    def __init__(self, inner, outputs):
        super().__init__()
        self.inner, self.outputs = inner, outputs

    def forward(self, x, *state):
        hx = None
        if state:
            hx = tuple(state) if isinstance(self.inner, nn.LSTM) else state[0]
        y, h = self.inner(x, hx)
        if self.outputs == 1:
            return y
        return (y,) + (h if isinstance(h, tuple) else (h,))


class Attention(nn.Module):
    def __init__(self, inner, masked):
        super().__init__()
        self.inner, self.masked = inner, masked

    def forward(self, x, *masks):
        kw = {}
        if masks:
            kw["key_padding_mask"] = masks[0] > 0.5
        return self.inner(x, x, x, need_weights=False, **kw)[0]


class Interp(nn.Module):
    def __init__(self, **kw):
        super().__init__()
        self.kw = kw

    def forward(self, x):
        return F.interpolate(x, **self.kw)


class Reshapes(nn.Module):
    """Flatten/view/permute chains whose shapes torch computes from x.shape (Shape -> Gather -> Concat -> Reshape)."""

    def __init__(self, c, kind):
        super().__init__()
        self.lin = nn.Linear(c, c)
        self.kind = kind

    def forward(self, x):
        n = x.shape[0]
        if self.kind == 0:
            return self.lin(x.transpose(1, -1)).reshape(n, -1)
        if self.kind == 1:
            y = x.view(n, x.shape[1], -1).transpose(1, 2)
            return torch.softmax(self.lin(y), dim=-1).flatten(1)
        parts = torch.chunk(x, 2, dim=1)
        return torch.cat([p.mean(dim=1, keepdim=True) for p in parts] + [x], dim=1) * 0.5 + x.sum(1, keepdim=True)


def rnn_case():
    kind = R.choice([nn.LSTM, nn.GRU])
    inp, hidden = R.randint(1, 10), R.randint(1, 12)
    layers, bidir, bf = R.choice([1, 1, 2]), maybe(0.4), maybe(0.4)
    inner = kind(inp, hidden, num_layers=layers, bidirectional=bidir, batch_first=bf, bias=maybe(0.85))
    with torch.no_grad():
        for name, p in inner.named_parameters():
            if name.startswith("bias"):
                p.uniform_(-0.5, 0.5)
    T, N = R.randint(1, 6), R.randint(1, 3)
    x = torch.randn(N, T, inp) if bf else torch.randn(T, N, inp)
    inputs = [x]
    if maybe(0.5):
        d = 2 if bidir else 1
        inputs.append(torch.randn(layers * d, N, hidden))
        if kind is nn.LSTM:
            inputs.append(torch.randn(layers * d, N, hidden))
    dynamic = {}
    if maybe(0.5):   # the batch, and with no initial state (whose batch the export fixes) the length too
        dynamic = {0: [0, 1] if len(inputs) == 1 and maybe(0.5) else [0 if bf else 1]}
    return Rnn(inner, R.choice([1, 3])), inputs, R.randint(9, 17), dynamic


def attention_case():
    if maybe(0.5):
        h = R.randint(1, 3)
        e = h * R.randint(1, 4)
        masked = maybe(0.4)
        m = Attention(nn.MultiheadAttention(e, h, bias=maybe(0.8)), masked)
        L, N = R.randint(1, 6), R.randint(1, 3)
        inputs = [torch.randn(L, N, e)]
        if masked:
            kpm = (torch.rand(N, L) < 0.3).float()
            kpm[:, 0] = 0   # no fully masked row (torch's NaN there depends on its path)
            inputs.append(kpm)
        return m, inputs, R.randint(13, 17), {0: [0, 1]} if not masked and maybe(0.5) else {}
    h = R.randint(1, 3)
    d = h * R.randint(2 if h == 1 else 1, 4)
    m = nn.TransformerEncoderLayer(d, h, R.randint(2, 16), dropout=0.1, activation=R.choice(["relu", "gelu"]),
                                   batch_first=maybe(0.5), norm_first=maybe(0.5))
    with torch.no_grad():
        for n_, p in m.named_parameters():
            if "bias" in n_ or "norm" in n_:
                p.add_(0.3 * torch.randn_like(p))
    L, N = R.randint(1, 6), R.randint(1, 3)
    return m, [torch.randn(L, N, d)], R.randint(13, 17), {0: [0, 1]} if maybe(0.5) else {}   # length and batch dynamic


def conv_case():
    nd = R.choice([1, 2])
    c = R.randint(1, 4)
    layers = []
    for _ in range(R.randint(1, 3)):
        out = R.randint(1, 6)
        k = R.randint(1, 4)
        if maybe(0.2):
            layers.append((nn.ConvTranspose1d if nd == 1 else nn.ConvTranspose2d)(c, out, k, stride=R.randint(1, 2),
                                                                                  padding=R.randint(0, k - 1)))
        else:
            g = R.choice([1, 1, c]) if out % c == 0 else 1
            layers.append((nn.Conv1d if nd == 1 else nn.Conv2d)(c, out, k, stride=R.randint(1, 2), padding=R.randint(0, k // 2 + 1),
                                                                dilation=R.choice([1, 1, 2]), groups=g,
                                                                padding_mode=R.choice(["zeros", "zeros", "reflect", "replicate"])))
        c = out
        if maybe(0.5):
            bn = (nn.BatchNorm1d if nd == 1 else nn.BatchNorm2d)(c)
            with torch.no_grad():
                bn.running_mean.normal_()
                bn.running_var.uniform_(0.5, 2)
                bn.weight.normal_()
                bn.bias.normal_()
            layers.append(bn)
        layers.append(R.choice([nn.ReLU(), nn.GELU(), nn.Sigmoid(), nn.Hardswish(), nn.LeakyReLU(0.1), nn.Identity(), nn.ReLU6()]))
        if maybe(0.3):
            k = R.randint(1, 3)
            pool = R.choice(["max", "avg"])
            if nd == 1:
                layers.append(nn.MaxPool1d(k, R.randint(1, 2), ceil_mode=maybe(0.4)) if pool == "max"
                              else nn.AvgPool1d(k, R.randint(1, 2), ceil_mode=maybe(0.4), count_include_pad=maybe(0.5)))
            else:
                layers.append(nn.MaxPool2d(k, R.randint(1, 2), ceil_mode=maybe(0.4)) if pool == "max"
                              else nn.AvgPool2d(k, R.randint(1, 2), ceil_mode=maybe(0.4), count_include_pad=maybe(0.5)))
    if maybe(0.3):
        layers.append(nn.AdaptiveAvgPool1d(1) if nd == 1 else nn.AdaptiveAvgPool2d(1))
        layers.append(nn.Flatten())
    first = layers[0]
    x = torch.randn([R.randint(1, 3), first.in_channels] + [R.randint(5, 12) for _ in range(nd)])
    return nn.Sequential(*layers).eval(), [x], R.randint(9, 17), {0: [0]} if maybe(0.5) else {}


def interp_case():
    nd = R.choice([1, 2])
    mode = R.choice(["nearest", "linear" if nd == 1 else "bilinear"])
    kw = dict(mode=mode)
    if mode != "nearest":
        kw["align_corners"] = maybe(0.5)
    if maybe(0.5):
        kw["scale_factor"] = R.choice([2.0, 3.0, 0.5, 1.5])
        if kw.get("align_corners"):
            # a scale with align_corners exports as Resize scales, whose align_corners length ONNX takes as in * scale
            # where torch takes the integer size: a documented difference (docs/onnx.md, the exports table) with its
            # fix, recompute_scale_factor=True, which exports the sizes
            kw["recompute_scale_factor"] = True
    else:
        kw["size"] = [R.randint(1, 10) for _ in range(nd)] if nd == 2 else R.randint(1, 10)
    x = torch.randn([R.randint(1, 2), R.randint(1, 3)] + [R.randint(2, 7) for _ in range(nd)])
    return Interp(**kw), [x], R.randint(11, 17), {}


def norm_case():
    c = R.randint(1, 6)
    kind = R.choice(["group", "layer", "instance"])
    if kind == "group":
        g = R.choice([d for d in range(1, c + 1) if c % d == 0])
        m = nn.GroupNorm(g, c, affine=maybe(0.8))
        shape = [R.randint(1, 3), c] + [R.randint(2, 5) for _ in range(R.randint(1, 2))]
    elif kind == "layer":
        # at least two values per row: a LayerNorm of one value is torch's rounding times 1/sqrt(eps) (6.5e-6 where ours
        # is the exact 0, seed 5814)
        c = max(c, 2)
        shape = [R.randint(1, 3), R.randint(1, 4), c]
        m = nn.LayerNorm(c if maybe(0.7) else shape[1:], elementwise_affine=maybe(0.8))
    else:
        m = nn.InstanceNorm2d(c, affine=maybe(0.5))
        shape = [R.randint(1, 3), c, R.randint(2, 5), R.randint(2, 5)]
    with torch.no_grad():
        for p in m.parameters():
            p.add_(0.3 * torch.randn_like(p))
    return m.eval(), [torch.randn(shape) * 2 + 0.5], R.randint(9, 17), {0: [0]} if maybe(0.5) else {}


def reshape_case():
    c = R.randint(1, 5)
    x = torch.randn([R.randint(1, 3), c] + [R.randint(1, 4) for _ in range(R.randint(1, 2))])
    kind = R.randint(0, 2)
    m = Reshapes(x.shape[-1] if kind == 0 else c, kind)
    if kind == 0:
        m.lin = nn.Linear(c, c)
    if kind == 2 and c < 2:
        return None
    return m.eval(), [x], R.randint(9, 17), {0: [0]} if maybe(0.6) else {}


class Pieces(nn.Module):
    """Several graph outputs from one node: chunk/split pieces, or topk's values and indices, max's values and indices."""

    def __init__(self, kind, arg, dim):
        super().__init__()
        self.kind, self.arg, self.dim = kind, arg, dim

    def forward(self, x):
        if self.kind == "chunk":
            return tuple(p * 2 for p in torch.chunk(x, self.arg, self.dim))
        if self.kind == "split":
            return tuple(torch.split(x, self.arg, self.dim))
        if self.kind == "topk":
            v, i = torch.topk(x, self.arg, dim=self.dim)
            return v, i
        v, i = torch.max(x, dim=self.dim)
        return v + 1, i


def pieces_case():
    rank = R.randint(2, 4)
    shape = [R.randint(1, 3)] + [R.randint(1, 6) for _ in range(rank - 1)]
    dim = R.randint(1, rank - 1)
    kind = R.choice(["chunk", "split", "topk", "max"])
    if kind == "chunk":
        # a chunk that gives fewer pieces than asked exports (opset 11 on) as SplitToSequence + SequenceAt with sizes
        # [s] * (c - 1) + [d - (c - 1) * s], s = ceil(d / c): refused (as by ONNX Runtime) where that rest is negative
        # (docs/onnx.md's exports table), so only chunk counts whose rest is 0 or more here
        d = shape[dim]
        arg = R.choice([c for c in range(1, 5) if d - (c - 1) * -(-d // c) >= 0])
    elif kind == "split":
        n = shape[dim]
        cuts = sorted(set(R.randint(1, n) for _ in range(R.randint(1, 3))) - {n}) if n > 1 else []
        arg = [b - a for a, b in zip([0] + cuts, cuts + [n])]
    elif kind == "topk":
        arg = R.randint(1, shape[dim])
    else:
        arg = None
    x = torch.randn(shape)
    return Pieces(kind, arg, dim), [x], R.randint(11 if kind == "topk" else 9, 17), {0: [0]} if maybe(0.5) else {}


class Mlp(nn.Module):
    """A transformer's MLP half: LayerNorm, Linear, GELU (either form), Dropout, Linear, residual."""

    def __init__(self, d, h, approximate, pre):
        super().__init__()
        self.norm, self.fc1, self.fc2 = nn.LayerNorm(d), nn.Linear(d, h), nn.Linear(h, d)
        self.act, self.drop, self.pre = nn.GELU(approximate=approximate), nn.Dropout(0.1), pre

    def forward(self, x):
        y = self.fc2(self.drop(self.act(self.fc1(self.norm(x) if self.pre else x))))
        return x + y if self.pre else self.norm(x + y)


def mlp_case():
    d = R.randint(2, 12)
    m = Mlp(d, R.randint(1, 24), R.choice(["none", "tanh"]), maybe(0.5))
    with torch.no_grad():
        for n_, p in m.named_parameters():
            if "norm" in n_:
                p.add_(0.3 * torch.randn_like(p))
    shape = [R.randint(1, 3)] + [R.randint(1, 5) for _ in range(R.randint(0, 2))] + [d]
    return m.eval(), [torch.randn(shape)], R.randint(9, 17), {0: list(range(len(shape) - 1))} if maybe(0.5) else {}


class TokenModel(nn.Module):
    def __init__(self, num, dim, pad, classes):
        super().__init__()
        self.emb = nn.Embedding(num, dim, padding_idx=pad)
        self.fc = nn.Linear(dim, classes)

    def forward(self, ids):
        return self.fc(self.emb(ids).mean(dim=1))


def embed_case():
    num, dim = R.randint(2, 30), R.randint(1, 8)
    m = TokenModel(num, dim, R.choice([None, 0, num - 1]), R.randint(1, 5))
    ids = torch.randint(0, num, (R.randint(1, 3), R.randint(1, 7)))
    return m.eval(), [ids], R.randint(9, 17), R.choice([{}, {0: [0]}, {0: [0, 1]}])   # batch, or batch and length, dynamic


class LoopCell(nn.Module):
    """A recurrent cell over the steps of x [T, N, I] as a Python loop (scripted: the export keeps an ONNX Loop)."""

    def __init__(self, i, h, act: int):
        super().__init__()
        self.i2h, self.h2h, self.act, self.h = nn.Linear(i, h), nn.Linear(h, h), act, h

    def forward(self, x):
        h = torch.zeros(x.size(1), self.h)
        for t in range(x.size(0)):
            z = self.i2h(x[t]) + self.h2h(h)
            h = torch.tanh(z) if self.act == 0 else torch.sigmoid(z) * h + z * 0.5
        return h


class LoopCollect(nn.Module):
    """Steps of x [N, T, C] transformed one by one and stacked (a list built in a scripted loop)."""

    def __init__(self, c, dim: int):
        super().__init__()
        self.lin, self.dim = nn.Linear(c, c), dim

    def forward(self, x):
        outs = []
        for t in range(x.size(1)):
            outs.append(torch.relu(self.lin(x[:, t])) + float(t))
        return torch.stack(outs, self.dim)


class LoopWhile(nn.Module):
    """A while loop whose body computes its condition from the iteration count."""

    def __init__(self, n: int):
        super().__init__()
        self.n = n

    def forward(self, x):
        i = 0
        y = x
        while i < self.n:
            y = torch.tanh(y * 0.9 + float(i))
            i += 1
        return y


def loop_case():
    """torch.jit.script modules whose loops stay ONNX Loops (unrolled by the import)."""
    kind = R.choice(["cell", "collect", "while"])
    if kind == "cell":
        i, h = R.randint(1, 6), R.randint(1, 6)
        return LoopCell(i, h, R.randint(0, 1)).eval(), [torch.randn(R.randint(1, 7), R.randint(1, 3), i)], R.randint(11, 17), \
            ({0: [1]} if maybe(0.5) else {})
    if kind == "collect":
        c = R.randint(1, 5)
        return LoopCollect(c, R.randint(1, 2)).eval(), [torch.randn(R.randint(1, 3), R.randint(1, 6), c)], R.randint(11, 17), \
            ({0: [0]} if maybe(0.5) else {})
    return LoopWhile(R.randint(1, 5)).eval(), [torch.randn(R.randint(1, 3), R.randint(1, 5))], R.randint(11, 17), ({0: [0]} if maybe(0.5) else {})


FAMILIES = [rnn_case, attention_case, conv_case, interp_case, norm_case, reshape_case, pieces_case, mlp_case, embed_case, loop_case]


def write_case(path, module, inputs, opset, dynamic):
    names = ["x%d" % k for k in range(len(inputs))]
    with torch.no_grad() if not isinstance(module, (Attention, nn.TransformerEncoderLayer)) else torch.enable_grad():
        # autograd on for attention: torch 1.13 then takes the documented math path, not the fast path, which does not export
        out = module(*inputs)
    outs = list(out) if isinstance(out, tuple) else [out]
    dyn = {}
    for k, axes in dynamic.items():
        dyn[names[k]] = {a: "d%d" % a for a in axes}
    buf = io.BytesIO()
    if isinstance(module, (LoopCell, LoopCollect, LoopWhile)):
        module = torch.jit.script(module)   # traced, the loop would be unrolled by torch
    torch.onnx.export(module, tuple(inputs), buf, opset_version=opset, input_names=names,
                      output_names=["y%d" % j for j in range(len(outs))], dynamic_axes=dyn or None)
    model = onnx.load_from_string(buf.getvalue())
    os.makedirs(path, exist_ok=True)
    onnx.save(model, os.path.join(path, "model.onnx"))
    # torch drops an input it does not use
    graph_inputs = [i.name for i in model.graph.input if i.name not in {t.name for t in model.graph.initializer}]
    by_name = dict(zip(names, inputs))
    write_set(os.path.join(path, "test_data_set_0"), graph_inputs, by_name, outs)
    if len(inputs) == 1 and dynamic:   # other sizes of the dynamic dims through the same file (and, via plans, the same plan set)
        shape = list(inputs[0].shape)
        for axis in dynamic[0]:
            shape[axis] = shape[axis] + 1 if shape[axis] < 3 else 1
        x2 = torch.randn(shape) if inputs[0].is_floating_point() else torch.randint(0, int(inputs[0].max()) + 1, shape)
        with torch.no_grad() if not isinstance(module, (Attention, nn.TransformerEncoderLayer)) else torch.enable_grad():
            out2 = module(x2)
        write_set(os.path.join(path, "test_data_set_1"), graph_inputs, {names[0]: x2}, list(out2) if isinstance(out2, tuple) else [out2])
    return opset


def write_set(d, graph_inputs, by_name, outs):
    os.makedirs(d, exist_ok=True)
    for k, n in enumerate(graph_inputs):
        a = by_name[n].detach().numpy()
        t = numpy_helper.from_array(a if a.dtype == np.int64 else a.astype(np.float32), n)
        with open(os.path.join(d, "input_%d.pb" % k), "wb") as f:
            f.write(t.SerializeToString())
    for j, o in enumerate(outs):
        a = o.detach().numpy()
        t = numpy_helper.from_array(a if a.dtype == np.int64 else a.astype(np.float32), "y%d" % j)
        with open(os.path.join(d, "output_%d.pb" % j), "wb") as f:
            f.write(t.SerializeToString())


def main():
    for suite in ("node", "pytorch-converted", "pytorch-operator", "simple"):
        os.makedirs(os.path.join(opts.out, suite), exist_ok=True)
    refused, written = 0, 0
    while written < opts.count:
        fam = R.choice(FAMILIES)
        torch.manual_seed(opts.seed * 100003 + written + refused)
        case = fam()
        if case is None:
            continue
        module, inputs, opset, dynamic = case
        if isinstance(module, nn.Module):
            module.eval()
        path = os.path.join(opts.out, "node", "torch_%05d_%s_op%d" % (written, fam.__name__[:-5], opset))
        try:
            write_case(path, module, inputs, opset, dynamic)
            written += 1
        except Exception:   # torch cannot export it at this opset (or at all): draw again
            refused += 1
            if os.path.isdir(path):
                import shutil
                shutil.rmtree(path)
    print("wrote %d exported cases (%d draws torch could not export) to %s" % (written, refused, opts.out))


if __name__ == "__main__":
    main()
