#!/usr/bin/python3
"""ONNX LSTM/GRU graphs with PyTorch's outputs, for the graph ops LSTM and GRU (shape rules and
compiled plans). Writes java-api/src/test/resources/graphs/onnx_rnn.txt in the format of
generate_onnx_graphs.py (model/input/init/node/output/shape/data lines, read by OnnxTextGraphs):

  * exported: nn.LSTM / nn.GRU (sequence-first, with initial states) through torch.onnx.export
    (opset 14, constants folded so W, R, B are initializers in ONNX's layout and gate order, as
    torch writes them), symbolic batch N on dim 1; data at batches 1 and 3 from the module itself.
  * hand-built: one LSTM or GRU node (onnx.helper) per case over W, R, B taken from a torch
    export of a (bidirectional) module, covering direction forward/reverse/bidirectional, layout
    0/1, initial states as inputs, all outputs; Y, Y_h, Y_c are PyTorch's own results rearranged
    into ONNX's layout (Y [T, D, N, H] from PyTorch's [T, N, D*H]; the reverse direction is the
    backward half of a bidirectional module).
  * GRU with linear_before_reset = 0 and LSTM with peepholes (torch has no such modules): the operator's
    definition written with torch ops in double (onnx_gru_lbr0, onnx_lstm_peephole), on W, R, B from a torch export.
  * constant sequence_lens (fixed batch): PyTorch's pack_padded_sequence on the same weights.
  * shapes: every value's shape from ONNX's own shape inference (onnx.shape_inference).

Run with Debian's /usr/bin/python3 (torch 1.13, onnx 1.12):
    /usr/bin/python3 scripts/goldens/generate_rnn_onnx.py
"""
import io
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
from onnx import helper, numpy_helper, shape_inference, TensorProto

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from generate_onnx_graphs import attr_text, dims_text, np_dtype, shape_of, values_text  # noqa: E402

OPSET = 14
OUT = os.path.join(os.path.dirname(__file__), "..", "..", "java-api", "src", "test", "resources", "graphs", "onnx_rnn.txt")


def widen_biases(m):
    with torch.no_grad():
        for name, p in m.named_parameters():
            if name.startswith("bias"):
                p.uniform_(-0.5, 0.5)


def write_model(name, m, data, lines):
    """m: an onnx ModelProto; data: [(batch, {input: array}, {output: array})]."""
    inferred = shape_inference.infer_shapes(m, data_prop=True)
    g = m.graph
    lines.append("model " + name)
    inits = {i.name for i in g.initializer}
    for i in g.input:
        if i.name in inits:
            continue
        dt, dims = shape_of(i)
        lines.append("input %s %s %s" % (i.name, dt, dims_text(dims)))
    for i in g.initializer:
        arr = numpy_helper.to_array(i)
        lines.append("init %s %s %s %s" % (i.name, np_dtype(arr), dims_text(arr.shape), values_text(arr)))
    for k, n in enumerate(g.node):
        ins = ",".join(x if x else "~" for x in n.input) or "-"
        attrs = ";".join(attr_text(a) for a in n.attribute) or "-"
        lines.append("node %s %s %s %s %s" % (n.name or "n%d" % k, n.op_type, ins, ",".join(n.output), attrs))
    for o in g.output:
        lines.append("output " + o.name)
    for vi in list(inferred.graph.value_info) + list(inferred.graph.output):
        s = shape_of(vi)
        if s is not None and s[0] is not None:
            lines.append("shape %s %s %s" % (vi.name, s[0], dims_text(s[1])))
    for b, ins, outs in data:
        for k, a in ins.items():
            lines.append("data %d in %s %s %s %s" % (b, k, np_dtype(a), dims_text(a.shape), values_text(a)))
        for k, a in outs.items():
            lines.append("data %d out %s %s %s %s" % (b, k, np_dtype(a), dims_text(a.shape), values_text(a)))
    lines.append("end")


def export(module, args, input_names, output_names, dynamic):
    f = io.BytesIO()
    torch.onnx.export(module, args, f, opset_version=OPSET, input_names=input_names, output_names=output_names,
                      dynamic_axes=dynamic, do_constant_folding=True)
    return onnx.load_from_string(f.getvalue())


def exported_case(name, kind, seed, input_size, hidden, layers, lines, T=4):
    torch.manual_seed(seed)
    m = getattr(nn, kind)(input_size, hidden, num_layers=layers).eval()
    widen_biases(m)
    L = layers
    lstm = kind == "LSTM"

    def inputs(b):
        x = torch.randn(T, b, input_size)
        h0 = torch.randn(L, b, hidden)
        c0 = torch.randn(L, b, hidden)
        return (x, h0, c0) if lstm else (x, h0)

    names_in = ["x", "h0", "c0"] if lstm else ["x", "h0"]
    names_out = ["y", "hn", "cn"] if lstm else ["y", "hn"]
    dyn = {"x": {1: "N"}, "h0": {1: "N"}, "c0": {1: "N"}, "y": {1: "N"}, "hn": {1: "N"}, "cn": {1: "N"}}
    dyn = {k: v for k, v in dyn.items() if k in names_in + names_out}
    xs = inputs(2)

    class Wrap(nn.Module):
        def __init__(self):
            super().__init__()
            self.m = m

        def forward(self, x, h0, c0=None):
            if lstm:
                y, (h, c) = self.m(x, (h0, c0))
                return y, h, c
            y, h = self.m(x, h0)
            return y, h

    w = Wrap().eval()
    model = export(w, xs, names_in, names_out, dyn)
    data = []
    for b in (1, 3):
        args = inputs(b)
        with torch.no_grad():
            outs = w(*args)
        data.append((b, {k: a.numpy() for k, a in zip(names_in, args)}, {k: o.numpy() for k, o in zip(names_out, outs)}))
    write_model(name, model, data, lines)


def onnx_weights(kind, module, input_size):
    """W, R, B of a one-layer (bidirectional) module as torch.onnx writes them."""
    x = torch.randn(2, 1, input_size)
    model = export(module, (x,), ["x"], ["y"], None)
    lstm_node = [n for n in model.graph.node if n.op_type == kind][0]
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    return [inits[lstm_node.input[i]] for i in range(1, 4)]


def node_case(name, kind, seed, input_size, hidden, direction, layout, lines, T=5, with_state=True, outputs=3, lbr=1):
    torch.manual_seed(seed)
    lstm = kind == "LSTM"
    m = getattr(nn, kind)(input_size, hidden, bidirectional=True).eval()
    widen_biases(m)
    W, R, B = onnx_weights(kind, m, input_size)
    D = 2 if direction == "bidirectional" else 1
    pick = {"forward": [0], "reverse": [1], "bidirectional": [0, 1]}[direction]
    W, R, B = W[pick], R[pick], B[pick]
    outputs = min(outputs, 3 if lstm else 2)
    out_names = ["Y", "Y_h", "Y_c"][:outputs]
    ins = ["X", "W", "R", "B", "", "h0", "c0"] if lstm else ["X", "W", "R", "B", "", "h0"]
    if not with_state:
        ins = ins[:4]
    attrs = dict(hidden_size=hidden, direction=direction, layout=layout)
    if not lstm:
        attrs["linear_before_reset"] = lbr
    node = helper.make_node(kind, ins, out_names, name=name, **attrs)
    N = "N"
    x_shape = [T, N, input_size] if layout == 0 else [N, T, input_size]
    s_shape = [D, N, hidden] if layout == 0 else [N, D, hidden]
    graph_inputs = [helper.make_tensor_value_info("X", TensorProto.FLOAT, x_shape)]
    if with_state:
        graph_inputs.append(helper.make_tensor_value_info("h0", TensorProto.FLOAT, s_shape))
        if lstm:
            graph_inputs.append(helper.make_tensor_value_info("c0", TensorProto.FLOAT, s_shape))
    inits = [numpy_helper.from_array(a, n) for a, n in ((W, "W"), (R, "R"), (B, "B"))]
    graph_outputs = [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in out_names]
    g = helper.make_graph([node], name, graph_inputs, graph_outputs, inits)
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", OPSET)])
    data = []
    for b in (1, 3):
        x = torch.randn(T, b, input_size)
        h0 = torch.randn(2, b, hidden) if with_state else torch.zeros(2, b, hidden)
        c0 = torch.randn(2, b, hidden) if with_state else torch.zeros(2, b, hidden)
        with torch.no_grad():
            y, st = m(x, (h0, c0)) if lstm else m(x, h0)
        h, c = st if lstm else (st, None)
        y = y.view(T, b, 2, hidden).permute(0, 2, 1, 3)[:, pick]         # [T, D, N, H]
        h = h[pick]                                                       # [D, N, H]
        c = c[pick] if lstm else None
        h0p, c0p = h0[pick], c0[pick]
        xin = x if layout == 0 else x.transpose(0, 1)
        if layout == 1:
            y, h = y.permute(2, 0, 1, 3), h.transpose(0, 1)
            c = c.transpose(0, 1) if lstm else None
            h0p, c0p = h0p.transpose(0, 1), c0p.transpose(0, 1)
        din = {"X": xin.contiguous().numpy()}
        if with_state:
            din["h0"] = h0p.contiguous().numpy()
            if lstm:
                din["c0"] = c0p.contiguous().numpy()
        douts = dict(zip(out_names, [t.contiguous().numpy() for t in (y, h, c)[:outputs]]))
        data.append((b, din, douts))
    write_model(name, model, data, lines)


def onnx_gru_lbr0(x, W, R, B, h0, reverse):
    """ONNX's GRU with linear_before_reset = 0 (no torch module computes it), written with torch ops from the
    operator's definition: z, r, h~ = sigmoid, sigmoid, tanh; h~ = tanh(x Wh^T + (r * h) Rh^T + Rbh + Wbh);
    h' = (1 - z) * h~ + z * h. x [T, N, I], W [3H, I], R [3H, H], B [6H] in ONNX's gate order z, r, h."""
    H = R.shape[1]
    W, R, B = torch.from_numpy(W).double(), torch.from_numpy(R).double(), torch.from_numpy(B).double()
    Wz, Wr, Wh = W[:H], W[H:2 * H], W[2 * H:]
    Rz, Rr, Rh = R[:H], R[H:2 * H], R[2 * H:]
    wb, rb = B[:3 * H], B[3 * H:]
    h = h0.double()
    ys = []
    steps = range(x.shape[0] - 1, -1, -1) if reverse else range(x.shape[0])
    for t in steps:
        xt = x[t].double()
        z = torch.sigmoid(xt @ Wz.T + h @ Rz.T + wb[:H] + rb[:H])
        r = torch.sigmoid(xt @ Wr.T + h @ Rr.T + wb[H:2 * H] + rb[H:2 * H])
        c = torch.tanh(xt @ Wh.T + (r * h) @ Rh.T + rb[2 * H:] + wb[2 * H:])
        h = (1 - z) * c + z * h
        ys.append(h)
    if reverse:
        ys.reverse()
    return torch.stack(ys).float(), h.float()


def lbr0_case(name, seed, input_size, hidden, direction, lines, T=5):
    torch.manual_seed(seed)
    m = nn.GRU(input_size, hidden, bidirectional=True).eval()
    widen_biases(m)
    W, R, B = onnx_weights("GRU", m, input_size)
    pick = {"forward": [0], "reverse": [1], "bidirectional": [0, 1]}[direction]
    W, R, B = W[pick], R[pick], B[pick]
    D = len(pick)
    node = helper.make_node("GRU", ["X", "W", "R", "B", "", "h0"], ["Y", "Y_h"], name=name, hidden_size=hidden, direction=direction,
                            linear_before_reset=0)
    g = helper.make_graph([node], name, [helper.make_tensor_value_info("X", TensorProto.FLOAT, [T, "N", input_size]),
                                         helper.make_tensor_value_info("h0", TensorProto.FLOAT, [D, "N", hidden])],
                          [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in ("Y", "Y_h")],
                          [numpy_helper.from_array(a, n) for a, n in ((W, "W"), (R, "R"), (B, "B"))])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", OPSET)])
    data = []
    for b in (1, 3):
        x = torch.randn(T, b, input_size)
        h0 = torch.randn(D, b, hidden)
        ys, hs = [], []
        for d in range(D):
            reverse = direction == "reverse" or d == 1
            y, h = onnx_gru_lbr0(x, W[d], R[d], B[d], h0[d], reverse)
            ys.append(y)
            hs.append(h)
        data.append((b, {"X": x.numpy(), "h0": h0.numpy()}, {"Y": torch.stack(ys, 1).numpy(), "Y_h": torch.stack(hs).numpy()}))
    write_model(name, model, data, lines)


def lengths_case(name, kind, seed, input_size, hidden, direction, layout, lengths, lines, T=5):
    """A node with constant sequence_lens (fixed batch): PyTorch's pack_padded_sequence -> module ->
    pad_packed_sequence(total_length=T) on the same weights (Y past a sequence's end 0, Y_h/Y_c the state
    at its last step; the reverse direction starts at each sequence's own end)."""
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
    torch.manual_seed(seed)
    lstm = kind == "LSTM"
    m = getattr(nn, kind)(input_size, hidden, bidirectional=True).eval()
    widen_biases(m)
    W, R, B = onnx_weights(kind, m, input_size)
    pick = {"forward": [0], "reverse": [1], "bidirectional": [0, 1]}[direction]
    W, R, B = W[pick], R[pick], B[pick]
    N, D = len(lengths), len(pick)
    ins = ["X", "W", "R", "B", "lens", "h0", "c0"] if lstm else ["X", "W", "R", "B", "lens", "h0"]
    outs = ["Y", "Y_h", "Y_c"] if lstm else ["Y", "Y_h"]
    attrs = dict(hidden_size=hidden, direction=direction, layout=layout)
    if not lstm:
        attrs["linear_before_reset"] = 1
    node = helper.make_node(kind, ins, outs, name=name, **attrs)
    x_shape = [T, N, input_size] if layout == 0 else [N, T, input_size]
    s_shape = [D, N, hidden] if layout == 0 else [N, D, hidden]
    gin = [helper.make_tensor_value_info("X", TensorProto.FLOAT, x_shape), helper.make_tensor_value_info("h0", TensorProto.FLOAT, s_shape)]
    if lstm:
        gin.append(helper.make_tensor_value_info("c0", TensorProto.FLOAT, s_shape))
    inits = [numpy_helper.from_array(a, n) for a, n in ((W, "W"), (R, "R"), (B, "B"))]
    inits.append(numpy_helper.from_array(np.array(lengths, dtype=np.int32), "lens"))
    g = helper.make_graph([node], name, gin, [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outs], inits)
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", OPSET)])
    x = torch.randn(T, N, input_size)
    h0, c0 = torch.randn(2, N, hidden), torch.randn(2, N, hidden)
    with torch.no_grad():
        packed = pack_padded_sequence(x, torch.tensor(lengths), enforce_sorted=False)
        y, st = m(packed, (h0, c0)) if lstm else m(packed, h0)
        y, _ = pad_packed_sequence(y, total_length=T)
    h, c = st if lstm else (st, None)
    y = y.view(T, N, 2, hidden).permute(0, 2, 1, 3)[:, pick]
    h, h0p, c0p = h[pick], h0[pick], c0[pick]
    c = c[pick] if lstm else None
    xin = x
    if layout == 1:
        xin, y, h, h0p, c0p = x.transpose(0, 1), y.permute(2, 0, 1, 3), h.transpose(0, 1), h0p.transpose(0, 1), c0p.transpose(0, 1)
        c = c.transpose(0, 1) if lstm else None
    din = {"X": xin.contiguous().numpy(), "h0": h0p.contiguous().numpy()}
    if lstm:
        din["c0"] = c0p.contiguous().numpy()
    dout = dict(zip(outs, [t.contiguous().numpy() for t in (y, h, c)[:len(outs)]]))
    write_model(name, model, [(N, din, dout)], lines)


def onnx_lstm_peephole(x, W, R, B, P, h0, c0, reverse):
    """ONNX's LSTM with peepholes (torch has none), written with torch ops in double from the operator's definition:
    i = sigmoid(x Wi^T + h Ri^T + Pi * c + Wbi + Rbi), f = sigmoid(x Wf^T + h Rf^T + Pf * c + Wbf + Rbf),
    c~ = tanh(x Wc^T + h Rc^T + Wbc + Rbc), c' = f * c + i * c~, o = sigmoid(x Wo^T + h Ro^T + Po * c' + Wbo + Rbo),
    h' = o * tanh(c'). W [4H, I], R [4H, H], B [8H] in ONNX's gate order i, o, f, c; P [3H] in the order i, o, f."""
    H = R.shape[1]
    W, R, B, P = (torch.from_numpy(a).double() for a in (W, R, B, P))
    gate = lambda m, k: m[k * H:(k + 1) * H]
    wb, rb = B[:4 * H], B[4 * H:]
    pi, po, pf = gate(P, 0), gate(P, 1), gate(P, 2)
    h, c = h0.double(), c0.double()
    ys = []
    steps = range(x.shape[0] - 1, -1, -1) if reverse else range(x.shape[0])
    for t in steps:
        xt = x[t].double()
        pre = lambda k: xt @ gate(W, k).T + h @ gate(R, k).T + gate(wb, k) + gate(rb, k)
        i = torch.sigmoid(pre(0) + pi * c)
        f = torch.sigmoid(pre(2) + pf * c)
        c = f * c + i * torch.tanh(pre(3))
        o = torch.sigmoid(pre(1) + po * c)
        h = o * torch.tanh(c)
        ys.append(h)
    if reverse:
        ys.reverse()
    return torch.stack(ys).float(), h.float(), c.float()


def peephole_case(name, seed, input_size, hidden, direction, lines, T=5):
    """One LSTM node with peepholes P (distinct values per gate, so the gate order matters) over W, R, B from a torch export."""
    torch.manual_seed(seed)
    m = nn.LSTM(input_size, hidden, bidirectional=True).eval()
    widen_biases(m)
    W, R, B = onnx_weights("LSTM", m, input_size)
    pick = {"forward": [0], "reverse": [1], "bidirectional": [0, 1]}[direction]
    W, R, B = W[pick], R[pick], B[pick]
    D = len(pick)
    P = (torch.rand(D, 3 * hidden) * 2 - 1).numpy()
    node = helper.make_node("LSTM", ["X", "W", "R", "B", "", "h0", "c0", "P"], ["Y", "Y_h", "Y_c"], name=name, hidden_size=hidden,
                            direction=direction)
    g = helper.make_graph([node], name, [helper.make_tensor_value_info("X", TensorProto.FLOAT, [T, "N", input_size]),
                                         helper.make_tensor_value_info("h0", TensorProto.FLOAT, [D, "N", hidden]),
                                         helper.make_tensor_value_info("c0", TensorProto.FLOAT, [D, "N", hidden])],
                          [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in ("Y", "Y_h", "Y_c")],
                          [numpy_helper.from_array(a, n) for a, n in ((W, "W"), (R, "R"), (B, "B"), (P, "P"))])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", OPSET)])
    data = []
    for b in (1, 3):
        x = torch.randn(T, b, input_size)
        h0, c0 = torch.randn(D, b, hidden), torch.randn(D, b, hidden)
        ys, hs, cs = [], [], []
        for d in range(D):
            y, h, c = onnx_lstm_peephole(x, W[d], R[d], B[d], P[d], h0[d], c0[d], direction == "reverse" or d == 1)
            ys.append(y)
            hs.append(h)
            cs.append(c)
        data.append((b, {"X": x.numpy(), "h0": h0.numpy(), "c0": c0.numpy()},
                     {"Y": torch.stack(ys, 1).numpy(), "Y_h": torch.stack(hs).numpy(), "Y_c": torch.stack(cs).numpy()}))
    write_model(name, model, data, lines)


def main():
    torch.set_num_threads(1)
    lines = ["# generated by scripts/goldens/generate_rnn_onnx.py (torch %s, onnx %s, opset %d)" % (torch.__version__, onnx.__version__, OPSET)]
    exported_case("exported_lstm_2l", "LSTM", 101, 3, 5, 2, lines)
    exported_case("exported_gru_1l", "GRU", 102, 4, 6, 1, lines)
    for kind in ("LSTM", "GRU"):
        k = kind.lower()
        node_case(k + "_forward_l0", kind, 201, 3, 4, "forward", 0, lines)
        node_case(k + "_reverse_l0", kind, 202, 3, 4, "reverse", 0, lines)
        node_case(k + "_bidir_l0", kind, 203, 4, 3, "bidirectional", 0, lines)
        node_case(k + "_bidir_l1", kind, 204, 4, 3, "bidirectional", 1, lines)
        node_case(k + "_forward_l1_nostate", kind, 205, 2, 5, "forward", 1, lines, with_state=False, outputs=1)
    lbr0_case("gru_lbr0_forward", 301, 3, 4, "forward", lines)
    lbr0_case("gru_lbr0_bidir", 302, 4, 3, "bidirectional", lines)
    peephole_case("lstm_peephole_bidir", 303, 3, 4, "bidirectional", lines)
    lengths_case("lstm_lengths_bidir_l0", "LSTM", 401, 3, 4, "bidirectional", 0, [5, 2, 5, 3], lines)
    lengths_case("gru_lengths_bidir_l1", "GRU", 402, 3, 4, "bidirectional", 1, [1, 4, 4], lines)
    lengths_case("lstm_lengths_reverse_l1", "LSTM", 403, 2, 3, "reverse", 1, [3, 5], lines)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote", OUT, len(lines), "lines")


if __name__ == "__main__":
    main()
