#!/usr/bin/python3
"""Exports a small transformer text classifier to ONNX with a dynamic batch and sequence length, for scripts/loadtest
--model text (requests of several lengths served by one model: the server's variable dims).

Run with Debian's /usr/bin/python3 (torch 1.13):
    /usr/bin/python3 scripts/goldens/export_text_classifier.py OUT_DIR
The model (random weights under torch.manual_seed(SEED), eval mode): token ids "ids" INT64 [N, S] -> Embedding(1000, 128)
-> TransformerEncoder of 2 layers (d_model 128, 4 heads, feed-forward 256, ReLU, batch_first) -> mean over the sequence
-> "logits" = Linear(128, 4) [N, 4]. dynamic_axes: N ("batch") and S ("tokens"). Opset 17 (LayerNormalization as one
op), exported with autograd on so that torch 1.13 takes the documented math path rather than its inference fast path.
Writes OUT_DIR/text.onnx, and OUT_DIR/text.goldens.json: PyTorch's logits for one seeded row at each of the lengths 16,
32, 48 and 64 ({"length": {"ids": [...], "logits": [...]}}), which the load test checks one request of each against.
"""
import json
import os
import sys

import torch

SEED = 20261208
LENGTHS = (16, 32, 48, 64)


class TextClassifier(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(1000, 128)
        layer = torch.nn.TransformerEncoderLayer(128, 4, dim_feedforward=256, batch_first=True)
        self.encoder = torch.nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.head = torch.nn.Linear(128, 4)

    def forward(self, ids):
        return self.head(self.encoder(self.embed(ids)).mean(dim=1))


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    net = TextClassifier().eval()
    goldens = {}
    with torch.enable_grad():
        for s in LENGTHS:
            ids = torch.randint(0, 1000, (1, s), generator=torch.Generator().manual_seed(SEED + s))
            goldens[str(s)] = {"ids": ids.flatten().tolist(), "logits": net(ids).detach().flatten().tolist()}
        tmp = os.path.join(out, "text.onnx.tmp")
        torch.onnx.export(net, (torch.randint(0, 1000, (2, 24)),), tmp, opset_version=17, input_names=["ids"],
                          output_names=["logits"], dynamic_axes={"ids": {0: "batch", 1: "tokens"}, "logits": {0: "batch"}})
    os.replace(tmp, os.path.join(out, "text.onnx"))
    with open(os.path.join(out, "text.goldens.json"), "w") as f:
        json.dump(goldens, f)
        f.write("\n")
    print("wrote", os.path.join(out, "text.onnx"))


if __name__ == "__main__":
    main()
