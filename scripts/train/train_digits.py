#!/usr/bin/python3
"""Trains the demo's small residual CNN on scikit-learn's 8x8 hand-written digits, for real.

Run with Debian's /usr/bin/python3 (torch 1.13) after `apt-get install -y python3-sklearn`
(its load_digits works offline: the 1,797 images ship in the package). From the repository root:

    /usr/bin/python3 scripts/train/train_digits.py [--out DIR]

Deterministic: fixed seeds, one thread, deterministic algorithms; a minute or less on one core.
Writes into DIR (default demo/src/main/resources/dev/panamadnn/demo/digits/):
  digits_resnet.safetensors  the eval-mode state_dict, keys exactly PyTorch's (F32, I64 for
                             num_batches_tracked); __metadata__ says architecture and accuracy
  digits_test.safetensors    the held-out test split and PyTorch's answers on it:
                             images [N,1,8,8] F32 in [0,1] (pixel / 16, exact in float),
                             labels [N] I64, index [N] I64 (position in load_digits' order),
                             logits [N,10] F32 (PyTorch eval mode, one batch), predictions [N] I64
                             (argmax of logits); __metadata__: accuracy, correct, count, split
The architecture uses only layers that dev.panamadnn.nn has, with the same state_dict names:
  Sequential(Conv2d(1,16,3,p=1,bias=False), BatchNorm2d(16), ReLU(),
             BasicBlock(16,16), BasicBlock(16,32,stride=2,downsample=conv1x1+bn),
             AdaptiveAvgPool2d(1), Flatten(), Linear(32,10))
"""
import argparse
import os
import sys

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "goldens"))
from goldens_io import write_safetensors  # noqa: E402

SEED = 20240601
SPLIT_SEED = 0
EPOCHS = 40
BATCH = 64
DEFAULT_OUT = os.path.join("demo", "src", "main", "resources", "dev", "panamadnn", "demo", "digits")


class BasicBlock(nn.Module):
    """torchvision's BasicBlock (same attribute names, so the same state_dict keys)."""

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


def model():
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
        BasicBlock(16, 16),
        BasicBlock(16, 32, 2, nn.Sequential(nn.Conv2d(16, 32, 1, stride=2, bias=False), nn.BatchNorm2d(32))),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 10))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=DEFAULT_OUT, help="output directory (default: %(default)s)")
    args = ap.parse_args()

    torch.manual_seed(SEED)
    np.random.seed(SEED)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)

    # Imported here so that export_digits_onnx.py can import model() without scikit-learn.
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.images.astype(np.float32) / 16.0).reshape(-1, 1, 8, 8)   # 0..16 -> [0,1], exact
    y = digits.target.astype(np.int64)
    index = np.arange(len(y))
    i_train, i_test = train_test_split(index, test_size=0.2, stratify=y, random_state=SPLIT_SEED)
    i_test = np.sort(i_test)
    xtr, ytr = torch.from_numpy(x[i_train]), torch.from_numpy(y[i_train])
    xte, yte = torch.from_numpy(x[i_test]), torch.from_numpy(y[i_test])

    net = model()
    opt = torch.optim.AdamW(net.parameters(), lr=3e-3, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, EPOCHS)
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(SEED)
    for epoch in range(EPOCHS):
        net.train()
        perm = torch.randperm(len(ytr), generator=gen)
        total = 0.0
        for b in range(0, len(perm), BATCH):
            idx = perm[b:b + BATCH]
            opt.zero_grad()
            loss = loss_fn(net(xtr[idx]), ytr[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        sched.step()
        if epoch % 10 == 9 or epoch == EPOCHS - 1:
            net.eval()
            with torch.no_grad():
                acc = (net(xte).argmax(1) == yte).float().mean().item()
            print(f"epoch {epoch + 1:3d}  train loss {total / len(ytr):.4f}  test accuracy {acc:.4f}")

    net.eval()
    with torch.no_grad():
        logits = net(xte)
    pred = logits.argmax(1)
    correct = int((pred == yte).sum())
    accuracy = correct / len(yte)
    print(f"test accuracy {correct}/{len(yte)} = {accuracy:.4f}")

    os.makedirs(args.out, exist_ok=True)
    arch = ("Sequential(Conv2d(1,16,3,padding=1,bias=False), BatchNorm2d(16), ReLU(), BasicBlock(16,16), "
            "BasicBlock(16,32,stride=2,downsample=Sequential(Conv2d(16,32,1,stride=2,bias=False), BatchNorm2d(32))), "
            "AdaptiveAvgPool2d(1), Flatten(), Linear(32,10))")
    common = {"data": "scikit-learn load_digits (UCI ML hand-written digits, CC BY 4.0), from Debian python3-sklearn",
              "split": f"sklearn train_test_split(test_size=0.2, stratify=y, random_state={SPLIT_SEED}), test sorted by index",
              "torch": torch.__version__, "accuracy": repr(accuracy), "correct": str(correct), "count": str(len(yte))}
    write_safetensors(os.path.join(args.out, "digits_resnet.safetensors"), net.state_dict(),
                      dict(common, architecture=arch, input="[N,1,8,8] float32, pixel/16",
                           training=f"AdamW lr 3e-3 wd 1e-4, cosine, {EPOCHS} epochs, batch {BATCH}, seed {SEED}"))
    write_safetensors(os.path.join(args.out, "digits_test.safetensors"),
                      {"images": xte, "labels": yte, "index": torch.from_numpy(i_test), "logits": logits, "predictions": pred},
                      common)
    print("wrote", args.out)


if __name__ == "__main__":
    main()
