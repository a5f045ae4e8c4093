#!/usr/bin/python3
"""Exports a small attention classifier that takes an int64 attention mask and turns it into an additive mask as Hugging
Face's BERT does ((1.0 - mask[:, None, :].to(float)) * -10000.0, exported as Unsqueeze, Cast, Sub, Mul) and pools
over the unmasked tokens as sentence-transformers' mean pooling does (mask.unsqueeze(-1).expand(...).float(), sums of
floats), with PyTorch's outputs as goldens.

Run with Debian's /usr/bin/python3 (python3-torch 1.13):
    /usr/bin/python3 scripts/goldens/export_onnx_int64_mask.py OUT_DIR
Writes into OUT_DIR (produced at test time into a cache by onnx/ OnnxInt64MaskTest, never committed):
  int64mask.opset13.onnx, .opset17.onnx   inputs "ids", "mask" int64 [N, 7] (dynamic batch), output "y" [N, 2]
  int64mask.goldens.safetensors           ids_b3, mask_b3, y_b3 (three rows: 7, 4 and 2 tokens kept); ids_b1, mask_b1, y_b1
Weights: PyTorch's initialisation under torch.manual_seed(SEED).
"""
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from goldens_io import write_safetensors  # noqa: E402

SEED = 20261205


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.e = nn.Embedding(50, 16)
        self.q, self.k, self.v = nn.Linear(16, 16), nn.Linear(16, 16), nn.Linear(16, 16)
        self.o = nn.Linear(16, 2)

    def forward(self, ids, mask):
        x = self.e(ids)
        extended = (1.0 - mask[:, None, :].to(torch.float32)) * -10000.0
        w = torch.softmax(self.q(x) @ self.k(x).transpose(1, 2) / 4.0 + extended, -1)
        kept = mask.unsqueeze(-1).expand(x.shape).float()   # sentence-transformers' mean pooling
        pooled = torch.sum((w @ self.v(x)) * kept, 1) / torch.clamp(kept.sum(1), min=1e-9)
        return self.o(pooled)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: export_onnx_int64_mask.py OUT_DIR")
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(SEED)
    model = Classifier().eval()
    g = torch.Generator().manual_seed(SEED + 1)
    ids3 = torch.randint(0, 50, (3, 7), generator=g)
    mask3 = torch.tensor([[1] * 7, [1] * 4 + [0] * 3, [1] * 2 + [0] * 5])
    ids1 = torch.randint(0, 50, (1, 7), generator=g)
    mask1 = torch.tensor([[1] * 5 + [0] * 2])
    with torch.no_grad():
        y3, y1 = model(ids3, mask3), model(ids1, mask1)
        for opset in (13, 17):
            path = os.path.join(out_dir, "int64mask.opset%d.onnx" % opset)
            torch.onnx.export(model, (ids3, mask3), path + ".tmp", opset_version=opset, input_names=["ids", "mask"], output_names=["y"],
                              dynamic_axes={"ids": {0: "N"}, "mask": {0: "N"}, "y": {0: "N"}})
            os.replace(path + ".tmp", path)
    meta = {"producer": "scripts/goldens/export_onnx_int64_mask.py", "seed": str(SEED), "torch": torch.__version__}
    write_safetensors(os.path.join(out_dir, "int64mask.goldens.safetensors"),
                      {"ids_b3": ids3, "mask_b3": mask3, "y_b3": y3, "ids_b1": ids1, "mask_b1": mask1, "y_b1": y1}, meta)
    print("int64 mask: written to %s" % out_dir)


if __name__ == "__main__":
    main()
