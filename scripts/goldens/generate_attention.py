#!/usr/bin/python3
"""Writes PyTorch goldens for scaled_dot_product_attention, MultiheadAttention,
TransformerEncoderLayer and TransformerEncoder.

Run with Debian's /usr/bin/python3 (torch 1.13):
    /usr/bin/python3 scripts/goldens/generate_attention.py
Output: java-api/src/test/resources/goldens/attention.safetensors (format: goldens_io.py), and
two plain state_dict files in java-api/src/test/resources/safetensors/ (see STATE_DICTS).

scaled_dot_product_attention arrived in torch 2.0, so its goldens come from the formula torch
2.0 documents for it, written out in torch below (sdpa): softmax(q k^T * scale + mask) v, scale
1/sqrt(E) by default, a bool mask with True = "takes part" (becomes 0 / -inf), a float mask
added, is_causal = a lower-triangular bool mask. The module goldens come from torch 1.13's own
nn.MultiheadAttention / nn.TransformerEncoderLayer / nn.TransformerEncoder in eval() mode with
autograd on, which keeps them on the documented (math) path instead of the fused inference
"fast path" (that one turns padded positions into zeros via nested tensors).
Bool masks are stored as F32 0/1 and named in the spec (attn_mask=bool); each case has its own
seed. Parameters are stored under their exact state_dict names, in state_dict order.
"""
import math
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from goldens_io import write_goldens, write_safetensors  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "java-api", "src", "test", "resources",
                   "goldens", "attention.safetensors")
# Plain state_dict files (torch's own key names, no case prefix) of two golden cases, for the
# Java test that loads them with SafeTensors.load and expects that case's golden output.
STATE_DICTS = {name: os.path.join(os.path.dirname(OUT), "..", "safetensors", file) for name, file in [
    ("mha_kdim_bf", "attention_mha_kdim.safetensors"), ("encoder_2_norm", "attention_encoder.safetensors")]}


def sdpa(q, k, v, attn_mask=None, is_causal=False, scale=None):
    """torch 2.0's documented reference for F.scaled_dot_product_attention (dropout 0)."""
    L, S = q.size(-2), k.size(-2)
    s = 1 / math.sqrt(q.size(-1)) if scale is None else scale
    bias = torch.zeros(L, S, dtype=q.dtype)
    if is_causal:
        assert attn_mask is None
        bias.masked_fill_(torch.ones(L, S, dtype=torch.bool).tril(diagonal=0).logical_not(), float("-inf"))
    if attn_mask is not None:
        if attn_mask.dtype == torch.bool:
            bias = bias + torch.zeros(attn_mask.shape).masked_fill(attn_mask.logical_not(), float("-inf"))
        else:
            bias = bias + attn_mask
    w = q @ k.transpose(-2, -1) * s
    w = w + bias
    w = torch.softmax(w, dim=-1)
    return w @ v


def f(b):
    return "1" if b else "0"


def sdpa_case(cases, name, seed, qs, ks, vs, mask=None, mask_kind="none", is_causal=False, scale=None):
    torch.manual_seed(seed)
    q, k, v = torch.randn(qs), torch.randn(ks), torch.randn(vs)
    m = mask() if mask is not None else None
    out = sdpa(q, k, v, m, is_causal, scale)
    t = {"input": q, "key": k, "value": v}
    if m is not None:
        t["attn_mask"] = m.float()
    t["output"] = out
    spec = "SDPA attn_mask=%s is_causal=%s scale=%s" % (mask_kind, f(is_causal), "none" if scale is None else repr(scale))
    cases.append((name, spec, t))


def sdpa_cases():
    cases = []

    def case(*args, **kw):
        sdpa_case(cases, *args, **kw)

    case("sdpa_plain", 1, (2, 3, 4, 8), (2, 3, 6, 8), (2, 3, 6, 5))
    case("sdpa_causal", 2, (2, 5, 8), (2, 5, 8), (2, 5, 8), is_causal=True)
    case("sdpa_causal_rect", 3, (1, 3, 4), (1, 5, 4), (1, 5, 3), is_causal=True, scale=0.25)

    def bool_mask():
        m = torch.rand(4, 6) > 0.4
        m[0, 0] = True
        m[2, :] = False          # a row that attends nowhere: NaN, as torch 2.0's formula gives
        return m
    case("sdpa_bool", 4, (2, 2, 4, 8), (2, 2, 6, 8), (2, 2, 6, 8), bool_mask, "bool")

    def float_mask():
        m = torch.randn(2, 4, 6)
        m[0, 1, 3] = float("-inf")
        m[1, 2, :5] = float("-inf")
        return m
    case("sdpa_float", 5, (2, 4, 8), (2, 6, 8), (2, 6, 3), float_mask, "float", scale=0.5)
    case("sdpa_unbatched", 6, (3, 4), (5, 4), (5, 2), scale=1.5)

    # NaN and +-inf in the inputs: a NaN query element makes its row NaN; a +inf score makes its
    # row NaN (inf - inf in the softmax); an infinite value reaches the outputs that weight it.
    def case_nonfinite():
        torch.manual_seed(7)
        q, k, v = torch.randn(2, 3, 4), torch.randn(2, 5, 4), torch.randn(2, 5, 3)
        q[0, 1, 2] = float("nan")
        k[1, 3, 0] = float("inf")
        v[0, 4, 1] = float("-inf")
        t = {"input": q, "key": k, "value": v, "output": sdpa(q, k, v)}
        cases.append(("sdpa_nonfinite", "SDPA attn_mask=none is_causal=0 scale=none", t))
    case_nonfinite()
    return cases


def add_masks_and_parameters(t, name, attn_mask, key_padding_mask, module):
    """The case's masks (as F32) and the module's state_dict into t, in that order; its plain state_dict file if listed."""
    if attn_mask is not None:
        t["attn_mask"] = attn_mask.float()
    if key_padding_mask is not None:
        t["key_padding_mask"] = key_padding_mask.float()
    for n_, p in module.state_dict().items():
        t["param:" + n_] = p
    if name in STATE_DICTS:
        write_safetensors(STATE_DICTS[name], module.state_dict())


def mha_case(cases, name, seed, E, H, L, S, N, bias=True, kdim=None, vdim=None, batch_first=False, need_weights=True,
             average=True, attn_mask=None, kpm=None, self_attn=False, unbatched=False, additive=False, poison=None):
    torch.manual_seed(seed)
    mha = nn.MultiheadAttention(E, H, bias=bias, kdim=kdim, vdim=vdim, batch_first=batch_first).eval()
    with torch.no_grad():   # randomize the biases too (PyTorch starts them at 0)
        for name_, p in mha.named_parameters():
            if "bias" in name_:
                p.normal_()
    kd, vd = kdim or E, vdim or E

    def shaped(T, d):
        if unbatched:
            return torch.randn(T, d)
        return torch.randn(N, T, d) if batch_first else torch.randn(T, N, d)
    q = shaped(L, E)
    if poison is not None:   # non-finite inputs: a NaN or a +inf among a row's scores makes torch's softmax row all NaN
        poison(q)
    k = q if self_attn else shaped(S, kd)
    v = q if self_attn else shaped(S, vd)
    am, am_kind = (attn_mask() if attn_mask else None), "none"
    if am is not None:
        am_kind = "bool" if am.dtype == torch.bool else "float"
    kp = kpm() if kpm else None
    if additive:
        # A bool attn_mask with a float key_padding_mask: torch >= 2.0 turns the bool mask into -inf / 0 and adds the
        # float one (with a deprecation warning for the mix); torch 1.13 instead reads the float mask as bool
        # (logical_or: any nonzero value masks the key out). The goldens follow 2.x: torch computes the output from
        # the two masks merged additively by hand, given as one float [N*H, L, S] attn_mask. A float attn_mask with a
        # float key_padding_mask (torch 1.13 fails on it: masked_fill wants a bool mask) is the same sum.
        if am.dtype == torch.bool:
            merged = torch.zeros(am.shape, dtype=torch.float32).masked_fill(am, float("-inf"))
        else:
            merged = am
        merged = merged.expand(N * H, L, S) + kp.reshape(N, 1, 1, S).expand(N, H, L, S).reshape(N * H, L, S)
        out, w = mha(q, k, v, need_weights=need_weights, attn_mask=merged, average_attn_weights=average)
    else:
        out, w = mha(q, k, v, key_padding_mask=kp, need_weights=need_weights, attn_mask=am,
                     average_attn_weights=average)
    t = {"input": q}
    if not self_attn:
        t["key"], t["value"] = k, v
    add_masks_and_parameters(t, name, am, kp, mha)
    if w is not None:
        t["weights"] = w
    t["output"] = out
    spec = ("MultiheadAttention embed_dim=%d num_heads=%d bias=%s kdim=%d vdim=%d batch_first=%s need_weights=%s "
            "average=%s attn_mask=%s key_padding_mask=%s self=%s") % (
        E, H, f(bias), kd, vd, f(batch_first), f(need_weights), f(average), am_kind,
        "none" if kp is None else ("bool" if kp.dtype == torch.bool else "float"), f(self_attn))
    cases.append((name, spec, t))


def mha_cases():
    cases = []

    def case(*args, **kw):
        mha_case(cases, *args, **kw)

    case("mha_self", 11, 8, 2, 4, 4, 2, self_attn=True)
    case("mha_kdim_bf", 12, 8, 4, 3, 5, 2, kdim=6, vdim=5, batch_first=True, average=False)
    case("mha_bool_masks", 13, 8, 2, 4, 5, 3, attn_mask=lambda: torch.rand(4, 5) > 0.7,
         kpm=lambda: torch.tensor([[False] * 5, [False, False, False, True, True], [True, False, False, False, False]]))
    case("mha_float_3d_nobias", 14, 6, 3, 3, 4, 2, bias=False, need_weights=False,
         attn_mask=lambda: torch.randn(6, 3, 4), batch_first=True)
    case("mha_float_2d_kpm", 15, 8, 2, 3, 4, 1, attn_mask=lambda: torch.randn(3, 4),
         kpm=lambda: torch.tensor([[False, True, False, False]]), average=False)
    case("mha_fully_masked", 16, 4, 1, 2, 3, 2,
         kpm=lambda: torch.tensor([[False, False, True], [True, True, True]]))
    case("mha_unbatched", 17, 8, 2, 3, 5, 1, unbatched=True, kdim=4, kpm=lambda: torch.tensor([False, True, False, False, True]))
    case("mha_float_kpm", 18, 8, 4, 2, 3, 2, batch_first=True, kpm=lambda: torch.randn(2, 3))
    # Self-attention with masks (query = key = value): what the compiled path (GraphMasks) takes.
    case("mha_self_bool_masks", 19, 8, 2, 5, 5, 3, self_attn=True, attn_mask=lambda: torch.rand(5, 5) > 0.7,
         kpm=lambda: torch.tensor([[False] * 5, [False, False, False, True, True], [True, False, False, False, False]]))
    case("mha_self_float_3d_bf", 20, 6, 3, 4, 4, 2, self_attn=True, batch_first=True, need_weights=False,
         attn_mask=lambda: torch.randn(6, 4, 4), kpm=lambda: torch.tensor([[False, False, True, False], [False] * 4]))
    case("mha_self_float_kpm", 30, 8, 4, 3, 3, 2, self_attn=True, kpm=lambda: torch.randn(2, 3))   # torch 1.13: a float kpm only alone
    case("mha_self_fully_masked", 27, 4, 1, 3, 3, 2, self_attn=True,
         kpm=lambda: torch.tensor([[False, False, True], [True, True, True]]))
    case("mha_self_unbatched", 28, 8, 2, 4, 4, 1, self_attn=True, unbatched=True,
         attn_mask=lambda: torch.randn(4, 4), kpm=lambda: torch.tensor([False, True, False, False]))
    case("mha_self_causal", 29, 8, 2, 5, 5, 2, self_attn=True, attn_mask=lambda: torch.ones(5, 5, dtype=torch.bool).triu(1))
    # Scores holding a +inf (an infinite query meets a positive key), a NaN (inf * 0, a NaN input) or only -inf: those
    # rows of torch's weights are all NaN (oneDNN's softmax gave [NaN, 0, 0]); averaged over heads and per head.
    def poison(q):
        q[1, 0, 2] = float("inf")
        q[3, 1, 0] = float("nan")
        q[2, 0, 1] = -float("inf")
    case("mha_nonfinite", 33, 4, 2, 5, 4, 2, poison=poison)   # queries poisoned: their rows NaN, the others finite
    case("mha_nonfinite_heads", 34, 4, 2, 5, 4, 2, poison=poison, average=False)
    # A bool attn_mask with a float key_padding_mask (torch 2.x's additive merge; see mha_case()): self and cross attention.
    case("mha_self_bool_mask_float_kpm", 31, 6, 2, 4, 4, 2, self_attn=True, attn_mask=lambda: torch.rand(4, 4) > 0.7,
         kpm=lambda: torch.randn(2, 4), additive=True)
    case("mha_bool_mask_float_kpm", 32, 6, 3, 3, 5, 2, kdim=4, vdim=5, batch_first=True, average=False,
         attn_mask=lambda: torch.rand(3, 5) > 0.6, kpm=lambda: torch.randn(2, 5), additive=True)
    return cases


def encoder_case(cases, name, seed, d, h, ff, L, N, norm_first, activation, batch_first, eps=1e-5, num_layers=0,
         final_norm=False, mask=None, kpm=None):
    torch.manual_seed(seed)
    layer = nn.TransformerEncoderLayer(d, h, ff, dropout=0.1, activation=activation, layer_norm_eps=eps,
                                       batch_first=batch_first, norm_first=norm_first)
    if num_layers:
        model = nn.TransformerEncoder(layer, num_layers, norm=nn.LayerNorm(d, eps=eps) if final_norm else None)
    else:
        model = layer
    model.eval()
    with torch.no_grad():   # make biases and norm parameters non-trivial
        for n_, p in model.named_parameters():
            if "bias" in n_ or "norm" in n_:
                p.add_(0.3 * torch.randn_like(p))
    x = torch.randn(N, L, d) if batch_first else torch.randn(L, N, d)
    m = mask() if mask else None
    kp = kpm() if kpm else None
    out = model(x, m, kp) if not num_layers else model(x, mask=m, src_key_padding_mask=kp)
    t = {"input": x}
    add_masks_and_parameters(t, name, m, kp, model)
    t["output"] = out
    kind = "none" if m is None else ("bool" if m.dtype == torch.bool else "float")
    spec = ("%s d_model=%d nhead=%d dim_feedforward=%d norm_first=%s activation=%s batch_first=%s eps=%r "
            "num_layers=%d final_norm=%s attn_mask=%s key_padding_mask=%s") % (
        "TransformerEncoder" if num_layers else "TransformerEncoderLayer", d, h, ff, f(norm_first), activation,
        f(batch_first), eps, num_layers, f(final_norm), kind, "none" if kp is None else "bool")
    cases.append((name, spec, t))


def encoder_cases():
    cases = []

    def case(*args, **kw):
        encoder_case(cases, *args, **kw)

    causal = lambda: torch.ones(5, 5, dtype=torch.bool).triu(1)   # noqa: E731  True = masked out
    case("enc_post_relu", 21, 8, 2, 16, 5, 2, False, "relu", False, mask=causal)
    case("enc_pre_gelu", 22, 8, 4, 12, 4, 3, True, "gelu", True,
         kpm=lambda: torch.tensor([[False] * 4, [False, False, True, True], [False, True, False, False]]))
    case("enc_post_gelu_float", 23, 6, 3, 10, 3, 1, False, "gelu", True, eps=1e-6, mask=lambda: torch.randn(3, 3))
    case("enc_pre_relu", 24, 8, 2, 16, 4, 2, True, "relu", False)
    case("encoder_2_norm", 25, 8, 2, 16, 5, 2, False, "relu", True, num_layers=2, final_norm=True,
         kpm=lambda: torch.tensor([[False] * 5, [False, False, False, True, True]]))
    case("encoder_3_prenorm", 26, 8, 4, 8, 4, 3, True, "gelu", False, num_layers=3, final_norm=False, mask=causal_4)
    return cases


def causal_4():
    return torch.ones(4, 4, dtype=torch.bool).triu(1)


def main():
    write_goldens(OUT, sdpa_cases() + mha_cases() + encoder_cases())
    print("wrote", os.path.normpath(OUT))


if __name__ == "__main__":
    main()
