#!/usr/bin/python3
"""Random ONNX graphs for scripts/ort-probe: a differential probe of our import against ONNX Runtime.

Each case is a directory with model.onnx (one to --max-ops ops over one float input X, built with onnx.helper in the
attribute forms other converters write, checked by ONNX's shape inference and checker), desc.txt (the nodes), a
<name>.raw per initializer fed as a graph input (--runtime-inputs), and model_ref.onnx where a recurrent node has
layout 1 (the same model with Transposes around a layout-0 node, for ONNX Runtime, which refuses layout 1). The
expected values come from ONNX Runtime, run by benchmarks' OrtDiffMain; nothing here computes them. Needs Debian's
python3-onnx (1.12) and numpy. With --opsets 18-23 each checked opset-17 model is rewritten into a later opset's forms
(ONNX 1.12's checker knows none of them) and may end in one of the ops new since 17 (Mish, Gelu, GroupNormalization,
RMSNormalization). Families: unary, unary_attr, binary, softmax, reduce, slice, pad, shape_ops, conv, pool, resize, norm, index, rnn, int, quant, shapecalc, attn.
"""
import argparse
import os
import random

import numpy as np
import onnx
from onnx import helper, TensorProto, numpy_helper, shape_inference


ap = argparse.ArgumentParser(description="random ONNX graphs for scripts/ort-probe")
ap.add_argument("--out", required=True, help="directory for the cases (NNNNN/ each)")
ap.add_argument("--count", type=int, default=1000)
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("--max-ops", type=int, default=3, help="ops per graph: 1 to this many")
ap.add_argument("--families", default="", help="comma-separated families (default: all)")
ap.add_argument("--runtime-inputs", type=float, default=0.0, help="probability that an initializer is fed as a graph input")
ap.add_argument("--symbolic-batch", action="store_true", help="X's first dim (rank >= 2) and every output dim symbolic")
ap.add_argument("--output-shapes", action="store_true", help="declare the outputs' shapes (as inferred) instead of none")
ap.add_argument("--ranks", default="1,2,3,4,4,4,3,2", help="X's rank, drawn from this list (e.g. 5,6 for high ranks)")
ap.add_argument("--opsets", default="", help="e.g. 18-23: build at opset 17 as checked, then rewrite into a later opset drawn from "
                "this range (its forms: axes inputs, Pad axes, Split num_outputs, Resize axes, GridSample modes; plus a new op at the end)")
opts = ap.parse_args()
out_dir, count, seed = opts.out, opts.count, opts.seed
R = random.Random(seed)

F = TensorProto.FLOAT
I64 = TensorProto.INT64


class Ctx:
    def __init__(self, opset):
        self.opset = opset
        self.nodes = []
        self.inits = []
        self.n = 0
        self.extra_outputs = []

    def name(self, p):
        self.n += 1
        return f"{p}{self.n}"

    def init(self, arr, p="c"):
        nm = self.name(p)
        self.inits.append(numpy_helper.from_array(np.asarray(arr), nm))
        return nm

    def node(self, op, ins, nout=1, **attrs):
        outs = [self.name(op.lower() + "_") for _ in range(nout)]
        self.nodes.append(helper.make_node(op, ins, outs, **attrs))
        return outs if nout > 1 else outs[0]


def rnd(shape, scale=1.0):
    return np.asarray(np.random.RandomState(R.randrange(1 << 30)).randn(*shape) * scale, dtype=np.float32)


def bshape(shape):
    """a shape broadcastable to `shape` (or to which shape broadcasts)"""
    r = len(shape)
    k = R.randint(0, r)
    s = list(shape[r - k:]) if k else []
    s = [d if R.random() < 0.6 else 1 for d in s]
    if R.random() < 0.15 and r < 4:
        s = [R.randint(1, 3)] + list(shape)  # bigger rank than x
        s = [1 if i == 0 else d for i, d in enumerate(s)] if R.random() < 0.5 else s
    return s


UNARY = ["Abs", "Neg", "Exp", "Erf", "Sin", "Cos", "Atan", "Asinh", "Sign", "Floor", "Ceil", "Round", "Relu",
         "Sigmoid", "Tanh", "Softsign", "Softplus", "HardSwish", "Reciprocal", "Sqrt", "Log", "Tan", "Acos", "Asin",
         "Sinh", "Cosh", "Acosh", "Atanh"]


def g_unary(c, x, s):
    op = R.choice(UNARY)
    if op in ("Reciprocal",):
        x = c.node("Add", [c.node("Abs", [x]), c.init(np.float32(0.5))])
    if op in ("Sqrt", "Log"):
        x = c.node("Add", [c.node("Abs", [x]), c.init(np.float32(0.1))])
    if op in ("Acos", "Asin", "Atanh"):
        x = c.node("Tanh", [x])
    if op == "Acosh":
        x = c.node("Add", [c.node("Abs", [x]), c.init(np.float32(1.1))])
    if op == "Exp":
        x = c.node("Tanh", [x])
    return c.node(op, [x])


def g_unary_attr(c, x, s):
    op = R.choice(["LeakyRelu", "Elu", "Selu", "Celu", "HardSigmoid", "ThresholdedRelu", "Shrink", "Clip", "Clip",
                   "Clip"])
    a = round(R.uniform(0.05, 2.0), 3)
    if op == "LeakyRelu": return c.node(op, [x], alpha=a)
    if op == "Elu": return c.node(op, [x], alpha=a)
    if op == "Celu": return c.node(op, [x], alpha=a)
    if op == "Selu": return c.node(op, [x], alpha=a, gamma=round(R.uniform(0.5, 2), 3))
    if op == "HardSigmoid": return c.node(op, [x], alpha=a / 4, beta=round(R.uniform(0, 1), 3))
    if op == "ThresholdedRelu": return c.node(op, [x], alpha=round(R.uniform(-0.5, 1), 3))
    if op == "Shrink": return c.node(op, [x], bias=round(R.uniform(0, 1), 3), lambd=round(R.uniform(0, 1.5), 3))
    # Clip
    lo = round(R.uniform(-1.5, 0.2), 3)
    hi = round(R.uniform(lo, 1.5), 3)
    if c.opset < 11:
        return c.node(op, [x], min=lo, max=hi)
    form = R.choice(["both", "min", "max", "none", "emptymin"])
    if form == "both": return c.node(op, [x, c.init(np.float32(lo)), c.init(np.float32(hi))])
    if form == "min": return c.node(op, [x, c.init(np.float32(lo))])
    if form == "max": return c.node(op, [x, "", c.init(np.float32(hi))])
    if form == "emptymin": return c.node(op, [x, "", ""])
    return c.node(op, [x])


def g_binary(c, x, s):
    op = R.choice(["Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Mean", "Sum", "Mod", "PRelu", "Where", "Greater",
                   "Less", "Equal", "LessOrEqual", "GreaterOrEqual"])
    bs = bshape(s)
    y = c.init(rnd(bs)) if R.random() < 0.8 else c.init(rnd(bs))
    if op == "Div":
        y = c.init(np.sign(rnd(bs)) * (np.abs(rnd(bs)) + 0.5).astype(np.float32))
    if op == "Pow":
        base = c.node("Add", [c.node("Abs", [x]), c.init(np.float32(0.2))])
        e = np.float32(R.choice([2.0, 0.5, 3.0, -1.0, 1.5])) if R.random() < 0.5 else rnd(bs, 0.5)
        return c.node("Pow", [base, c.init(e)])
    if op == "Mod":
        d = np.sign(rnd(bs)) * (np.abs(rnd(bs)) + 0.5)
        return c.node("Mod", [x, c.init(d.astype(np.float32))], fmod=1)
    if op in ("Max", "Min", "Mean", "Sum"):
        ins = [x, y] + ([c.init(rnd(bshape(s)))] if R.random() < 0.4 else [])
        R.shuffle(ins)
        return c.node(op, ins)
    if op == "PRelu":
        sl = [s[1]] + [1] * (len(s) - 2) if len(s) >= 2 and R.random() < 0.5 else bshape(s)
        return c.node(op, [x, c.init(rnd(sl))])
    if op in ("Greater", "Less", "Equal", "LessOrEqual", "GreaterOrEqual"):
        if op in ("LessOrEqual", "GreaterOrEqual") and c.opset < 12: op = "Less"
        if op == "Equal":
            xr = c.node("Round", [x]) if c.opset >= 11 else x
            cond = c.node(op, [xr, c.init(np.round(rnd(bs)).astype(np.float32))])
        else:
            cond = c.node(op, [x, y])
        return c.node("Where", [cond, x, c.init(rnd(bshape(s)))])
    if op == "Where":
        cond = c.init(rnd(bshape(s)) > 0)
        return c.node("Where", [cond, x, y] if R.random() < 0.5 else [cond, y, x])
    return c.node(op, [x, y] if R.random() < 0.7 else [y, x])


def g_softmax(c, x, s):
    op = R.choice(["Softmax", "LogSoftmax", "Hardmax"])
    ax = R.randint(-len(s), len(s) - 1)
    if R.random() < 0.2: return c.node(op, [x])
    return c.node(op, [x], axis=ax)


def g_reduce(c, x, s):
    op = R.choice(["ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
                   "ReduceLogSumExp", "ReduceSumSquare", "ReduceLogSum", "ArgMax", "ArgMin"])
    r = len(s)
    if op in ("ArgMax", "ArgMin"):
        kw = dict(axis=R.randint(-r, r - 1), keepdims=R.randint(0, 1))
        if c.opset >= 12 and R.random() < 0.5: kw["select_last_index"] = R.randint(0, 1)
        xr = c.node("Round", [x]) if R.random() < 0.5 and c.opset >= 11 else x  # ties
        return c.node(op, [xr], **kw)
    if op == "ReduceLogSum":
        x = c.node("Add", [c.node("Abs", [x]), c.init(np.float32(0.1))])
    k = R.randint(0, r)
    axes = sorted(R.sample(range(r), k))
    axes = [a - r if R.random() < 0.3 else a for a in axes]
    kw = dict(keepdims=R.randint(0, 1))
    if R.random() < 0.15: kw.pop("keepdims")
    if op == "ReduceSum" and c.opset >= 13:
        if not axes and R.random() < 0.5:
            if R.random() < 0.5: kw["noop_with_empty_axes"] = 1
            return c.node(op, [x], **kw)
        return c.node(op, [x, c.init(np.array(axes, np.int64))], **kw)
    if axes: kw["axes"] = axes
    return c.node(op, [x], **kw)


def g_slice(c, x, s):
    r = len(s)
    k = R.randint(1, r)
    axes = R.sample(range(r), k)
    starts, ends, steps = [], [], []
    for a in axes:
        d = s[a]
        st = R.choice([1, 1, 1, 2, -1, -2, 3])
        b = R.randint(-d - 2, d + 2)
        e = R.choice([R.randint(-d - 2, d + 2), 2 ** 62, -(2 ** 62)])
        starts.append(b); ends.append(e); steps.append(st)
    axes = [a - r if R.random() < 0.3 else a for a in axes]
    if c.opset < 10:
        return c.node("Slice", [x], starts=starts, ends=ends, axes=axes)
    ins = [x, c.init(np.array(starts, np.int64)), c.init(np.array(ends, np.int64))]
    if R.random() < 0.8 or any(t != 1 for t in steps):
        ins.append(c.init(np.array(axes, np.int64)))
        ins.append(c.init(np.array(steps, np.int64)))
    return c.node("Slice", ins)


def g_pad(c, x, s):
    r = len(s)
    mode = R.choice(["constant", "edge", "reflect"])
    pads = []
    for i in range(2 * r):
        d = s[i % r]
        lo = -(d - 1) if mode != "constant" else -d
        p = R.randint(max(lo, -2), 3 if mode != "reflect" else min(2, d - 1))
        pads.append(p)
    # keep each dim >= 1 and (reflect) pads < resulting dim
    for i in range(r):
        while s[i] + pads[i] + pads[i + r] < 1:
            if pads[i] < 0: pads[i] += 1
            else: pads[i + r] += 1
    if mode == "reflect":
        for i in range(r):
            if s[i] == 1: pads[i] = pads[i + r] = 0
    val = round(R.uniform(-2, 2), 3)
    if c.opset < 11:
        return c.node("Pad", [x], mode=mode, pads=pads, value=val)
    ins = [x, c.init(np.array(pads, np.int64))]
    if mode == "constant" and R.random() < 0.7: ins.append(c.init(np.float32(val)))
    return c.node("Pad", ins, mode=mode)


def g_shape_ops(c, x, s):
    op = R.choice(["Transpose", "Expand", "Tile", "Flatten", "Reshape", "Squeeze", "Unsqueeze", "Concat", "Split",
                   "DepthToSpace", "SpaceToDepth"])
    r = len(s)
    if op == "Transpose":
        p = list(range(r)); R.shuffle(p)
        return c.node(op, [x], perm=p) if R.random() < 0.85 else c.node(op, [x])
    if op == "Expand":
        t = [d if d != 1 else R.choice([1, 2, 3]) for d in s]
        if R.random() < 0.3: t = [R.randint(1, 2)] + t
        t = [1 if (R.random() < 0.2 and i < len(t) - r + 0) else d for i, d in enumerate(t)]
        return c.node(op, [x, c.init(np.array(t, np.int64))])
    if op == "Tile":
        return c.node(op, [x, c.init(np.array([R.randint(1, 3) for _ in s], np.int64))])
    if op == "Flatten":
        return c.node(op, [x], axis=R.randint(-r, r))
    if op == "Reshape":
        n = int(np.prod(s))
        # random factorisation
        dims = []
        m = n
        while m > 1 and len(dims) < 4:
            f = R.choice([f for f in range(1, m + 1) if m % f == 0])
            dims.append(f); m //= f
        if m > 1 or not dims: dims.append(m)
        if R.random() < 0.5: dims[R.randrange(len(dims))] = -1
        # 0 = copy dim
        for i in range(min(len(dims), r)):
            if dims[i] == s[i] and R.random() < 0.4: dims[i] = 0
        if dims.count(-1) > 1: return None
        return c.node(op, [x, c.init(np.array(dims, np.int64))])
    if op == "Squeeze":
        ones = [i for i, d in enumerate(s) if d == 1]
        if not ones: x = c.node("Unsqueeze", [x, c.init(np.array([0], np.int64))]) if c.opset >= 13 else c.node("Unsqueeze", [x], axes=[0]); ones = [0]
        ax = R.sample(ones, R.randint(1, len(ones)))
        if c.opset >= 13: return c.node(op, [x, c.init(np.array(ax, np.int64))]) if R.random() < 0.8 else c.node(op, [x])
        return c.node(op, [x], axes=ax)
    if op == "Unsqueeze":
        k = R.randint(1, 2)
        ax = sorted(R.sample(range(r + k), k))
        ax = [a - (r + k) if R.random() < 0.3 else a for a in ax]
        if c.opset >= 13: return c.node(op, [x, c.init(np.array(ax, np.int64))])
        return c.node(op, [x], axes=ax)
    if op == "Concat":
        ax = R.randint(-r, r - 1)
        o = list(s); o[ax] = R.randint(1, 3)
        ins = [x, c.init(rnd(o))]
        if R.random() < 0.3: ins.append(x)
        R.shuffle(ins)
        return c.node(op, ins, axis=ax)
    if op == "Split":
        ax = R.randint(-r, r - 1)
        d = s[ax]
        if d < 2: return None
        k = R.randint(2, min(d, 4))
        kw = dict(axis=ax)
        if R.random() < 0.5:
            cuts = sorted(R.sample(range(1, d), k - 1))
            parts = [b - a for a, b in zip([0] + cuts, cuts + [d])]
            if c.opset >= 13:
                outs = c.node(op, [x, c.init(np.array(parts, np.int64))], nout=k, **kw)
            else:
                outs = c.node(op, [x], nout=k, split=parts, **kw)
        else:
            if d % k: return None
            outs = c.node(op, [x], nout=k, **kw)
        c.extra_outputs += outs[1:]
        return outs[0]
    if op in ("DepthToSpace", "SpaceToDepth"):
        if r != 4: return None
        b = R.choice([2, 3])
        if op == "DepthToSpace":
            if s[1] % (b * b): return None
            kw = dict(blocksize=b)
            if c.opset >= 11: kw["mode"] = R.choice(["DCR", "CRD"])
            return c.node(op, [x], **kw)
        if s[2] % b or s[3] % b: return None
        return c.node(op, [x], blocksize=b)


def g_conv(c, x, s):
    r = len(s)
    if r not in (3, 4) or s[1] > 8: return None
    nd = r - 2
    C = s[1]
    group = R.choice([g for g in range(1, C + 1) if C % g == 0]) if R.random() < 0.4 else 1
    M = group * R.randint(1, 3)
    k = [R.randint(1, min(3, s[2 + i] + 2)) for i in range(nd)]
    strides = [R.randint(1, 3) for _ in range(nd)]
    dil = [R.randint(1, 2) for _ in range(nd)]
    op = R.choice(["Conv", "Conv", "ConvTranspose"])
    kw = {}
    ap = R.choice(["NOTSET", "NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"])
    if op == "Conv":
        w = c.init(rnd([M, C // group] + k, 0.5))
        if ap != "NOTSET": kw["auto_pad"] = ap
        else:
            kw["pads"] = [R.randint(0, k[i % nd] - 1 if k[i % nd] > 1 else 0) for i in range(2 * nd)]
        if ap == "NOTSET" or R.random() < 0.5: kw["dilations"] = dil
    else:
        w = c.init(rnd([C, M // group] + k, 0.5))
        if ap in ("SAME_UPPER", "SAME_LOWER"):
            kw["auto_pad"] = ap
        elif ap == "VALID":
            kw["auto_pad"] = ap
        else:
            kw["pads"] = [R.randint(0, k[i % nd] - 1) for i in range(2 * nd)]
            if R.random() < 0.4: kw["output_padding"] = [R.randint(0, max(strides[i], dil[i]) - 1) for i in range(nd)]
            kw["dilations"] = dil
        if R.random() < 0.2 and ap == "NOTSET":
            kw.pop("pads", None); kw.pop("output_padding", None)
            kw["output_shape"] = [(s[2 + i] - 1) * strides[i] + (k[i] - 1) * dil[i] + 1 + R.randint(0, strides[i] - 1) for i in range(nd)]
    kw["strides"] = strides
    if R.random() < 0.3: kw["kernel_shape"] = k
    if group > 1: kw["group"] = group
    ins = [x, w]
    if R.random() < 0.6: ins.append(c.init(rnd([M])))
    return c.node(op, ins, **kw)


def g_pool(c, x, s):
    r = len(s)
    if r not in (3, 4): return None
    nd = r - 2
    op = R.choice(["MaxPool", "AveragePool", "LpPool", "GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool"])
    if op.startswith("Global"):
        return c.node(op, [x], **({"p": R.randint(1, 3)} if op == "GlobalLpPool" else {}))
    k = [R.randint(1, min(4, s[2 + i] + 1)) for i in range(nd)]
    kw = dict(kernel_shape=k, strides=[R.randint(1, 3) for _ in range(nd)])
    ap = R.choice(["NOTSET", "NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"])
    if ap != "NOTSET": kw["auto_pad"] = ap
    else:
        kw["pads"] = [R.randint(0, k[i % nd] - 1) for i in range(2 * nd)]
        if R.random() < 0.5 and c.opset >= 10 and op != "LpPool": kw["ceil_mode"] = 1
    if op == "MaxPool" and c.opset >= 10 and R.random() < 0.4:
        kw["dilations"] = [R.randint(1, 2) for _ in range(nd)]
    if op == "AveragePool" and R.random() < 0.5: kw["count_include_pad"] = 1
    if op == "LpPool": kw["p"] = R.randint(1, 3)
    if op == "MaxPool" and R.random() < 0.3:
        outs = c.node(op, [x], nout=2, **kw)
        c.extra_outputs.append(outs[1])
        return outs[0]
    return c.node(op, [x], **kw)


def g_resize(c, x, s):
    r = len(s)
    mode = R.choice(["nearest", "linear", "cubic"])
    if mode in ("linear", "cubic") and r > 4: return None
    kw = dict(mode=mode)
    ctm = R.choice(["half_pixel", "asymmetric", "align_corners", "pytorch_half_pixel"] + (["tf_half_pixel_for_nearest"] if mode == "nearest" else []))
    if c.opset >= 11: kw["coordinate_transformation_mode"] = ctm
    if mode == "nearest" and c.opset >= 11: kw["nearest_mode"] = R.choice(["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"])
    if mode == "cubic":
        kw["cubic_coeff_a"] = R.choice([-0.75, -0.5])
        if R.random() < 0.3: kw["exclude_outside"] = 1
    # which dims change: only the last 2 for linear/cubic (ORT's support), any for nearest
    ch = list(range(max(0, r - 2), r)) if mode != "nearest" or R.random() < 0.7 else list(range(r))
    if c.opset < 11:
        if mode == "cubic": return None
        scales = [1.0] * r
        for a in ch: scales[a] = R.choice([0.5, 2.0, 3.0, 1.5])
        kw.pop("coordinate_transformation_mode", None)
        return c.node("Resize" if c.opset == 10 else "Upsample", [x, c.init(np.array(scales, np.float32))], **kw)
    empty_roi = c.init(np.array([], np.float32)) if c.opset < 13 or R.random() < 0.5 else ""
    if R.random() < 0.5:
        scales = [1.0] * r
        for a in ch: scales[a] = R.choice([0.5, 2.0, 3.0, 1.5, 0.75, 1.25, 0.6])
        return c.node("Resize", [x, empty_roi, c.init(np.array(scales, np.float32))], **kw)
    sizes = list(s)
    for a in ch: sizes[a] = R.randint(1, 2 * s[a] + 2)
    sc = c.init(np.array([], np.float32)) if c.opset < 13 else ""
    return c.node("Resize", [x, empty_roi, sc, c.init(np.array(sizes, np.int64))], **kw)


def g_norm(c, x, s):
    r = len(s)
    op = R.choice(["InstanceNormalization", "LRN", "LpNormalization", "MeanVarianceNormalization", "BatchNormalization",
                   "LayerNormalization"])
    if op == "InstanceNormalization":
        if r < 3: return None
        return c.node(op, [x, c.init(rnd([s[1]])), c.init(rnd([s[1]]))], epsilon=R.choice([1e-5, 1e-3, 0.1]))
    if op == "LRN":
        if r != 4: return None
        return c.node(op, [x], size=R.randint(1, 5), alpha=R.choice([1e-4, 0.01, 0.5]), beta=R.choice([0.75, 0.5, 1.0]), bias=R.choice([1.0, 2.0, 0.5]))
    if op == "LpNormalization":
        return c.node(op, [x], axis=R.randint(-r, r - 1), p=R.randint(1, 2))
    if op == "MeanVarianceNormalization":
        if r < 2: return None
        ax = sorted(R.sample(range(r), R.randint(1, r)))
        return c.node(op, [x], axes=ax) if R.random() < 0.6 else (c.node(op, [x]) if r == 4 else None)
    if op == "BatchNormalization":
        if r < 2: return None
        C = s[1]
        var = np.abs(rnd([C])) + 0.1
        return c.node(op, [x, c.init(rnd([C])), c.init(rnd([C])), c.init(rnd([C])), c.init(var.astype(np.float32))], epsilon=R.choice([1e-5, 1e-3]))
    if op == "LayerNormalization":
        if c.opset < 17: return None
        ax = R.randint(-r, r - 1)
        ns = s[ax:] if ax >= 0 else s[ax:]
        ins = [x, c.init(rnd(ns))]
        if R.random() < 0.6: ins.append(c.init(rnd(ns)))
        return c.node(op, ins, axis=ax, epsilon=R.choice([1e-5, 1e-3]))


def g_index(c, x, s):
    r = len(s)
    op = R.choice(["Gather", "GatherElements", "GatherND", "TopK", "CumSum", "Trilu", "ScatterND", "ScatterElements",
                   "Compress", "OneHotLike", "Einsum", "MatMul", "Gemm"])
    if op == "Gather":
        ax = R.randint(-r, r - 1)
        d = s[ax]
        ish = R.choice([[], [R.randint(1, 4)], [2, R.randint(1, 3)]])
        idx = np.random.RandomState(R.randrange(1 << 30)).randint(-d, d, size=ish).astype(R.choice([np.int64, np.int32]))
        return c.node(op, [x, c.init(idx)], axis=ax)
    if op == "GatherElements":
        if c.opset < 11: return None
        ax = R.randint(-r, r - 1)
        ish = list(s); ish[ax] = R.randint(1, 4)
        ish = [min(a, R.randint(1, a)) if i != (ax % r) else a for i, a in enumerate(ish)]
        idx = np.random.RandomState(R.randrange(1 << 30)).randint(-s[ax], s[ax], size=ish).astype(np.int64)
        return c.node(op, [x, c.init(idx)], axis=ax)
    if op == "GatherND":
        if c.opset < 11: return None
        bd = R.randint(0, min(1, r - 1)) if c.opset >= 12 else 0
        k = R.randint(1, r - bd)
        n = R.randint(1, 3)
        pre = list(s[:bd])
        idx = np.stack([np.random.RandomState(R.randrange(1 << 30)).randint(0, s[bd + j], size=pre + [n]) for j in range(k)], -1).astype(np.int64)
        kw = {"batch_dims": bd} if bd else {}
        return c.node(op, [x, c.init(idx)], **kw)
    if op == "TopK":
        ax = R.randint(-r, r - 1)
        k = R.randint(1, s[ax])
        kw = dict(axis=ax)
        if c.opset >= 11:
            kw["largest"] = R.randint(0, 1)
            if R.random() < 0.3: kw["sorted"] = 1
        if c.opset >= 10:
            outs = c.node(op, [x, c.init(np.array([k], np.int64))], nout=2, **kw)
        else:
            outs = c.node(op, [x], nout=2, k=k, **kw)
        c.extra_outputs.append(outs[1])
        return outs[0]
    if op == "CumSum":
        if c.opset < 11: return None
        return c.node(op, [x, c.init(np.int64(R.randint(-r, r - 1)))], exclusive=R.randint(0, 1), reverse=R.randint(0, 1))
    if op == "Trilu":
        if c.opset < 14 or r < 2: return None
        ins = [x] + ([c.init(np.int64(R.randint(-3, 3)))] if R.random() < 0.7 else [])
        return c.node(op, ins, upper=R.randint(0, 1))
    if op == "ScatterND":
        if c.opset < 11: return None
        k = R.randint(1, r)
        # unique indices
        tot = int(np.prod(s[:k]))
        n = R.randint(1, min(4, tot))
        flat = R.sample(range(tot), n)
        idx = np.array(np.unravel_index(flat, s[:k])).T.astype(np.int64)
        upd = rnd([n] + list(s[k:]))
        kw = {}
        if c.opset >= 16 and R.random() < 0.4: kw["reduction"] = R.choice(["add", "mul"])
        return c.node(op, [x, c.init(idx), c.init(upd)], **kw)
    if op == "ScatterElements":
        if c.opset < 11: return None
        ax = R.randint(-r, r - 1)
        a = ax % r
        ish = [R.randint(1, d) for d in s]
        ish[a] = 1
        idx = np.random.RandomState(R.randrange(1 << 30)).randint(-s[a], s[a], size=ish).astype(np.int64)
        kw = dict(axis=ax)
        if c.opset >= 16 and R.random() < 0.4: kw["reduction"] = R.choice(["add", "mul"])
        return c.node(op, [x, c.init(idx), c.init(rnd(ish))], **kw)
    if op == "Compress":
        if c.opset < 11: return None
        ax = R.randint(-r, r - 1) if R.random() < 0.8 else None
        n = s[ax] if ax is not None else int(np.prod(s))
        cond = np.array([R.random() < 0.6 for _ in range(R.randint(1, n))])
        if not cond.any(): cond[0] = True
        kw = {} if ax is None else dict(axis=ax)
        return c.node(op, [x, c.init(cond)], **kw)
    if op == "OneHotLike":
        return None
    if op == "Einsum":
        if c.opset < 12: return None
        letters = "abcd"[:r]
        o = list(letters); R.shuffle(o)
        o = "".join(o[:R.randint(0, r)])
        if R.random() < 0.5:
            return c.node(op, [x], equation=f"{letters}->{o}")
        # contract last dim with a matrix
        j = R.randint(1, 4)
        return c.node(op, [x, c.init(rnd([s[-1], j]))], equation=f"{letters},{letters[-1]}e->{letters[:-1]}e")
    if op == "MatMul":
        if r == 1:
            return c.node(op, [x, c.init(rnd([s[0], R.randint(1, 4)]))]) if R.random() < 0.5 else c.node(op, [c.init(rnd([R.randint(1, 3), s[0]])), x])
        if R.random() < 0.5:
            bsh = [R.choice([1, d]) for d in s[:-2]] if R.random() < 0.5 else []
            return c.node(op, [x, c.init(rnd(bsh + [s[-1], R.randint(1, 5)]))])
        if R.random() < 0.3: return c.node(op, [x, c.init(rnd([s[-1]]))])
        return c.node(op, [c.init(rnd([R.randint(1, 4), s[-2]])), x])
    if op == "Gemm":
        if r != 2: return None
        ta, tb = R.randint(0, 1), R.randint(0, 1)
        M, K = (s[1], s[0]) if ta else (s[0], s[1])
        N = R.randint(1, 5)
        b = rnd([N, K] if tb else [K, N])
        kw = dict(transA=ta, transB=tb)
        if R.random() < 0.5: kw["alpha"] = round(R.uniform(-2, 2), 3)
        if R.random() < 0.5: kw["beta"] = round(R.uniform(-2, 2), 3)
        ins = [x, c.init(b)]
        if R.random() < 0.7 or c.opset < 11:
            ins.append(c.init(rnd(R.choice([[], [N], [1, N], [M, 1], [M, N]]))))
        return c.node(op, ins, **kw)


def g_rnn(c, x, s):
    if len(s) != 3: return None
    op = R.choice(["LSTM", "GRU", "RNN"])
    layout = 1 if c.opset >= 14 and R.random() < 0.3 else 0
    S, B, I = (s[1], s[0], s[2]) if layout else (s[0], s[1], s[2])
    H = R.randint(1, 6)
    direction = R.choice(["forward", "reverse", "bidirectional"])
    D = 2 if direction == "bidirectional" else 1
    G = {"LSTM": 4, "GRU": 3, "RNN": 1}[op]
    ins = [x, c.init(rnd([D, G * H, I], 0.5)), c.init(rnd([D, G * H, H], 0.5))]
    opt = []
    opt.append(c.init(rnd([D, 2 * G * H], 0.5)) if R.random() < 0.7 else "")
    if R.random() < 0.4:
        opt.append(c.init(np.array([R.randint(1, S) for _ in range(B)], np.int32)))
    else:
        opt.append("")
    hshape = [B, D, H] if layout else [D, B, H]
    opt.append(c.init(rnd(hshape, 0.5)) if R.random() < 0.4 else "")
    if op == "LSTM":
        opt.append(c.init(rnd(hshape, 0.5)) if R.random() < 0.4 else "")
        opt.append(c.init(rnd([D, 3 * H], 0.5)) if R.random() < 0.2 else "")
    while opt and opt[-1] == "": opt.pop()
    kw = dict(hidden_size=H, direction=direction)
    if layout: kw["layout"] = 1
    if op == "GRU": kw["linear_before_reset"] = R.randint(0, 1)
    if op == "RNN" and R.random() < 0.5: kw["activations"] = [R.choice(["Tanh", "Relu", "Sigmoid"])] * D
    nout = R.choice([1, 2, 3]) if op == "LSTM" else R.choice([1, 2])
    outs = c.node(op, ins + opt, nout=nout, **kw)
    if nout == 1: return outs
    c.extra_outputs += outs[1:]
    return outs[0]


def g_int(c, x, s):
    it = R.choice([TensorProto.INT64, TensorProto.INT32])
    npt = np.int64 if it == TensorProto.INT64 else np.int32
    xi = c.node("Cast", [c.node("Round", [c.node("Mul", [x, c.init(np.float32(R.choice([3.0, 10.0, 0.5])))])]) if c.opset >= 11 else c.node("Mul", [x, c.init(np.float32(4.0))])], to=it)
    op = R.choice(["Add", "Sub", "Mul", "Div", "Mod", "Abs", "Neg", "Max", "Min", "ReduceSum", "ArgMax", "Equal", "Greater", "Clip", "CumSum", "Sign", "Where", "Less"])
    bs = bshape(s)
    y = np.random.RandomState(R.randrange(1 << 30)).randint(-7, 8, size=bs).astype(npt)
    if op in ("Div", "Mod"):
        y[y == 0] = 3
    yi = c.init(y)
    if op in ("Add", "Sub", "Mul", "Div", "Max", "Min"):
        if op in ("Max", "Min") and c.opset < 12: return None
        r = c.node(op, [xi, yi] if R.random() < 0.6 else [yi, xi]) if op not in ("Div",) else c.node(op, [xi, yi])
    elif op == "Mod":
        r = c.node(op, [xi, yi], fmod=0) if R.random() < 0.5 else c.node(op, [xi, yi])
    elif op in ("Abs", "Neg"):
        r = c.node(op, [xi])
    elif op == "Sign":
        if c.opset < 9: return None
        r = c.node(op, [xi])
    elif op == "ReduceSum":
        ax = R.randint(0, len(s) - 1)
        r = c.node(op, [xi, c.init(np.array([ax], np.int64))], keepdims=R.randint(0, 1)) if c.opset >= 13 else c.node(op, [xi], axes=[ax], keepdims=1)
    elif op == "ArgMax":
        r = c.node(op, [xi], axis=R.randint(0, len(s) - 1))
    elif op in ("Equal", "Greater", "Less"):
        cond = c.node(op, [xi, yi])
        return c.node("Where", [cond, x, c.init(rnd(bshape(s)))])
    elif op == "Where":
        return c.node("Cast", [c.node("Where", [c.init(rnd(bshape(s)) > 0), xi, yi])], to=TensorProto.FLOAT)
    elif op == "Clip":
        if c.opset < 12: return None
        r = c.node(op, [xi, c.init(npt(-3)), c.init(npt(4))])
    elif op == "CumSum":
        if c.opset < 11: return None
        r = c.node(op, [xi, c.init(np.int64(R.randint(0, len(s) - 1)))])
    return c.node("Cast", [r], to=TensorProto.FLOAT)


def g_quant(c, x, s):
    if c.opset < 10: return None
    r = len(s)
    qt = R.choice([np.uint8, np.int8])
    per_axis = c.opset >= 13 and r >= 1 and R.random() < 0.4
    if per_axis:
        ax = R.randint(-r, r - 1)
        n = s[ax]
        scale = np.abs(rnd([n], 0.1)) + 0.01
        zp = np.random.RandomState(R.randrange(1 << 30)).randint(0, 20 if qt == np.uint8 else 10, size=[n]).astype(qt)
        if qt == np.uint8: zp = zp + 100
        kw = dict(axis=ax)
    else:
        scale = np.float32(abs(R.gauss(0, 0.1)) + 0.005)
        zp = qt(R.randint(100, 150) if qt == np.uint8 else R.randint(-10, 10))
        kw = {}
    sc, z = c.init(np.asarray(scale, np.float32)), c.init(np.asarray(zp, qt))
    ins = [x, sc, z] if R.random() < 0.85 else [x, sc]
    if len(ins) == 2 and qt == np.int8: return None
    q = c.node("QuantizeLinear", ins, **kw)
    form = R.choice(["dq", "dq", "add", "relu"])
    if form == "add":   # integer value used twice: quantized residual add written as DQ + Add + Q + DQ
        d1 = c.node("DequantizeLinear", [q] + ins[1:], **kw)
        y = c.node("Add", [d1, c.init(rnd(bshape(s)))])
        q2 = c.node("QuantizeLinear", [y] + ins[1:], **kw)
        return c.node("DequantizeLinear", [q2] + ins[1:], **kw)
    if form == "relu":
        return c.node("Relu", [c.node("DequantizeLinear", [q] + ins[1:], **kw)])
    return c.node("DequantizeLinear", [q] + ins[1:], **kw)


def g_shapecalc(c, x, s):
    r = len(s)
    form = R.choice(["reshape_from_shape", "constantofshape", "range", "onehot", "eyelike", "size"])
    if form == "reshape_from_shape":
        if r < 2: return None
        sh = c.node("Shape", [x])
        first = c.node("Gather", [sh, c.init(np.int64(0))], axis=0)
        tail = c.init(np.array([-1], np.int64))
        us = c.node("Unsqueeze", [first, c.init(np.array([0], np.int64))]) if c.opset >= 13 else c.node("Unsqueeze", [first], axes=[0])
        return c.node("Reshape", [x, c.node("Concat", [us, tail], axis=0)])
    if form == "constantofshape":
        sh = c.node("Shape", [x])
        z = c.node("ConstantOfShape", [sh], value=helper.make_tensor("v", TensorProto.FLOAT, [1], [R.uniform(-1, 1)]))
        return c.node("Add", [x, z])
    if form == "range":
        if c.opset < 11: return None
        n = s[-1]
        start, delta = R.choice([0.0, 1.5, -2.0]), R.choice([1.0, 0.5, -0.25])
        rg = c.node("Range", [c.init(np.float32(start)), c.init(np.float32(start + delta * n)), c.init(np.float32(delta))])
        return c.node("Mul", [x, rg])
    if form == "onehot":
        if c.opset < 11: return None
        d = s[-1]
        idx = c.init(np.random.RandomState(R.randrange(1 << 30)).randint(-d, d, size=list(s[:-1])).astype(np.int64))
        oh = c.node("OneHot", [idx, c.init(np.array([d], np.int64)), c.init(np.array([-0.5, 2.0], np.float32))], axis=-1)
        return c.node("Add", [x, oh])
    if form == "eyelike":
        if r != 2: return None
        return c.node("Add", [x, c.node("EyeLike", [x], k=R.randint(-2, 2))])
    if form == "size":
        sz = c.node("Cast", [c.node("Size", [x])], to=TensorProto.FLOAT)
        return c.node("Div", [x, sz])


def g_attn(c, x, s):
    if len(s) != 3 or c.opset < 13: return None
    B, T, E = s
    H = R.choice([h for h in (1, 2, 3) if E % h == 0])
    Dh = E // H
    def proj(tag):
        y = c.node("MatMul", [x, c.init(rnd([E, E], 0.4))])
        if R.random() < 0.7: y = c.node("Add", [y, c.init(rnd([E], 0.1))])
        y = c.node("Reshape", [y, c.init(np.array([0, 0, H, Dh] if R.random() < 0.5 else [-1, T, H, Dh], np.int64))])
        return c.node("Transpose", [y], perm=[0, 2, 1, 3])
    q, k, v = proj("q"), proj("k"), proj("v")
    if R.random() < 0.5:
        sc = c.node("MatMul", [q, c.node("Transpose", [k], perm=[0, 1, 3, 2])])
    else:
        sc = c.node("Einsum", [q, k], equation="bhqd,bhkd->bhqk")
    sc = c.node("Div", [sc, c.init(np.float32(np.sqrt(Dh)))]) if R.random() < 0.5 else c.node("Mul", [sc, c.init(np.float32(1 / np.sqrt(Dh)))])
    m = R.choice(["none", "causal_where", "additive", "padding"])
    if m == "causal_where":
        mask = np.tril(np.ones((T, T), bool))
        sc = c.node("Where", [c.init(mask), sc, c.init(np.float32(R.choice([-1e9, -np.inf, -10000.0])))])
    elif m == "additive":
        sc = c.node("Add", [sc, c.init(rnd([1, 1, T, T]))])
    elif m == "padding":
        pm = np.ones((B, 1, 1, T), bool); pm[..., -1] = R.random() < 0.5
        sc = c.node("Where", [c.init(pm), sc, c.init(np.float32(-1e9))])
    p = c.node("Softmax", [sc], axis=-1)
    o = c.node("MatMul", [p, v]) if R.random() < 0.5 else c.node("Einsum", [p, v], equation="bhqk,bhkd->bhqd")
    o = c.node("Reshape", [c.node("Transpose", [o], perm=[0, 2, 1, 3]), c.init(np.array([0, 0, E] if R.random() < 0.5 else [-1, T, E], np.int64))])
    o = c.node("MatMul", [o, c.init(rnd([E, E], 0.4))])
    r = c.node("Add", [x, o])
    if R.random() < 0.6 and c.opset >= 17:
        return c.node("LayerNormalization", [r, c.init(rnd([E])), c.init(rnd([E]))], axis=-1, epsilon=1e-5)
    return r


def sub_graph(name, nodes, ins, outs):
    return helper.make_graph(nodes, name, ins, outs)


def g_control(c, x, s):
    """Sequences (SplitToSequence, Construct/Insert/Erase/At, ConcatFromSequence), Scan and Loop over X's slices (their
    bodies reading constants of the outer graph): the import resolves sequences and unrolls the loops when importing.
    ONNX's shape inference leaves these outputs' shapes open, so each ends in a Reshape to the shape the spec gives."""
    r = len(s)
    form = R.choice(["split_seq", "list", "scan", "loop"])
    axis = R.randrange(r)
    neg = axis - r if R.random() < 0.4 else axis

    def shaped(y, shape):
        return c.node("Reshape", [y, c.init(np.array(shape, np.int64))])

    def inserted(shape, at, size):   # shape with a new dim of size at position at (normalized for the longer rank)
        at = at + len(shape) + 1 if at < 0 else at
        return list(shape[:at]) + [size] + list(shape[at:])

    if form == "split_seq":
        if c.opset < 11: return None
        d = s[axis]
        kind = R.choice(["vector", "scalar", "none"])
        if kind == "vector":
            cuts = sorted(R.randint(0, d) for _ in range(R.randint(0, 2)))
            sizes = [b - a for a, b in zip([0] + cuts, cuts + [d])]
            seq = c.node("SplitToSequence", [x, c.init(np.array(sizes, np.int64))], axis=neg)
        elif kind == "scalar":
            k = R.randint(1, d)
            seq = c.node("SplitToSequence", [x, c.init(np.int64(k))], axis=neg)
            sizes = [min(k, d - i) for i in range(0, d, k)]
        else:
            keep = R.randint(0, 1)
            seq = c.node("SplitToSequence", [x], axis=neg, keepdims=keep)
            sizes = [1] * d
            if not keep:
                rest = [v for i, v in enumerate(s) if i != axis]
                if R.random() < 0.5 and r >= 2:
                    a = R.randint(-r, r - 1)
                    return shaped(c.node("ConcatFromSequence", [seq], axis=a, new_axis=1), inserted(rest, a, d))
                pos = R.randint(-d, d - 1)
                return shaped(c.node("SequenceAt", [seq, c.init(np.int64(pos))]), rest)
        n = len(sizes)
        if R.random() < 0.5:
            return shaped(c.node("ConcatFromSequence", [seq], axis=neg), s)   # back to X, empty pieces included
        pos = R.choice([p for p in range(-n, n) if sizes[p] > 0] or [None])
        if pos is None: return None
        out = list(s)
        out[axis] = sizes[pos]
        return shaped(c.node("SequenceAt", [seq, c.init(np.int64(pos))]), out)
    if form == "list":
        if c.opset < 11: return None
        a = c.node("Tanh", [x])
        b = c.node("Mul", [x, c.init(np.float32(0.5))])
        seq = c.node("SequenceConstruct", [x, a])
        seq = c.node("SequenceInsert", [seq, b, c.init(np.int64(R.randint(-2, 2)))])
        n = 3
        if R.random() < 0.5:
            seq = c.node("SequenceErase", [seq, c.init(np.int64(R.randint(-3, 2)))])
            n = 2
        if R.random() < 0.5:
            at = R.randint(-r - 1, r)
            return shaped(c.node("ConcatFromSequence", [seq], axis=at, new_axis=1), inserted(s, at, n))
        return shaped(c.node("SequenceAt", [seq, c.init(np.int64(R.randint(-n, n - 1)))]), s)
    if form == "scan":
        if c.opset < 9 or r < 2: return None
        rest = [d for i, d in enumerate(s) if i != axis]
        st_in, sl, st_out, y_t, t1 = (c.name(p) for p in ("st_in", "sl", "st_out", "y_t", "t"))
        body = helper.make_graph([
            helper.make_node("Mul", [st_in, c.init(np.float32(0.5))], [t1]),
            helper.make_node("Add", [t1, sl], [st_out]),
            helper.make_node("Tanh", [st_out], [y_t]),
        ], c.name("scan_body"), [helper.make_tensor_value_info(st_in, F, rest), helper.make_tensor_value_info(sl, F, rest)],
            [helper.make_tensor_value_info(st_out, F, rest), helper.make_tensor_value_info(y_t, F, rest)])
        out_axis = R.randrange(r)
        o_attr = out_axis - r if c.opset >= 11 and R.random() < 0.4 else out_axis
        final, ys = c.node("Scan", [c.init(rnd(rest)), x], nout=2, body=body, num_scan_inputs=1,
                           scan_input_axes=[neg if c.opset >= 11 else axis], scan_input_directions=[R.randint(0, 1)],
                           scan_output_axes=[o_attr], scan_output_directions=[R.randint(0, 1)])
        if R.random() < 0.7:
            return shaped(ys, inserted(rest, out_axis, s[axis]))
        return shaped(final, rest)
    if form == "loop":
        if c.opset < 11: return None
        trips = R.randint(1, 4)
        i, cin, y_in, y_out, cout, fi, t1, y_t = (c.name(p) for p in ("i", "cin", "y_in", "y_out", "cout", "fi", "t", "y_t"))
        body = helper.make_graph([
            helper.make_node("Identity", [cin], [cout]),
            helper.make_node("Cast", [i], [fi], to=F),
            helper.make_node("Mul", [y_in, c.init(np.float32(0.75))], [t1]),
            helper.make_node("Add", [t1, fi], [y_out]),
            helper.make_node("Sin", [y_out], [y_t]),
        ], c.name("loop_body"), [helper.make_tensor_value_info(i, I64, []), helper.make_tensor_value_info(cin, TensorProto.BOOL, []),
                                 helper.make_tensor_value_info(y_in, F, s)],
            [helper.make_tensor_value_info(cout, TensorProto.BOOL, []), helper.make_tensor_value_info(y_out, F, s),
             helper.make_tensor_value_info(y_t, F, s)])
        final, ys = c.node("Loop", [c.init(np.int64(trips)), c.init(np.array(True)), x], nout=2, body=body)
        if R.random() < 0.5:
            return shaped(ys, [trips] + list(s))
        return shaped(final, s)


GENS = [g_unary, g_unary_attr, g_binary, g_softmax, g_reduce, g_slice, g_pad, g_shape_ops, g_conv, g_pool, g_resize,
        g_norm, g_index, g_rnn, g_int, g_quant, g_shapecalc, g_attn, g_control]


if opts.families:
    GENS = [globals()["g_" + g] for g in opts.families.split(",")]


def shape_of(model, name):
    try:
        m = shape_inference.infer_shapes(model, strict_mode=True)
    except Exception:
        return None
    for v in list(m.graph.value_info) + list(m.graph.output):
        if v.name == name:
            t = v.type.tensor_type
            if not t.HasField("shape"): return None
            dims = [d.dim_value if d.HasField("dim_value") else None for d in t.shape.dim]
            if any(d is None or d == 0 for d in dims): return None
            return dims, t.elem_type
    return None


def build(c, x_shape, outs, out_types):
    ins = [helper.make_tensor_value_info("X", F, x_shape)]
    g = helper.make_graph(c.nodes, "fuzz", ins, [helper.make_tensor_value_info(o, t, None) for o, t in zip(outs, out_types)], c.inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", c.opset)], producer_name="panama-dnn ort-probe")


def layout0_reference(model):
    """The model with each layout-1 LSTM/GRU/RNN as Transposes around a layout-0 one (ONNX Runtime has no layout 1), or None."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    nodes, changed = [], False
    for n in m.graph.node:
        at = {a.name: a for a in n.attribute}
        if n.op_type not in ("LSTM", "GRU", "RNN") or "layout" not in at or at["layout"].i != 1:
            nodes.append(n)
            continue
        changed = True
        ins = list(n.input)
        nodes.append(helper.make_node("Transpose", [ins[0]], [ins[0] + "_t"], perm=[1, 0, 2]))
        ins[0] += "_t"
        for k in (5, 6):   # initial_h, initial_c
            if len(ins) > k and ins[k]:
                nodes.append(helper.make_node("Transpose", [ins[k]], [ins[k] + "_t"], perm=[1, 0, 2]))
                ins[k] += "_t"
        outs = list(n.output)
        layout0 = [o + "_l0" if o else "" for o in outs]
        node = helper.make_node(n.op_type, ins, layout0)
        node.attribute.extend([a for a in n.attribute if a.name != "layout"])
        nodes.append(node)
        for i, o in enumerate(outs):
            if o:
                nodes.append(helper.make_node("Transpose", [layout0[i]], [o], perm=[2, 0, 1, 3] if i == 0 else [1, 0, 2]))
    if not changed:
        return None
    del m.graph.node[:]
    m.graph.node.extend(nodes)
    return m


IR = {18: 8, 19: 9, 20: 9, 21: 10, 22: 10, 23: 11}
REDUCE18 = {"ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"}


def upgrade(model, target, out_shape):
    """model (opset 17, checked) in opset target's forms, and a new op of 18+ appended to its first output where it fits."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    m.ir_version = IR[target]
    m.opset_import[0].version = target
    inits = {t.name: t for t in m.graph.initializer}
    k = [0]

    def const(arr):
        k[0] += 1
        nm = f"up{k[0]}"
        m.graph.initializer.append(numpy_helper.from_array(np.asarray(arr), nm))
        return nm

    for n in m.graph.node:
        at = {a.name: a for a in n.attribute}
        if n.op_type in REDUCE18 and "axes" in at:
            axes = list(at["axes"].ints)
            n.attribute.remove(at["axes"])
            del n.input[1:]
            n.input.append(const(np.array(axes, np.int64)))
        elif n.op_type in REDUCE18 and R.random() < 0.3:
            n.attribute.append(helper.make_attribute("noop_with_empty_axes", 1))   # no axes: the identity
        elif n.op_type == "Split" and len(n.input) > 1 and n.input[1] in inits and R.random() < 0.7:
            sizes = list(numpy_helper.to_array(inits[n.input[1]]))
            parts, total = len(sizes), int(sum(sizes))
            chunk = -(-total // parts)
            if sizes == [min(chunk, total - i * chunk) for i in range(parts)] and chunk * (parts - 1) < total:
                del n.input[1:]
                n.attribute.append(helper.make_attribute("num_outputs", parts))
        elif n.op_type == "Pad" and len(n.input) > 1 and n.input[1] in inits and R.random() < 0.7:
            pads = list(numpy_helper.to_array(inits[n.input[1]]))
            r = len(pads) // 2
            if r == 0:
                continue
            axes = [d for d in range(r) if pads[d] or pads[d + r]] or [0]
            ins = list(n.input) + [""] * (3 - len(n.input))
            ins[1] = const(np.array([pads[d] for d in axes] + [pads[d + r] for d in axes], np.int64))
            ins.append(const(np.array([d - r if R.random() < 0.5 else d for d in axes], np.int64)))
            del n.input[:]
            n.input.extend(ins)
        elif n.op_type == "Resize" and R.random() < 0.7 and (
                "coordinate_transformation_mode" not in at or at["coordinate_transformation_mode"].s != b"tf_crop_and_resize"):
            ins = list(n.input) + [""] * (4 - len(n.input))
            which = 3 if ins[3] else 2
            if ins[which] not in inits:
                continue
            v = numpy_helper.to_array(inits[ins[which]])
            r = len(v)
            if r == 0:
                continue
            axes = [d for d in range(r) if (v[d] != 1 if which == 2 else True)][-2:] or [r - 1]
            ins[which] = const(np.array([v[d] for d in axes], v.dtype))
            ins[1] = ""
            if which == 3: ins[2] = ""
            del n.input[:]
            n.input.extend(ins[:which + 1])
            n.attribute.append(helper.make_attribute("axes", [d - r if R.random() < 0.5 else d for d in axes]))
        elif n.op_type == "GridSample" and target >= 20 and "mode" in at:
            at["mode"].s = {b"bilinear": b"linear", b"bicubic": b"cubic"}.get(at["mode"].s, at["mode"].s)
    # a new op at the end of the first output, where its shape fits
    o = m.graph.output[0]
    if o.type.tensor_type.elem_type != F or not out_shape or min(out_shape) < 1 or R.random() < 0.4:
        return m
    shape = out_shape
    choices = ["Mish"] + (["Gelu"] if target >= 20 else []) + (["RMSNormalization"] if target >= 23 else [])
    if target >= 23 and len(shape) == 4:
        choices += ["Attention", "Attention"] + (["RotaryEmbedding"] * 3 if shape[3] % 2 == 0 else [])
    if len(shape) >= 3 and shape[1] % 2 == 0:
        choices.append("GroupNormalization")
    op = R.choice(choices)
    y = o.name + "_new"
    if op == "Mish":
        node = helper.make_node("Mish", [o.name], [y])
    elif op == "Gelu":
        node = helper.make_node("Gelu", [o.name], [y], approximate=R.choice(["none", "tanh"]))
    elif op == "Attention":   # self-attention of the output as Q, K and V ([B, H, S, D])
        ins = [o.name, o.name, o.name]
        kw = {}
        if R.random() < 0.4: kw["is_causal"] = 1
        if R.random() < 0.4: kw["scale"] = R.choice([0.1, 0.5, 2.0])
        if R.random() < 0.3: kw["softcap"] = R.choice([1.0, 3.0])
        S = shape[2]
        if R.random() < 0.5:
            if R.random() < 0.5:
                mk = np.array([[R.random() < 0.6 for _ in range(S)] for _ in range(S)])
                if R.random() < 0.5: mk[R.randrange(S)] = False   # a fully masked row
                ins.append(const(mk))
            else:
                ins.append(const(rnd([S, S])))
        node = helper.make_node("Attention", ins, [y], **kw)
    elif op == "RotaryEmbedding":
        B, H, S, D = shape
        r = R.choice([d for d in range(2, D + 1, 2)])
        pos = np.array([[R.randrange(S + 3) for _ in range(S)] for _ in range(B)], np.int64)
        ang = rnd([S + 3, r // 2])
        kw = {"interleaved": R.randint(0, 1)}
        if r != D or R.random() < 0.5:   # ONNX Runtime wants num_heads beside rotary_embedding_dim, even for 4-D X
            kw.update(rotary_embedding_dim=r, num_heads=H)
        node = helper.make_node("RotaryEmbedding", [o.name, const(np.cos(ang)), const(np.sin(ang)), const(pos)], [y], **kw)
    elif op == "RMSNormalization":
        axis = R.randint(-len(shape), len(shape) - 1)
        node = helper.make_node("RMSNormalization", [o.name, const(rnd(shape[axis:]))], [y], axis=axis, epsilon=R.choice([1e-5, 1e-2]))
    else:
        g = R.choice([d for d in (1, 2, shape[1]) if shape[1] % d == 0])
        per = shape[1] if target >= 21 else g
        node = helper.make_node("GroupNormalization", [o.name, const(rnd([per])), const(rnd([per]))], [y], num_groups=g,
                                epsilon=R.choice([1e-5, 1e-2]))
    m.graph.node.append(node)
    o.name = y
    return m


os.makedirs(out_dir, exist_ok=True)
made = 0
tries = 0
while made < count and tries < count * 20:
    tries += 1
    target = None
    if opts.opsets:
        lo, _, hi = opts.opsets.partition("-")
        target = R.randint(int(lo), int(hi or lo))
    opset = 17 if target else R.choice([9, 10, 11, 12, 13, 13, 14, 15, 16, 17, 17])
    r = R.choice([int(k) for k in opts.ranks.split(",")])
    shape = [R.randint(1, 6 if r <= 4 else 3) for _ in range(r)]
    c = Ctx(opset)
    cur, cur_shape = "X", shape
    nops = R.randint(1, opts.max_ops)
    for _ in range(nops):
        gen = R.choice(GENS)
        snap = (list(c.nodes), list(c.inits), c.n, list(c.extra_outputs))
        try:
            o = gen(c, cur, cur_shape)
        except (ValueError, IndexError):
            o = None
        if o is None:
            c.nodes, c.inits, c.n, c.extra_outputs = snap
            continue
        so = shape_of(build(c, shape, [o], [F]), o)
        if so is None or so[1] != F:
            # non-float output (ArgMax, indices): keep as a final output only
            if so is not None and so[1] in (I64, TensorProto.BOOL):
                c.extra_outputs.append(o)
                break
            c.nodes, c.inits, c.n, c.extra_outputs = snap
            continue
        if int(np.prod(so[0])) > 20000:
            c.nodes, c.inits, c.n, c.extra_outputs = snap
            continue
        cur, cur_shape = o, so[0]
    if not c.nodes:
        continue
    outs = ([cur] if cur != "X" else []) + [e for e in c.extra_outputs if e != cur]
    model = build(c, shape, outs, [F] * len(outs))
    try:
        mi = shape_inference.infer_shapes(model, strict_mode=True)
        onnx.checker.check_model(mi)
    except Exception:
        continue
    tmap = {v.name: v.type.tensor_type.elem_type for v in list(mi.graph.value_info) + list(mi.graph.output)}
    types = [tmap.get(o, F) or F for o in outs]
    model = build(c, shape, outs, types)
    if opts.output_shapes:
        vi = {v.name: v for v in list(mi.graph.value_info) + list(mi.graph.output)}
        if all(o in vi and vi[o].type.tensor_type.HasField("shape") for o in outs):
            del model.graph.output[:]
            model.graph.output.extend([vi[o] for o in outs])
    if target:
        model = upgrade(model, target, shape_of(mi, outs[0]) and shape_of(mi, outs[0])[0])
        opset = target
    d = os.path.join(out_dir, f"{made:05d}")
    os.makedirs(d, exist_ok=True)
    if opts.symbolic_batch and len(shape) >= 2:
        model.graph.input[0].type.tensor_type.shape.dim[0].dim_param = "N"
        for k, o in enumerate(model.graph.output):   # the outputs may not follow N: every dim its own symbol
            if o.type.tensor_type.HasField("shape"):
                for j, dd in enumerate(o.type.tensor_type.shape.dim):
                    dd.Clear()
                    dd.dim_param = f"o{k}_{j}"
    rt_p = opts.runtime_inputs
    if rt_p > 0:
        keep, extra = [], []
        for t in model.graph.initializer:
            a = numpy_helper.to_array(t)
            if R.random() < rt_p and a.dtype in (np.float32, np.int64, np.int32, np.bool_):
                extra.append(helper.make_tensor_value_info(t.name, t.data_type, list(a.shape)))
                raw = a.astype(a.dtype.newbyteorder("<")).tobytes() if a.dtype != np.bool_ else a.astype(np.uint8).tobytes()
                open(os.path.join(d, t.name + ".raw"), "wb").write(raw)
            else:
                keep.append(t)
        del model.graph.initializer[:]
        model.graph.initializer.extend(keep)
        model.graph.input.extend(extra)
    onnx.save(model, os.path.join(d, "model.onnx"))
    ref = layout0_reference(model)
    if ref is not None:
        onnx.save(ref, os.path.join(d, "model_ref.onnx"))
    elif os.path.exists(os.path.join(d, "model_ref.onnx")):
        os.remove(os.path.join(d, "model_ref.onnx"))   # an earlier run's case of this number
    with open(os.path.join(d, "desc.txt"), "w") as f:
        f.write(f"opset {opset} X{shape} inputs {[i.name for i in model.graph.input]}\n" + "\n".join(str(n).replace("\n", " ") for n in c.nodes) + "\n")
    made += 1
print("made", made, "tries", tries)
