#!/usr/bin/python3
"""Exports small LSTM and GRU sequence classifiers to ONNX with PyTorch's logits as goldens.

Run with Debian's /usr/bin/python3 (python3-torch 1.13):
    /usr/bin/python3 scripts/goldens/export_onnx_rnn_models.py OUT_DIR
Writes, for each model M (lstm, gru), into OUT_DIR (produced at test time into a cache by onnx/
OnnxRnnModelsTest, never committed):
  M.opset13.onnx, M.opset17.onnx   torch.onnx.export (TorchScript exporter), eval mode, input
                                   "input" [batch, 12, 16] (batch_first) with a dynamic batch axis, output "logits"
  M.goldens.safetensors            input_b1 [1,12,16], logits_b1; input_b2 [2,12,16], logits_b2 (PyTorch)
  packed_lstm, packed_gru          the same files for padded batches through pack_padded_sequence (the GRU bidirectional):
                                   inputs "input" [batch, 12, 16] and "lengths" (I64) [batch], output "logits" [batch, 12, 10];
                                   goldens input/lengths/logits _b2 and _b3, both batch 2 (the export's zero initial
                                   state is a constant of the export batch)
The model: nn.LSTM / nn.GRU (16 -> 32, two layers, batch_first) then Linear(32, 10) on the last
step's output. Weights are PyTorch's own random initialisation under torch.manual_seed(SEED).
The goldens file is written last (each file to a .tmp, then renamed): if it exists, the rest do.
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from goldens_io import write_safetensors  # noqa: E402

SEED = 20261203
STEPS, FEATURES, HIDDEN, CLASSES = 12, 16, 32, 10
OPSETS = (13, 17)


class Classifier(torch.nn.Module):
    def __init__(self, cell):
        super().__init__()
        self.rnn = cell(FEATURES, HIDDEN, num_layers=2, batch_first=True)
        self.head = torch.nn.Linear(HIDDEN, CLASSES)

    def forward(self, x):
        y, _ = self.rnn(x)
        return self.head(y[:, -1, :])


def export(name, cell, out_dir):
    torch.manual_seed(SEED)
    model = Classifier(cell).eval()
    g = torch.Generator().manual_seed(SEED + 1)
    x1 = torch.randn(1, STEPS, FEATURES, generator=g)
    x2 = torch.randn(2, STEPS, FEATURES, generator=g)
    meta = {"producer": "scripts/goldens/export_onnx_rnn_models.py", "model": name, "seed": str(SEED), "torch": torch.__version__}
    with torch.no_grad():
        y1, y2 = model(x1), model(x2)
        for opset in OPSETS:
            path = os.path.join(out_dir, "%s.opset%d.onnx" % (name, opset))
            torch.onnx.export(model, x1, path + ".tmp", opset_version=opset, input_names=["input"], output_names=["logits"],
                              dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
            os.replace(path + ".tmp", path)
    write_safetensors(os.path.join(out_dir, name + ".goldens.safetensors"),
                      {"input_b1": x1, "logits_b1": y1, "input_b2": x2, "logits_b2": y2}, meta)
    print("%s: logits max-abs %.4g, written to %s" % (name, float(y2.abs().max()), out_dir))


class Packed(torch.nn.Module):
    """Padded sequences of per-row lengths through pack_padded_sequence (enforce_sorted=False: torch's export sorts the
    lengths with TopK and unsorts with ScatterElements, on I64 values known once the lengths input is bound), then
    pad_packed_sequence and Linear on every step (padded steps: the bias)."""

    def __init__(self, cell, **kw):
        super().__init__()
        self.rnn = cell(FEATURES, HIDDEN, batch_first=True, **kw)
        self.head = torch.nn.Linear(HIDDEN * (2 if kw.get("bidirectional") else 1), CLASSES)

    def forward(self, x, lengths):
        p = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        y, _ = torch.nn.utils.rnn.pad_packed_sequence(self.rnn(p)[0], batch_first=True, total_length=x.shape[1])
        return self.head(y)


def export_packed(name, cell, out_dir, **kw):
    torch.manual_seed(SEED + 2)
    model = Packed(cell, **kw).eval()
    g = torch.Generator().manual_seed(SEED + 3)
    x2, l2 = torch.randn(2, STEPS, FEATURES, generator=g), torch.tensor([5, STEPS])
    # torch's export bakes the zero initial state of the export batch (2) in as a constant Expanded to the batch: the
    # file runs at batch 2 only (ONNX Runtime refuses another batch too), so the second golden is batch 2 as well
    x3, l3 = torch.randn(2, STEPS, FEATURES, generator=g), torch.tensor([1, 7])
    meta = {"producer": "scripts/goldens/export_onnx_rnn_models.py", "model": name, "seed": str(SEED), "torch": torch.__version__}
    with torch.no_grad():
        y2, y3 = model(x2, l2), model(x3, l3)
        for opset in OPSETS:
            path = os.path.join(out_dir, "%s.opset%d.onnx" % (name, opset))
            torch.onnx.export(model, (x2, l2), path + ".tmp", opset_version=opset, input_names=["input", "lengths"], output_names=["logits"])
            os.replace(path + ".tmp", path)
    write_safetensors(os.path.join(out_dir, name + ".goldens.safetensors"),
                      {"input_b2": x2, "lengths_b2": l2, "logits_b2": y2, "input_b3": x3, "lengths_b3": l3, "logits_b3": y3}, meta)
    print("%s: logits max-abs %.4g, written to %s" % (name, float(y3.abs().max()), out_dir))


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: export_onnx_rnn_models.py OUT_DIR")
    os.makedirs(sys.argv[1], exist_ok=True)
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    export("lstm", torch.nn.LSTM, sys.argv[1])
    export_packed("packed_lstm", torch.nn.LSTM, sys.argv[1])
    export_packed("packed_gru", torch.nn.GRU, sys.argv[1], bidirectional=True)
    export("gru", torch.nn.GRU, sys.argv[1])   # last: its goldens file marks the directory complete


if __name__ == "__main__":
    main()
