#!/usr/bin/python3
"""Exports a small two-input PyTorch model to ONNX, with PyTorch's outputs as goldens, for the
server's multi-input test (server/src/test/.../TwoInputServingTest).

Run with Debian's /usr/bin/python3 (torch 1.13) from the repository root:
    /usr/bin/python3 scripts/goldens/export_two_input_onnx.py [--dir DIR]
The model: image [N,1,4,4] -> Conv2d(1,2,3,padding=1) -> ReLU -> flatten (32), features [N,5] ->
Linear(5,4) -> tanh; both concatenated (36) -> Linear(36,3) = scores [N,3]. Random weights under
torch.manual_seed(SEED), eval mode, opset 13, inputs "image" and "features" with one dynamic batch
axis "N", output "scores". Writes DIR/model.onnx and DIR/goldens.json: {"seed", "torch", "cases":
[{"image": flat list, "features": flat list, "rows": N, "scores": flat list}]} for N = 1, 2, 3.
DIR defaults to server/src/test/resources/dev/panamadnn/server/twoinput.
"""
import argparse
import json
import os

import torch

SEED = 20261203
DEFAULT_DIR = "server/src/test/resources/dev/panamadnn/server/twoinput"


class TwoInputs(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 2, 3, padding=1)
        self.dense = torch.nn.Linear(5, 4)
        self.head = torch.nn.Linear(36, 3)

    def forward(self, image, features):
        a = torch.relu(self.conv(image)).flatten(1)
        b = torch.tanh(self.dense(features))
        return self.head(torch.cat([a, b], dim=1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", default=DEFAULT_DIR)
    a = ap.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    net = TwoInputs().eval()
    cases = []
    with torch.no_grad():
        for n in (1, 2, 3):
            image = torch.randn(n, 1, 4, 4)
            features = torch.randn(n, 5)
            scores = net(image, features)
            cases.append({"rows": n, "image": image.flatten().tolist(), "features": features.flatten().tolist(),
                          "scores": scores.flatten().tolist()})
        example = (torch.randn(1, 1, 4, 4), torch.randn(1, 5))
    path = os.path.join(a.dir, "model.onnx")
    torch.onnx.export(net, example, path + ".tmp", opset_version=13, input_names=["image", "features"],
                      output_names=["scores"], dynamic_axes={"image": {0: "N"}, "features": {0: "N"}, "scores": {0: "N"}})
    os.replace(path + ".tmp", path)
    with open(os.path.join(a.dir, "goldens.json"), "w") as f:
        json.dump({"seed": SEED, "torch": torch.__version__, "cases": cases}, f)
        f.write("\n")


if __name__ == "__main__":
    main()
