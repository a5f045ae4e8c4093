#!/usr/bin/python3
"""Exports a small classifier that computes on its int64 attention mask at run time as decoder exports do: position ids
as Hugging Face's GPT-2 / Bloom / Llama code makes them for a left-padded batch (mask.long().cumsum(-1) - 1, set to 1
where the mask is 0), an embedding lookup by those ids, and the lengths mask.sum(-1) (int64) dividing a masked sum;
with PyTorch's outputs as goldens.

Run with Debian's /usr/bin/python3 (python3-torch 1.13):
    /usr/bin/python3 scripts/goldens/export_onnx_position_ids.py OUT_DIR
Writes into OUT_DIR (produced at test time into a cache by onnx/ OnnxPositionIdsTest, never committed):
  posids.opset13.onnx, .opset17.onnx   inputs "ids", "mask" int64 [N, 7] (dynamic batch); outputs "y" [N, 3] float,
                                       "pos" [N, 7] int64, "len" [N, 1] int64
  posids.goldens.safetensors           ids_b3, mask_b3 (rows of 7, 4 and 2 tokens, left-padded), y_b3, pos_b3, len_b3;
                                       the same for b1
Weights: PyTorch's initialisation under torch.manual_seed(SEED).
"""
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from goldens_io import write_safetensors  # noqa: E402

SEED = 20261205


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.we, self.pe, self.o = nn.Embedding(50, 8), nn.Embedding(16, 8), nn.Linear(8, 3)

    def forward(self, ids, mask):
        pos = (mask.long().cumsum(-1) - 1).masked_fill(mask == 0, 1)
        x = self.we(ids) + self.pe(pos)
        lengths = mask.sum(-1, keepdim=True)
        return self.o((x * mask.unsqueeze(-1).float()).sum(1) / lengths.float()), pos, lengths


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: export_onnx_position_ids.py OUT_DIR")
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(SEED)
    model = Model().eval()
    g = torch.Generator().manual_seed(SEED + 1)
    calls = {"b3": (torch.randint(0, 50, (3, 7), generator=g), torch.tensor([[1] * 7, [0] * 3 + [1] * 4, [0] * 5 + [1] * 2])),
             "b1": (torch.randint(0, 50, (1, 7), generator=g), torch.tensor([[0] * 1 + [1] * 6]))}
    goldens = {}
    with torch.no_grad():
        for name, (ids, mask) in calls.items():
            y, pos, lengths = model(ids, mask)
            goldens.update({"ids_" + name: ids, "mask_" + name: mask, "y_" + name: y, "pos_" + name: pos, "len_" + name: lengths})
        for opset in (13, 17):
            path = os.path.join(out_dir, "posids.opset%d.onnx" % opset)
            torch.onnx.export(model, calls["b3"], path + ".tmp", opset_version=opset, input_names=["ids", "mask"],
                              output_names=["y", "pos", "len"], dynamic_axes={"ids": {0: "N"}, "mask": {0: "N"}})
            os.replace(path + ".tmp", path)
    meta = {"producer": "scripts/goldens/export_onnx_position_ids.py", "seed": str(SEED), "torch": torch.__version__}
    write_safetensors(os.path.join(out_dir, "posids.goldens.safetensors"), goldens, meta)
    print("position ids: written to %s" % out_dir)


if __name__ == "__main__":
    main()
