#!/usr/bin/python3
"""Exports two small PyTorch models to ONNX with fixed shapes (torch.onnx.export without
dynamic_axes, as most exported files in the wild are), with PyTorch's outputs as goldens, for the
server's test of models served without a batch dim (max_batch_size 0:
server/src/test/.../FixedShapeServingTest).

Run with Debian's /usr/bin/python3 (torch 1.13) from the repository root:
    /usr/bin/python3 scripts/goldens/export_fixed_shape_onnx.py [--dir DIR]
The models (random weights under torch.manual_seed(SEED), eval mode):
  * gru/: a sequence-first GRU (torch's default layout, batch_first=False): x [T=6, N=3, I=5] ->
    nn.GRU(5, 8) -> its output sequence "seq" [6, 3, 8] (the batch on dim 1) and
    "scores" = Linear(8, 4)(the last step) [3, 4]. Opset 14.
  * cnn/: image [1, 2, 6, 6] (batch 1 fixed) -> Conv2d(2, 4, 3) -> ReLU -> flatten (64) -> Linear(64, 5) = "logits"
    [1, 5]. Opset 13.
Writes DIR/<model>/model.onnx and DIR/<model>/goldens.json: {"seed", "torch", "cases": [{input: flat list,
output: flat list, ...}]}, three cases each. DIR defaults to server/src/test/resources/dev/panamadnn/server/fixed.
"""
import argparse
import json
import os

import torch

SEED = 20261206
DEFAULT_DIR = "server/src/test/resources/dev/panamadnn/server/fixed"


class SeqFirstGru(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = torch.nn.GRU(5, 8)
        self.head = torch.nn.Linear(8, 4)

    def forward(self, x):
        seq, _ = self.gru(x)
        return seq, self.head(seq[-1])


class SmallCnn(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(2, 4, 3)
        self.fc = torch.nn.Linear(64, 5)

    def forward(self, image):
        return self.fc(torch.relu(self.conv(image)).flatten(1))


def export(net, shape, input_name, output_names, opset, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    cases = []
    with torch.no_grad():
        for _ in range(3):
            x = torch.randn(*shape)
            ys = net(x)
            ys = ys if isinstance(ys, tuple) else (ys,)
            case = {input_name: x.flatten().tolist()}
            for name, y in zip(output_names, ys):
                case[name] = y.flatten().tolist()
            cases.append(case)
        example = torch.randn(*shape)
    path = os.path.join(out_dir, "model.onnx")
    torch.onnx.export(net, (example,), path + ".tmp", opset_version=opset, input_names=[input_name], output_names=output_names)
    os.replace(path + ".tmp", path)
    with open(os.path.join(out_dir, "goldens.json"), "w") as f:
        json.dump({"seed": SEED, "torch": torch.__version__, "cases": cases}, f)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", default=DEFAULT_DIR)
    a = ap.parse_args()
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    export(SeqFirstGru().eval(), (6, 3, 5), "x", ["seq", "scores"], 14, os.path.join(a.dir, "gru"))
    export(SmallCnn().eval(), (1, 2, 6, 6), "image", ["logits"], 13, os.path.join(a.dir, "cnn"))


if __name__ == "__main__":
    main()
