#!/usr/bin/python3
"""Exports two small networks whose ONNX inputs and outputs are not FLOAT, with PyTorch's outputs as goldens.

Run with Debian's /usr/bin/python3 (python3-torch 1.13):
    /usr/bin/python3 scripts/goldens/export_onnx_dtype_models.py OUT_DIR
Writes into OUT_DIR (produced at test time into a cache by onnx/ OnnxDtypeModelsTest, never committed):
  uint8.opset13.onnx, uint8.opset17.onnx   a uint8 image [N, 3, 16, 16] cast to float and normalized in the graph
                                           ((x / 255 - 0.5) / 0.25: Cast, Div, Sub, Div), then Conv, ReLU, a spatial
                                           mean and a Linear: float logits [N, 4]
  half.opset13.onnx, half.opset17.onnx     a half-precision input [N, 8] cast to float, Linear, ReLU, cast back to
                                           half: a FLOAT16 output [N, 6]
  halfweights.opset13.onnx, .opset17.onnx float input [N, 3, 8, 8], Conv and Linear weights stored as FLOAT16 and
                                           BFLOAT16 initializers, each through a Cast to FLOAT: float [N, 4]
  textmask.opset13.onnx, .opset17.onnx     token ids (int64 [N, 12]) and a key padding mask (bool [N, 12]): Embedding
                                           with a position table, a 2-layer nn.TransformerEncoder (batch_first, GELU) taking
                                           src_key_padding_mask, a mean over the unmasked positions, Linear: float [N, 3]
  textdyn.opset13.onnx, .opset17.onnx      the same with the sequence length dynamic too ([batch, seq]: the position table
                                           sliced to it), so torch's reshapes in the attention span two symbols
  causal.opset14.onnx, .opset17.onnx      a decoder-style block: token ids [batch, seq] (both dynamic), Embedding, an
                                           nn.TransformerEncoderLayer with the causal mask torch.triu(-inf) of the run's
                                           length (Trilu over the sequence's symbolic size), per-token logits [N, S, 50]
  dtype.goldens.safetensors                per model and batch 1 and 2 the inputs and PyTorch's output, stored as F32
                                           (every uint8, float16, small int64 and bool value is a float: exact)
"""
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from goldens_io import write_safetensors  # noqa: E402

SEED = 20261204
OPSETS = (13, 17)


class Uint8Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        y = (x.float() / 255.0 - 0.5) / 0.25
        return self.fc(torch.relu(self.conv(y)).mean((2, 3)))


class HalfNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 6)

    def forward(self, x):
        return torch.relu(self.fc(x.float())).half()


class HalfWeightsNet(nn.Module):
    """Float input and output, weights stored in half precision (a model shipped in fp16 to halve its file): F16 and BF16
    initializers each read through a Cast to FLOAT (exported without torch's constant folding, which would store them
    as FLOAT), before a Conv and a Linear."""

    def __init__(self):
        super().__init__()
        self.register_buffer("w", (torch.randn(6, 3, 3, 3) * 0.3).half())
        self.register_buffer("b", torch.randn(6).half())
        self.register_buffer("fc", (torch.randn(4, 6) * 0.3).bfloat16())

    def forward(self, x):
        y = torch.relu(nn.functional.conv2d(x, self.w.float(), self.b.float(), padding=1))
        return nn.functional.linear(y.mean((2, 3)), self.fc.float())


class TextMaskNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(100, 32, padding_idx=0)
        self.pos = nn.Parameter(torch.zeros(1, 12, 32))
        self.enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(32, 4, 64, dropout=0.0, batch_first=True, activation="gelu"), 2)
        self.fc = nn.Linear(32, 3)

    def forward(self, ids, mask):
        x = self.emb(ids) + self.pos[:, :ids.shape[1]]
        x = self.enc(x, src_key_padding_mask=mask)
        keep = (~mask).unsqueeze(-1).float()
        return self.fc((x * keep).sum(1) / keep.sum(1))


class CausalNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(50, 32)
        self.layer = nn.TransformerEncoderLayer(32, 4, 64, dropout=0.0, batch_first=True)
        self.fc = nn.Linear(32, 50)

    def forward(self, ids):
        n = ids.shape[1]
        mask = torch.triu(torch.full((n, n), float("-inf")), diagonal=1)
        return self.fc(self.layer(self.emb(ids), src_mask=mask))


def text_inputs(n, g):
    ids = torch.randint(1, 100, (n, 12), generator=g)
    mask = torch.zeros(n, 12, dtype=torch.bool)
    mask[n - 1, 12 - 3 * n:] = True   # the last sequence padded (3 or 6 positions)
    ids[mask] = 0
    return ids, mask


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: export_onnx_dtype_models.py OUT_DIR")
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    goldens = {}
    meta = {"producer": "scripts/goldens/export_onnx_dtype_models.py", "seed": str(SEED), "torch": torch.__version__}
    for i, (name, model) in enumerate((("uint8", Uint8Net()), ("half", HalfNet()))):
        torch.manual_seed(SEED + i)
        for p in model.parameters():
            nn.init.uniform_(p, -0.5, 0.5)
        model.eval()
        g = torch.Generator().manual_seed(SEED + 10 + i)
        if name == "uint8":
            x1, x2 = (torch.randint(0, 256, (n, 3, 16, 16), generator=g, dtype=torch.uint8) for n in (1, 2))
        else:   # beyond float16's range (+-65504) too: +-inf after the cast, as numpy and ONNX Runtime give it
            x1, x2 = ((torch.randn(n, 8, generator=g) * 4).half() for n in (1, 2))
            x2[1, 0] = float("inf")
        with torch.no_grad():
            y1, y2 = model(x1), model(x2)
        for opset in OPSETS:
            path = os.path.join(out_dir, "%s.opset%d.onnx" % (name, opset))
            torch.onnx.export(model, x2, path + ".tmp", opset_version=opset, input_names=["input"], output_names=["output"],
                              dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
            os.replace(path + ".tmp", path)
        goldens.update({name + "_input_b1": x1.float(), name + "_output_b1": y1.float(),
                        name + "_input_b2": x2.float(), name + "_output_b2": y2.float()})
        print("%s: output %s, max-abs %.4g" % (name, y2.dtype, float(y2.float().abs().max())))
    torch.manual_seed(SEED + 5)
    model = HalfWeightsNet().eval()
    g = torch.Generator().manual_seed(SEED + 15)
    x1, x2 = (torch.randn(n, 3, 8, 8, generator=g) for n in (1, 2))
    with torch.no_grad():
        y1, y2 = model(x1), model(x2)
    for opset in OPSETS:
        path = os.path.join(out_dir, "halfweights.opset%d.onnx" % opset)
        torch.onnx.export(model, x2, path + ".tmp", opset_version=opset, input_names=["input"], output_names=["output"],
                          dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, do_constant_folding=False)
        os.replace(path + ".tmp", path)
    goldens.update({"halfweights_input_b1": x1, "halfweights_output_b1": y1, "halfweights_input_b2": x2, "halfweights_output_b2": y2})
    torch.manual_seed(SEED + 2)
    model = TextMaskNet()
    with torch.no_grad():
        model.pos.normal_(0, 0.1)
    model.eval()
    g = torch.Generator().manual_seed(SEED + 12)
    (i1, m1), (i2, m2) = text_inputs(1, g), text_inputs(2, g)
    # with autograd on, so the encoder takes its math path (the no_grad fast path drops padded positions as nested tensors)
    y1, y2 = model(i1, m1).detach(), model(i2, m2).detach()
    for opset in OPSETS:
        path = os.path.join(out_dir, "textmask.opset%d.onnx" % opset)
        torch.onnx.export(model, (i2, m2), path + ".tmp", opset_version=opset, input_names=["ids", "mask"], output_names=["output"],
                          dynamic_axes={"ids": {0: "batch"}, "mask": {0: "batch"}, "output": {0: "batch"}})
        os.replace(path + ".tmp", path)
    for opset in OPSETS:
        path = os.path.join(out_dir, "textdyn.opset%d.onnx" % opset)
        torch.onnx.export(model, (i2, m2), path + ".tmp", opset_version=opset, input_names=["ids", "mask"], output_names=["output"],
                          dynamic_axes={"ids": {0: "batch", 1: "seq"}, "mask": {0: "batch", 1: "seq"}, "output": {0: "batch"}})
        os.replace(path + ".tmp", path)
    i3, m3 = i2[:, :7].clone(), m2[:, :7].clone()   # a shorter sequence, its last three positions padded
    m3[1, 4:] = True
    i3[m3] = 0
    y3 = model(i3, m3).detach()
    goldens.update({"textmask_ids_b1": i1.float(), "textmask_mask_b1": m1.float(), "textmask_output_b1": y1,
                    "textmask_ids_b2": i2.float(), "textmask_mask_b2": m2.float(), "textmask_output_b2": y2,
                    "textmask_ids_b2s7": i3.float(), "textmask_mask_b2s7": m3.float(), "textmask_output_b2s7": y3})
    print("textmask: output max-abs %.4g" % float(y2.abs().max()))
    torch.manual_seed(SEED + 3)
    model = CausalNet().eval()
    g = torch.Generator().manual_seed(SEED + 13)
    c1, c2 = torch.randint(0, 50, (1, 9), generator=g), torch.randint(0, 50, (2, 5), generator=g)
    z1, z2 = model(c1).detach(), model(c2).detach()
    for opset in (14, 17):   # Trilu: opset 14
        path = os.path.join(out_dir, "causal.opset%d.onnx" % opset)
        torch.onnx.export(model, (c1,), path + ".tmp", opset_version=opset, input_names=["ids"], output_names=["output"],
                          dynamic_axes={"ids": {0: "batch", 1: "seq"}, "output": {0: "batch", 1: "seq"}})
        os.replace(path + ".tmp", path)
    goldens.update({"causal_ids_b1s9": c1.float(), "causal_output_b1s9": z1, "causal_ids_b2s5": c2.float(), "causal_output_b2s5": z2})
    print("causal: output max-abs %.4g" % float(z2.abs().max()))
    write_safetensors(os.path.join(out_dir, "dtype.goldens.safetensors"), goldens, meta)
    print("written to", out_dir)


if __name__ == "__main__":
    main()
