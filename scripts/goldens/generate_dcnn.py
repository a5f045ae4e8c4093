#!/usr/bin/python3
"""Writes goldens for the DCNN layers (Kalchbrenner, Grefenstette & Blunsom 2014): wide Conv1d,
k-max pooling (fixed and dynamic k) and folding, plus a small DCNN stack.

PyTorch has none of these layers, so they are written here from the paper's definitions with
PyTorch tensor ops (independently of the Java code they check):
  wide conv   F.conv1d(x, w, b, padding=m-1, groups=g)               [N, C, s] -> [N, O, s+m-1]
  k-max       a stable descending sort (ties: lower index first), first k indices, sorted back
              into order, gathered                                   [N, C, s] -> [N, C, k]
  dynamic k   k_l = max(k_top, ceil((L - l) / L * s)), s = the input's last dimension
  folding     x.view(N, C/2, 2, s).sum(2)                            [N, C, s] -> [N, C/2, s]
Run with Debian's /usr/bin/python3 (torch 1.13):
    /usr/bin/python3 scripts/goldens/generate_dcnn.py
Output: java-api/src/test/resources/goldens/dcnn.safetensors (format: goldens_io.py). Specs:
    KMaxPool1d k=K | KMaxPool1d k_top=K l=L_ L=L   (extra tensor "k": the k used, for the record)
    Folding
    WideConv1d in=I out=O kernel=M groups=G bias=0/1
    Dcnn in=I maps=F m1=M m2=M k_top=K L=2        (the Sequential described in dcnn())
Every case has its own fixed seed.
"""
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from goldens_io import write_goldens  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "java-api", "src", "test", "resources",
                   "goldens", "dcnn.safetensors")


def dynamic_k(k_top, l, L, s):
    k = max(k_top, math.ceil((L - l) / L * s))
    # The paper's formula in floating point must agree with the exact integer ceiling used in Java.
    assert k == max(k_top, -(-(L - l) * s // L)), (k_top, l, L, s)
    return k


def kmax(x, k):
    """The k largest of each row along the last dim, in their original order; ties: lower index first."""
    if k > x.shape[-1]:
        raise ValueError("k > s")
    order = torch.sort(x, dim=-1, descending=True, stable=True).indices   # stable: equal values keep index order
    chosen = order[..., :k].sort(dim=-1).values
    return x.gather(-1, chosen)


def fold(x):
    n, c, s = x.shape[0], x.shape[-2], x.shape[-1]
    if x.dim() == 2:
        return x.view(c // 2, 2, s).sum(1)
    return x.view(n, c // 2, 2, s).sum(2)


def wide(x, w, b, groups):
    m = w.shape[-1]
    return F.conv1d(x, w, b, padding=m - 1, groups=groups)


def ties(shape, levels):
    """Inputs made of a few repeated values, so ties decide which indices are kept."""
    return torch.randint(0, levels, shape).float() - levels // 2


def main():
    cases = []

    def kmax_case(name, seed, shape, k=None, k_top=None, l=None, L=None, tied=0):
        torch.manual_seed(seed)
        x = ties(shape, tied) if tied else torch.randn(*shape)
        s = shape[-1]
        kk = k if k is not None else dynamic_k(k_top, l, L, s)
        y = kmax(x, kk)
        if not tied:   # without ties the definition agrees with torch.topk's set of indices
            ref = x.gather(-1, torch.topk(x, kk, dim=-1).indices.sort(dim=-1).values)
            assert torch.equal(ref, y), name
        spec = "KMaxPool1d k=%d" % k if k is not None else "KMaxPool1d k_top=%d l=%d L=%d" % (k_top, l, L)
        cases.append((name, spec, {"input": x, "output": y, "k": torch.tensor([float(kk)])}))

    kmax_case("kmax_k1", 1, (2, 3, 7), k=1)
    kmax_case("kmax_k3", 2, (2, 4, 9), k=3)
    kmax_case("kmax_k5_unbatched", 3, (5, 11), k=5)
    kmax_case("kmax_k_eq_s", 4, (1, 2, 6), k=6)
    kmax_case("kmax_k4_long", 5, (3, 6, 40), k=4)
    kmax_case("kmax_ties_k3", 6, (2, 5, 12), k=3, tied=3)
    kmax_case("kmax_ties_k5", 7, (1, 6, 15), k=5, tied=4)
    kmax_case("kmax_all_equal", 8, (1, 2, 8), k=3, tied=1)
    kmax_case("kmax_ties_unbatched", 9, (4, 10), k=4, tied=2)
    # dynamic k: (k_top, l, L, s), including exact multiples (no rounding) and just past them
    dyn = [(3, 1, 3, 9), (3, 1, 3, 10), (3, 2, 3, 10), (3, 3, 3, 10), (4, 1, 2, 7), (4, 1, 2, 8), (4, 1, 2, 9),
           (2, 1, 4, 12), (2, 1, 4, 13), (2, 3, 4, 13), (5, 2, 4, 6), (1, 1, 5, 1), (3, 1, 2, 3), (2, 2, 3, 16)]
    for i, (k_top, l, L, s) in enumerate(dyn):
        kmax_case("kmax_dyn_ktop%d_l%d_L%d_s%d" % (k_top, l, L, s), 20 + i, (2, 3, s), k_top=k_top, l=l, L=L)
    kmax_case("kmax_dyn_ties", 40, (2, 4, 11), k_top=2, l=1, L=3, tied=3)
    kmax_case("kmax_dyn_unbatched", 41, (3, 14), k_top=3, l=1, L=3)

    def fold_case(name, seed, shape):
        torch.manual_seed(seed)
        x = torch.randn(*shape)
        cases.append((name, "Folding", {"input": x, "output": fold(x)}))

    fold_case("fold_c2", 50, (2, 2, 5))
    fold_case("fold_c6", 51, (3, 6, 7))
    fold_case("fold_unbatched", 52, (8, 4))
    fold_case("fold_s1", 53, (1, 4, 1))

    def wide_case(name, seed, shape, out, m, groups, bias=True):
        torch.manual_seed(seed)
        cin = shape[-2]
        bound = 1 / math.sqrt(cin // groups * m)
        w = (torch.rand(out, cin // groups, m) * 2 - 1) * bound
        b = (torch.rand(out) * 2 - 1) * bound if bias else None
        x = torch.randn(*shape)
        y = wide(x, w, b, groups)
        assert y.shape[-1] == shape[-1] + m - 1
        t = {"input": x, "output": y, "param:weight": w}
        if bias:
            t["param:bias"] = b
        spec = "WideConv1d in=%d out=%d kernel=%d groups=%d bias=%d" % (cin, out, m, groups, int(bias))
        cases.append((name, spec, t))

    wide_case("wide_depthwise_m3", 60, (2, 4, 7), 4, 3, 4)
    wide_case("wide_depthwise_m5_nobias", 61, (1, 6, 4), 6, 5, 6, bias=False)
    wide_case("wide_full_m3", 62, (2, 3, 8), 5, 3, 1)
    wide_case("wide_full_m7_short", 63, (1, 2, 3), 4, 7, 1)   # kernel wider than the sentence
    wide_case("wide_maps_per_row", 64, (2, 3, 6), 6, 2, 3)
    wide_case("wide_unbatched", 65, (4, 9), 2, 4, 2)
    wide_case("wide_m1", 66, (1, 3, 5), 3, 1, 3)

    # A small DCNN: wide conv (full mixing) -> dynamic k-max (l=1 of L=2) -> tanh
    #               -> wide conv (depthwise) -> folding -> k-max (k_top)
    def dcnn_case(name, seed, shape, maps, m1, m2, k_top):
        torch.manual_seed(seed)
        cin = shape[-2]
        w0 = (torch.rand(maps, cin, m1) * 2 - 1) / math.sqrt(cin * m1)
        b0 = (torch.rand(maps) * 2 - 1) / math.sqrt(cin * m1)
        w3 = (torch.rand(maps, 1, m2) * 2 - 1) / math.sqrt(m2)
        b3 = (torch.rand(maps) * 2 - 1) / math.sqrt(m2)
        x = torch.randn(*shape)
        h = wide(x, w0, b0, 1)
        h = kmax(h, dynamic_k(k_top, 1, 2, h.shape[-1]))
        h = torch.tanh(h)
        h = wide(h, w3, b3, maps)
        h = fold(h)
        y = kmax(h, k_top)
        spec = "Dcnn in=%d maps=%d m1=%d m2=%d k_top=%d L=2" % (cin, maps, m1, m2, k_top)
        cases.append((name, spec, {"input": x, "output": y, "param:0.weight": w0, "param:0.bias": b0,
                                   "param:3.weight": w3, "param:3.bias": b3}))

    dcnn_case("dcnn_small", 70, (2, 4, 9), 6, 3, 2, 3)
    dcnn_case("dcnn_short_sentence", 71, (3, 5, 4), 4, 5, 3, 2)
    dcnn_case("dcnn_unbatched", 72, (3, 12), 8, 4, 3, 4)

    write_goldens(OUT, cases)
    print("wrote %d cases to %s (%d bytes)" % (len(cases), os.path.normpath(OUT), os.path.getsize(OUT)))


if __name__ == "__main__":
    main()
