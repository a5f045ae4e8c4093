#!/usr/bin/python3
"""Exports two small PyTorch models to ONNX with dynamic dims beyond the batch (a sequence length, an image size), with
PyTorch's outputs at several sizes as goldens, for the server's test of variable-shape serving (config.json dims of -1:
server/src/test/.../VariableShapeServingTest).

Run with Debian's /usr/bin/python3 (torch 1.13) from the repository root:
    /usr/bin/python3 scripts/goldens/export_variable_shape_onnx.py [--dir DIR]
The models (random weights under torch.manual_seed(SEED), eval mode):
  * tagger/: token ids "ids" INT64 [N, S] and per-token weights "weights" FP32 [N, S] -> Embedding(20, 8) scaled by the
    weights -> GRU(8, 8, batch_first) -> "tags" = Linear(8, 4) of every step [N, S, 4] and "summary" = Linear(8, 3) of
    the last step [N, 3]. dynamic_axes: N and S on both inputs. Opset 14.
  * image/: "image" FP32 [N, 3, H, W] -> Conv2d(3, 6, 3, padding=1) -> ReLU -> Conv2d(6, 6, 3, stride=2) -> ReLU ->
    global average pool -> "logits" = Linear(6, 5) [N, 5]. dynamic_axes: N, H and W. Opset 13.
  * wide/: "x" FP32 [N, S, 32] -> Linear(32, 256) -> ReLU -> "y" = Linear(256, 4) [N, S, 4]: a weight of 32 KiB, large
    enough for plan sets to share (the server's shapes of one model hold it once). dynamic_axes: N and S. Opset 13.
  * encoder/: a sequence-first TransformerEncoderLayer(8, 2, dim_feedforward=16) (torch's default [T, N, E] layout):
    "x" [T, N, 8] -> "y" [T, N, 8]. dynamic_axes: T ("steps") and N ("batch"), as such models are exported; its first dim
    is time, not a batch. Opset 17 (LayerNormalization as one op), exported with autograd on so that torch 1.13 takes the
    documented math path rather than its inference fast path.
Writes DIR/<model>/model.onnx and DIR/<model>/goldens.json: {"seed", "torch", "cases": [{"shapes": {input: shape},
input: flat list, output: flat list, ...}]}, the cases at several sizes (and batch sizes 1 and 2). DIR defaults to
server/src/test/resources/dev/panamadnn/server/variable.
"""
import argparse
import json
import os

import torch

SEED = 20261207
DEFAULT_DIR = "server/src/test/resources/dev/panamadnn/server/variable"


class Tagger(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(20, 8)
        self.gru = torch.nn.GRU(8, 8, batch_first=True)
        self.tags = torch.nn.Linear(8, 4)
        self.summary = torch.nn.Linear(8, 3)

    def forward(self, ids, weights):
        seq, _ = self.gru(self.embed(ids) * weights.unsqueeze(-1))
        return self.tags(seq), self.summary(seq[:, -1])


class Image(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(3, 6, 3, padding=1)
        self.conv2 = torch.nn.Conv2d(6, 6, 3, stride=2)
        self.fc = torch.nn.Linear(6, 5)

    def forward(self, image):
        x = torch.relu(self.conv2(torch.relu(self.conv1(image))))
        return self.fc(x.mean(dim=(2, 3)))


def write(out_dir, cases):
    with open(os.path.join(out_dir, "goldens.json"), "w") as f:
        json.dump({"seed": SEED, "torch": torch.__version__, "cases": cases}, f)
        f.write("\n")


def export_tagger(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    net = Tagger().eval()
    cases = []
    with torch.no_grad():
        for n, s in [(1, 3), (2, 5), (1, 9), (2, 3)]:
            ids = torch.randint(0, 20, (n, s))
            weights = torch.rand(n, s) + 0.5
            tags, summary = net(ids, weights)
            cases.append({"shapes": {"ids": [n, s], "weights": [n, s]}, "ids": ids.flatten().tolist(),
                          "weights": weights.flatten().tolist(), "tags": tags.flatten().tolist(),
                          "summary": summary.flatten().tolist()})
    path = os.path.join(out_dir, "model.onnx")
    torch.onnx.export(net, (torch.randint(0, 20, (2, 4)), torch.rand(2, 4)), path + ".tmp", opset_version=14,
                      input_names=["ids", "weights"], output_names=["tags", "summary"],
                      dynamic_axes={"ids": {0: "N", 1: "S"}, "weights": {0: "N", 1: "S"}, "tags": {0: "N", 1: "S"},
                                    "summary": {0: "N"}})
    os.replace(path + ".tmp", path)
    write(out_dir, cases)


def export_image(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    net = Image().eval()
    cases = []
    with torch.no_grad():
        for n, h, w in [(1, 8, 8), (2, 12, 10), (1, 7, 9), (2, 8, 8)]:
            x = torch.randn(n, 3, h, w)
            cases.append({"shapes": {"image": [n, 3, h, w]}, "image": x.flatten().tolist(),
                          "logits": net(x).flatten().tolist()})
    path = os.path.join(out_dir, "model.onnx")
    torch.onnx.export(net, (torch.randn(1, 3, 8, 8),), path + ".tmp", opset_version=13, input_names=["image"],
                      output_names=["logits"], dynamic_axes={"image": {0: "N", 2: "H", 3: "W"}, "logits": {0: "N"}})
    os.replace(path + ".tmp", path)
    write(out_dir, cases)


def export_encoder(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    net = torch.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16).eval()
    cases = []
    with torch.enable_grad():
        for t, n in [(3, 1), (5, 2), (4, 3)]:
            x = torch.randn(t, n, 8)
            cases.append({"shapes": {"x": [t, n, 8]}, "x": x.flatten().tolist(), "y": net(x).detach().flatten().tolist()})
        path = os.path.join(out_dir, "model.onnx")
        torch.onnx.export(net, (torch.randn(4, 2, 8),), path + ".tmp", opset_version=17, input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "steps", 1: "batch"}, "y": {0: "steps", 1: "batch"}})
    os.replace(path + ".tmp", path)
    write(out_dir, cases)


def export_wide(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    net = torch.nn.Sequential(torch.nn.Linear(32, 256), torch.nn.ReLU(), torch.nn.Linear(256, 4)).eval()
    cases = []
    with torch.no_grad():
        for n, s in [(1, 3), (2, 5), (1, 9)]:
            x = torch.randn(n, s, 32)
            cases.append({"shapes": {"x": [n, s, 32]}, "x": x.flatten().tolist(), "y": net(x).flatten().tolist()})
    path = os.path.join(out_dir, "model.onnx")
    torch.onnx.export(net, (torch.randn(2, 4, 32),), path + ".tmp", opset_version=13, input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "N", 1: "S"}, "y": {0: "N", 1: "S"}})
    os.replace(path + ".tmp", path)
    write(out_dir, cases)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", default=DEFAULT_DIR)
    a = ap.parse_args()
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    export_tagger(os.path.join(a.dir, "tagger"))
    export_image(os.path.join(a.dir, "image"))
    export_encoder(os.path.join(a.dir, "encoder"))
    export_wide(os.path.join(a.dir, "wide"))


if __name__ == "__main__":
    main()
