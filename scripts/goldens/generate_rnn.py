#!/usr/bin/python3
"""Writes PyTorch goldens for LSTM, GRU, LSTMCell and GRUCell.

Run with Debian's /usr/bin/python3 (torch 1.13):
    /usr/bin/python3 scripts/goldens/generate_rnn.py
Output (format: goldens_io.py):
  java-api/src/test/resources/goldens/rnn.safetensors: one case per configuration; its spec is
    "<Layer> input_size=.. hidden_size=.. [num_layers=.. bias=0|1 batch_first=0|1 bidirectional=0|1 proj_size=..]";
    tensors input, output (LSTM/GRU: the output sequence; cells: h'), param:<state_dict name>, and
    as extras: h0 / c0 (when given; cells: h / c), lengths (float, when the batch is padded),
    h_n / c_n (LSTM/GRU; LSTMCell: c_n is its c').
  java-api/src/test/resources/goldens/rnn_state_dict.safetensors: the plain state_dict of the case
    "lstm_2l_bi_proj_bf", so the Java side can load it with SafeTensors.load by its own names.
Padded batches follow pack_padded_sequence(enforce_sorted=False) -> module -> pad_packed_sequence(
total_length = the input's length): outputs past a sequence's end are 0 and h_n/c_n are the state at
its last valid step. Every module is in eval() mode (dropout is inactive at inference). Each case has
its own fixed seed; parameters are PyTorch's own initialisation, biases widened to U(-0.5, 0.5) so a
dropped or misplaced bias term shows.
"""
import os
import sys

import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from goldens_io import write_goldens, write_safetensors  # noqa: E402

DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "java-api", "src", "test", "resources", "goldens")


def widen_biases(m):
    with torch.no_grad():
        for name, p in m.named_parameters():
            if name.startswith("bias"):
                p.uniform_(-0.5, 0.5)


def sequence_case(name, seed, kind, input_size, hidden, num_layers=1, bias=True, batch_first=False, bidirectional=False,
                  proj_size=0, length=4, batch=3, state=False, lengths=None, unbatched=False, scale=1.0, poison=None):
    torch.manual_seed(seed)
    kw = dict(num_layers=num_layers, bias=bias, batch_first=batch_first, bidirectional=bidirectional)
    if kind == "LSTM":
        kw["proj_size"] = proj_size
    m = getattr(nn, kind)(input_size, hidden, **kw).eval()
    widen_biases(m)
    dirs = 2 if bidirectional else 1
    out_size = proj_size if proj_size > 0 else hidden
    shape = [length, input_size] if unbatched else ([batch, length, input_size] if batch_first else [length, batch, input_size])
    x = torch.randn(*shape) * scale
    if poison is not None:
        index, value = poison
        x[index] = value
    state_shape = [num_layers * dirs] + ([] if unbatched else [batch])
    h0 = torch.randn(*state_shape, out_size) if state else None
    c0 = torch.randn(*state_shape, hidden) if state and kind == "LSTM" else None
    with torch.no_grad():
        hx = None if not state else ((h0, c0) if kind == "LSTM" else h0)
        if lengths is None:
            y, hn = m(x, hx)
        else:
            packed = pack_padded_sequence(x, torch.tensor(lengths), batch_first=batch_first, enforce_sorted=False)
            yp, hn = m(packed, hx)
            y, _ = pad_packed_sequence(yp, batch_first=batch_first, total_length=length)
    spec = (f"{kind} input_size={input_size} hidden_size={hidden} num_layers={num_layers} bias={int(bias)} "
            f"batch_first={int(batch_first)} bidirectional={int(bidirectional)} proj_size={proj_size}")
    tensors = {"param:" + k: v for k, v in m.state_dict().items()}
    tensors["input"] = x
    tensors["output"] = y
    if h0 is not None:
        tensors["h0"] = h0
    if c0 is not None:
        tensors["c0"] = c0
    if lengths is not None:
        tensors["lengths"] = torch.tensor(lengths, dtype=torch.float32)
    tensors["h_n"] = hn[0] if kind == "LSTM" else hn
    if kind == "LSTM":
        tensors["c_n"] = hn[1]
    return (name, spec, tensors), m


def cell_case(name, seed, kind, input_size, hidden, bias=True, batch=3, state=True, unbatched=False, poison=None):
    torch.manual_seed(seed)
    m = getattr(nn, kind)(input_size, hidden, bias=bias).eval()
    widen_biases(m)
    lead = [] if unbatched else [batch]
    x = torch.randn(*lead, input_size)
    if poison is not None:
        x[poison[0]] = poison[1]
    h = torch.randn(*lead, hidden) if state else None
    c = torch.randn(*lead, hidden) if state and kind == "LSTMCell" else None
    with torch.no_grad():
        if kind == "LSTMCell":
            h1, c1 = m(x, None if not state else (h, c))
        else:
            h1 = m(x, h)
    tensors = {"param:" + k: v for k, v in m.state_dict().items()}
    tensors["input"] = x
    tensors["output"] = h1
    if h is not None:
        tensors["h0"] = h
    if c is not None:
        tensors["c0"] = c
    if kind == "LSTMCell":
        tensors["c_n"] = c1
    return name, f"{kind} input_size={input_size} hidden_size={hidden} bias={int(bias)}", tensors


def main():
    cases = []
    state_dict_module = None
    for kind, seed in (("LSTM", 100), ("GRU", 200)):
        k = kind.lower()
        cases.append(sequence_case(f"{k}_basic", seed + 1, kind, 5, 7)[0])
        case, m = sequence_case(f"{k}_2l_bi_proj_bf" if kind == "LSTM" else f"{k}_2l_bi_bf", seed + 2, kind, 6, 8,
                                num_layers=2, batch_first=True, bidirectional=True, proj_size=3 if kind == "LSTM" else 0,
                                length=5, batch=2, state=True)
        cases.append(case)
        if kind == "LSTM":
            state_dict_module = m
        cases.append(sequence_case(f"{k}_seq1_batch1", seed + 3, kind, 4, 6, length=1, batch=1, state=True)[0])
        cases.append(sequence_case(f"{k}_nobias_2l", seed + 4, kind, 3, 5, num_layers=2, bias=False, length=3, batch=2)[0])
        cases.append(sequence_case(f"{k}_lengths_bi", seed + 5, kind, 4, 5, bidirectional=True, length=5, batch=4,
                                   state=True, lengths=[5, 3, 5, 1])[0])
        cases.append(sequence_case(f"{k}_lengths_2l_bi_bf", seed + 6, kind, 3, 4, num_layers=2, batch_first=True,
                                   bidirectional=True, proj_size=2 if kind == "LSTM" else 0, length=6, batch=3,
                                   lengths=[2, 6, 4])[0])
        cases.append(sequence_case(f"{k}_3l_state", seed + 7, kind, 4, 3, num_layers=3, length=3, batch=2, state=True)[0])
        cases.append(sequence_case(f"{k}_unbatched", seed + 8, kind, 3, 4, bidirectional=True, length=3, state=True,
                                   unbatched=True)[0])
        cases.append(sequence_case(f"{k}_large_inputs", seed + 9, kind, 4, 5, length=4, batch=2, scale=40.0)[0])
        cases.append(sequence_case(f"{k}_nan", seed + 10, kind, 3, 4, bidirectional=True, length=4, batch=3,
                                   poison=((2, 1, 0), float("nan")))[0])
        cases.append(sequence_case(f"{k}_inf", seed + 11, kind, 3, 4, length=3, batch=2,
                                   poison=((1, 0, 2), float("inf")))[0])
        cases.append(sequence_case(f"{k}_wide_2l_bi_lengths", seed + 13, kind, 32, 64, num_layers=2, bidirectional=True,
                                   proj_size=24 if kind == "LSTM" else 0, length=20, batch=5, state=True,
                                   lengths=[20, 17, 3, 20, 9])[0])
        if kind == "LSTM":
            cases.append(sequence_case("lstm_proj_state", seed + 12, kind, 5, 6, proj_size=4, length=3, batch=2,
                                       state=True)[0])
    for kind, seed in (("LSTMCell", 300), ("GRUCell", 400)):
        k = kind.lower()
        cases.append(cell_case(f"{k}_state", seed + 1, kind, 5, 7))
        cases.append(cell_case(f"{k}_no_state", seed + 2, kind, 4, 3, state=False))
        cases.append(cell_case(f"{k}_batch1_nobias", seed + 3, kind, 3, 5, bias=False, batch=1))
        cases.append(cell_case(f"{k}_unbatched", seed + 4, kind, 4, 6, unbatched=True))
        cases.append(cell_case(f"{k}_nan", seed + 5, kind, 3, 4, batch=3, poison=((1, 2), float("nan"))))
    write_goldens(os.path.join(DIR, "rnn.safetensors"), cases)
    write_safetensors(os.path.join(DIR, "rnn_state_dict.safetensors"), state_dict_module.state_dict())
    print("wrote", len(cases), "cases")


if __name__ == "__main__":
    main()
