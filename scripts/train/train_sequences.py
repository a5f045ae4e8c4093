#!/usr/bin/python3
"""Trains the demo's five sequence models on the 8x8 digits read row by row (8 steps x 8 features).

Run with Debian's /usr/bin/python3 (torch 1.13, python3-sklearn), from the repository root:

    /usr/bin/python3 scripts/train/train_sequences.py [--out DIR]

Same data and split as train_digits.py (scikit-learn's load_digits, pixel / 16, 80/20 stratified,
random_state 0, test sorted by index): image i becomes the sequence x[i, t, :] = row t.
Deterministic (fixed seeds, one thread, deterministic algorithms): a rerun writes the same bytes.
Writes into DIR (default demo/src/main/resources/dev/panamadnn/demo/sequences/):
  seq_<name>.safetensors   the eval-mode state_dict of each model (torch's key names, F32);
                           __metadata__: architecture, training, accuracy
  sequences_test.safetensors  the test split and PyTorch's answers: sequences [N,8,8] F32,
                           labels [N] I64, index [N] I64, per model logits_<name> [N,10] F32 and
                           predictions_<name> [N] I64; the FiLM model answers 2N questions
                           (rows 0..N-1: task 0 "which digit", rows N..2N-1: task 1 "even or odd",
                           classes 0/1), its labels in film_labels [2N] I64
The logits are computed with autograd on, so torch 1.13 takes the documented math path of
TransformerEncoderLayer (its no_grad fast path is a different kernel).
Models (torch module names = state_dict prefixes = the Java model's):
  lstm         rnn = LSTM(8, 32, batch_first), fc = Linear(32, 10) on the last step's output
  gru          rnn = GRU(8, 32, batch_first), fc = Linear(32, 10) on the last step's output
  transformer  embed = Linear(8, 32), pos [8, 32] learned, encoder = TransformerEncoder(
               TransformerEncoderLayer(32, 4, 64, dropout 0, batch_first), 2), mean over steps, fc = Linear(32, 10)
  dcnn         Sequential(WideConv(8,16,3), KMax dynamic(k_top 4, l 1, L 2), Tanh, WideConv(16,16,2),
               Folding, KMax(4), Tanh, Flatten, Linear(32,10)) on x.transpose(1, 2) ([N, features, steps])
  film         conv = Conv1d(8,32,3,padding 1), ReLU, film = FiLM(2, 32) of the one-hot task, ReLU,
               head = Sequential(AdaptiveAvgPool1d(1), Flatten, Linear(32,10)) on [N, features, steps]
"""
import argparse
import os
import sys

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "goldens"))
from goldens_io import write_safetensors  # noqa: E402

SEED = 20241214
SPLIT_SEED = 0
BATCH = 64
DEFAULT_OUT = os.path.join("demo", "src", "main", "resources", "dev", "panamadnn", "demo", "sequences")


class Recurrent(nn.Module):
    def __init__(self, cell):
        super().__init__()
        self.rnn = cell(8, 32, batch_first=True)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        return self.fc(self.rnn(x)[0][:, -1, :])


class Transformer(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Linear(8, 32)
        self.pos = nn.Parameter(torch.randn(8, 32) * 0.1)
        layer = nn.TransformerEncoderLayer(32, 4, 64, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        return self.fc(self.encoder(self.embed(x) + self.pos).mean(1))


class KMax(nn.Module):
    """k-max pooling (Kalchbrenner et al. 2014): the k largest of each row in their original order,
    ties to the lower index (a stable descending sort), as dev.panamadnn.nn.KMaxPool1d. Dynamic:
    k = max(k_top, ceil((L - l) / L * s)) with s the input's length, in integers as the Java layer."""

    def __init__(self, k_top, l=None, L=None):
        super().__init__()
        self.k_top, self.l, self.L = k_top, l, L

    def forward(self, x):
        s = x.shape[-1]
        k = self.k_top if self.l is None else max(self.k_top, ((self.L - self.l) * s + self.L - 1) // self.L)
        idx = torch.sort(x, dim=-1, descending=True, stable=True)[1][..., :k]
        return x.gather(-1, idx.sort(dim=-1)[0])


class Folding(nn.Module):
    def forward(self, x):
        n, c, s = x.shape
        return x.view(n, c // 2, 2, s).sum(2)


class Dcnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Conv1d(8, 16, 3, padding=2), KMax(4, 1, 2), nn.Tanh(), nn.Conv1d(16, 16, 2, padding=1),
                                 Folding(), KMax(4), nn.Tanh(), nn.Flatten(), nn.Linear(32, 10))

    def forward(self, x):
        return self.net(x.transpose(1, 2))


class FiLM(nn.Module):
    """gamma(z) * x + beta(z), the module dev.panamadnn.nn.FiLM loads (scripts/goldens/generate_layers14.py)."""

    def __init__(self, cond, channels):
        super().__init__()
        self.gamma = nn.Linear(cond, channels)
        self.beta = nn.Linear(cond, channels)

    def forward(self, x, z):
        shape = (x.shape[0], x.shape[1]) + (1,) * (x.dim() - 2)
        return self.gamma(z).view(shape) * x + self.beta(z).view(shape)


class FiLMed(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(8, 32, 3, padding=1)
        self.film = FiLM(2, 32)
        self.head = nn.Sequential(nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(32, 10))

    def forward(self, x, z):
        return self.head(torch.relu(self.film(torch.relu(self.conv(x.transpose(1, 2))), z)))


MODELS = {  # name: (constructor, epochs, learning rate, architecture line)
    "lstm": (lambda: Recurrent(nn.LSTM), 30, 1e-2, "rnn=LSTM(8,32,batch_first=True), fc=Linear(32,10) on output[:, -1]"),
    "gru": (lambda: Recurrent(nn.GRU), 30, 1e-2, "rnn=GRU(8,32,batch_first=True), fc=Linear(32,10) on output[:, -1]"),
    "transformer": (Transformer, 30, 3e-3, "embed=Linear(8,32), pos[8,32], encoder=TransformerEncoder(TransformerEncoderLayer("
                    "32,4,64,dropout=0,batch_first=True),2), mean over steps, fc=Linear(32,10)"),
    "dcnn": (Dcnn, 40, 1e-2, "net=Sequential(Conv1d(8,16,3,padding=2), KMax dynamic(4,1,2), Tanh, Conv1d(16,16,2,padding=1), "
             "Folding, KMax(4), Tanh, Flatten, Linear(32,10)) on x.transpose(1,2)"),
    "film": (FiLMed, 60, 1e-2, "conv=Conv1d(8,32,3,padding=1), ReLU, film=FiLM(2,32)(one-hot task), ReLU, "
             "head=Sequential(AdaptiveAvgPool1d(1), Flatten, Linear(32,10)) on x.transpose(1,2)"),
}


def with_tasks(x, y):
    """Each sequence twice: task 0 (label = digit), then task 1 (label = digit % 2)."""
    n = len(y)
    z = torch.zeros(2 * n, 2)
    z[:n, 0] = 1
    z[n:, 1] = 1
    return torch.cat([x, x]), z, torch.cat([y, y % 2])


def train(name, xtr, ytr, xte, yte):
    make, epochs, lr, _ = MODELS[name]
    torch.manual_seed(SEED)
    net = make()
    film = name == "film"
    if film:
        xtr, ztr, ytr = with_tasks(xtr, ytr)
        xte, zte, yte = with_tasks(xte, yte)
    run = (lambda m, x, z: m(x, z)) if film else (lambda m, x, z: m(x))
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(SEED)
    for epoch in range(epochs):
        net.train()
        perm = torch.randperm(len(ytr), generator=gen)
        for b in range(0, len(perm), BATCH):
            idx = perm[b:b + BATCH]
            opt.zero_grad()
            loss = loss_fn(run(net, xtr[idx], ztr[idx] if film else None), ytr[idx])
            loss.backward()
            opt.step()
        sched.step()
    net.eval()
    logits = run(net, xte, zte if film else None).detach()   # autograd on: torch's math path (see the docstring)
    pred = logits.argmax(1)
    correct = int((pred == yte).sum())
    print(f"{name:12s} test accuracy {correct}/{len(yte)} = {correct / len(yte):.4f}")
    return net, logits, pred, correct, yte


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=DEFAULT_OUT, help="output directory (default: %(default)s)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    np.random.seed(SEED)

    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.images.astype(np.float32) / 16.0).reshape(-1, 8, 8)   # [N, steps = rows, features = columns]
    y = digits.target.astype(np.int64)
    index = np.arange(len(y))
    i_train, i_test = train_test_split(index, test_size=0.2, stratify=y, random_state=SPLIT_SEED)
    i_test = np.sort(i_test)
    xtr, ytr = torch.from_numpy(x[i_train]), torch.from_numpy(y[i_train])
    xte, yte = torch.from_numpy(x[i_test]), torch.from_numpy(y[i_test])

    os.makedirs(args.out, exist_ok=True)
    common = {"data": "scikit-learn load_digits (UCI ML hand-written digits, CC BY 4.0), from Debian python3-sklearn",
              "split": f"sklearn train_test_split(test_size=0.2, stratify=y, random_state={SPLIT_SEED}), test sorted by index",
              "torch": torch.__version__}
    test = {"sequences": xte, "labels": yte, "index": torch.from_numpy(i_test)}
    meta = dict(common, count=str(len(yte)))
    for name, (_, epochs, lr, arch) in MODELS.items():
        net, logits, pred, correct, labels = train(name, xtr, ytr, xte, yte)
        test[f"logits_{name}"], test[f"predictions_{name}"] = logits, pred
        if name == "film":
            test["film_labels"] = labels
        meta[f"correct_{name}"] = str(correct)
        write_safetensors(os.path.join(args.out, f"seq_{name}.safetensors"), net.state_dict(),
                          dict(common, architecture=arch, input="[N,8,8] float32 (steps = image rows, features = columns), pixel/16",
                               training=f"AdamW lr {lr} wd 1e-4, cosine, {epochs} epochs, batch {BATCH}, seed {SEED}",
                               accuracy=repr(correct / len(labels)), correct=str(correct), count=str(len(labels))))
    write_safetensors(os.path.join(args.out, "sequences_test.safetensors"), test, meta)
    print("wrote", args.out)


if __name__ == "__main__":
    main()
