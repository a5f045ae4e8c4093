#!/usr/bin/python3
"""Exports a GPT-2-like decoder block with a key/value cache (written as Hugging Face's GPT2Attention: the QKV projection
as torch.addmm, heads by view/permute, the past concatenated to the new keys and values, a causal mask sliced from a
bool buffer by the past's length, positions from torch.arange(past, past + new)), with PyTorch's outputs for a prefill
with an empty past, a one-token step and a chunk, as goldens.

Run with Debian's /usr/bin/python3 (python3-torch 1.13):
    /usr/bin/python3 scripts/goldens/export_onnx_kv_cache.py OUT_DIR
Writes into OUT_DIR (produced at test time into a cache by onnx/ OnnxKvCacheTest, never committed):
  kv_cache.onnx                 torch.onnx.export, opset 14; inputs "ids" INT64 [B, T], "past_k", "past_v" [B, 4, P, 8];
                                outputs "y" [B, T, 32], "k", "v" [B, 4, P + T, 8]; B, T and P dynamic
  kv_cache.goldens.safetensors  per call c in prefill (B 2, T 6, P 0), step (B 2, T 1, P 6: the prefill's k and v),
                                chunk (B 1, T 3, P 5): ids_c (I64), past_k_c, past_v_c (not for the prefill's
                                empty past: zeros [2, 4, 0, 8]), y_c, k_c, v_c
Weights: PyTorch's initialisation under torch.manual_seed(SEED) and 0.1 * randn for the QKV projection.
"""
import math
import os
import sys

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from goldens_io import write_safetensors  # noqa: E402

SEED = 20261205


class Block(nn.Module):
    def __init__(self, d=32, h=4, ctx=64):
        super().__init__()
        self.h, self.d = h, d
        self.c_attn_w = nn.Parameter(torch.randn(d, 3 * d) * 0.1)
        self.c_attn_b = nn.Parameter(torch.randn(3 * d) * 0.1)
        self.c_proj = nn.Linear(d, d)
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.fc, self.proj = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)
        self.register_buffer("bias", torch.tril(torch.ones(ctx, ctx, dtype=torch.bool)).view(1, 1, ctx, ctx))
        self.register_buffer("masked_bias", torch.tensor(-1e4))
        self.wte, self.wpe = nn.Embedding(100, d), nn.Embedding(ctx, d)

    def forward(self, ids, past_k, past_v):
        b, t = ids.shape
        p = past_k.shape[2]
        x = self.wte(ids) + self.wpe(torch.arange(p, p + t, dtype=torch.long).unsqueeze(0))
        qkv = torch.addmm(self.c_attn_b, self.ln1(x).view(-1, self.d), self.c_attn_w).view(b, t, 3 * self.d)
        heads = [z.view(b, t, self.h, self.d // self.h).permute(0, 2, 1, 3) for z in qkv.split(self.d, dim=2)]
        q, k, v = heads
        k, v = torch.cat([past_k, k], dim=-2), torch.cat([past_v, v], dim=-2)
        w = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(v.size(-1))
        nd, ns = w.size(-2), w.size(-1)
        w = F.softmax(torch.where(self.bias[:, :, ns - nd:ns, :ns], w, self.masked_bias.to(w.dtype)), dim=-1)
        a = torch.matmul(w, v).permute(0, 2, 1, 3).contiguous().view(b, t, self.d)
        x = x + self.c_proj(a)
        return x + self.proj(F.gelu(self.fc(self.ln2(x)), approximate="tanh")), k, v


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: export_onnx_kv_cache.py OUT_DIR")
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(SEED)
    model = Block().eval()
    g = torch.Generator().manual_seed(SEED + 1)
    empty = torch.zeros(2, 4, 0, 8)
    calls = {"prefill": (torch.randint(0, 100, (2, 6), generator=g), empty, empty)}
    goldens = {}
    with torch.no_grad():
        y, k, v = model(*calls["prefill"])
        calls["step"] = (torch.randint(0, 100, (2, 1), generator=g), k, v)
        calls["chunk"] = (torch.randint(0, 100, (1, 3), generator=g), torch.randn(1, 4, 5, 8, generator=g), torch.randn(1, 4, 5, 8, generator=g))
        for name, (ids, pk, pv) in calls.items():
            y, k, v = model(ids, pk, pv)
            goldens.update({"ids_" + name: ids, "y_" + name: y, "k_" + name: k.contiguous(), "v_" + name: v.contiguous()})
            if pk.numel() > 0:   # the prefill's empty past is not stored (safetensors files here hold no zero-size tensor)
                goldens.update({"past_k_" + name: pk.contiguous(), "past_v_" + name: pv.contiguous()})
        path = os.path.join(out_dir, "kv_cache.onnx")
        torch.onnx.export(model, calls["step"], path + ".tmp", opset_version=14, input_names=["ids", "past_k", "past_v"],
                          output_names=["y", "k", "v"],
                          dynamic_axes={"ids": {0: "B", 1: "T"}, "past_k": {0: "B", 2: "P"}, "past_v": {0: "B", 2: "P"},
                                        "y": {0: "B", 1: "T"}, "k": {0: "B", 2: "S"}, "v": {0: "B", 2: "S"}})
        os.replace(path + ".tmp", path)
    meta = {"producer": "scripts/goldens/export_onnx_kv_cache.py", "seed": str(SEED), "torch": torch.__version__}
    write_safetensors(os.path.join(out_dir, "kv_cache.goldens.safetensors"), goldens, meta)
    print("kv cache: %d calls written to %s" % (len(calls), out_dir))


if __name__ == "__main__":
    main()
