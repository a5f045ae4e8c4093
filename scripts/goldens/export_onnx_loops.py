#!/usr/bin/python3
"""ONNX Loop and Scan as torch.jit.script exports write them and as the spec defines them, each case with its expected
outputs from an independent source, in the layout of ONNX's backend test suite (model.onnx, test_data_set_k/input_j.pb,
output_j.pb).

Run with Debian's /usr/bin/python3 (python3-torch 1.13, python3-onnx):
    /usr/bin/python3 scripts/goldens/export_onnx_loops.py OUT_DIR
Writes into OUT_DIR (produced at test time into a cache by onnx/ OnnxLoopsTest, never committed):
  torch_*/   torch.onnx.export of torch.jit.script modules whose Python loops the exporter keeps as ONNX Loops: a
             recurrent cell over the time steps (trip count from Shape; the sequence length fixed with a dynamic batch,
             and dynamic too), steps collected in a list and stacked (opset 17: a sequence carried through the Loop with
             SequenceInsert; opset 11: the Loop's scan output split back into a sequence), a while loop whose condition
             the body computes from the iteration number. Expected outputs: PyTorch's.
  spec_*/    models built with onnx.helper: Scan (opset 9 and 11) with two states and two scan inputs, one read in
             reverse and one along axis 1, scan outputs stacked along axis 0 and (reversed) along axis 1; a Loop with a
             trip count input and a condition input, carried state and a scan output; a Loop with a trip count of 0 (its scan
             output empty).
             Expected outputs: NumPy, step by step.
  DONE       written last.
Seeds: torch.manual_seed(SEED), numpy.random.default_rng(SEED).
"""
import os
import sys

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import backend_cases  # noqa: E402

SEED = 20261207


class Recurrent(nn.Module):
    """An Elman cell over the steps of x [T, N, 4], written as a Python loop."""

    def __init__(self):
        super().__init__()
        self.i2h, self.h2h = nn.Linear(4, 5), nn.Linear(5, 5)

    def forward(self, x):
        h = torch.zeros(x.size(1), 5)
        for t in range(x.size(0)):
            h = torch.tanh(self.i2h(x[t]) + self.h2h(h))
        return h


class Collect(nn.Module):
    """Each step of x [N, T, 3] transformed and the results stacked: a list built in the loop."""

    def forward(self, x):
        outs = []
        for t in range(x.size(1)):
            outs.append(x[:, t] * 2 + float(t))
        return torch.stack(outs, 1)


class Halving(nn.Module):
    """A while loop: x halved until the iteration number reaches 3 (the condition computed in the body)."""

    def forward(self, x):
        i = 0
        y = x
        while i < 3:
            y = y * 0.5 + 1.0
            i += 1
        return y


def export_torch(out, name, module, shapes, opset, dynamic):
    g = torch.Generator().manual_seed(SEED + len(name) + opset)
    xs = [torch.randn(s, generator=g) for s in shapes]
    backend_cases.export_torch(torch, os.path.join(out, "torch_%s_op%d" % (name, opset)), module, xs, opset, dynamic, "Loop", script=True)


def f32(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def save_spec(out, name, graph, opset, feeds, expected):
    backend_cases.save_case(os.path.join(out, "spec_" + name), backend_cases.spec_model(graph, opset, "export_onnx_loops.py"), feeds, expected)


def spec_scan(out, rng, opset):
    # states: s [2] (sum), p [2] (running max); scans: a [4, 2] forward along axis 0, b [2, 4] reversed along axis 1
    body = helper.make_graph([
        helper.make_node("Add", ["s_in", "a_t"], ["s1"]),
        helper.make_node("Mul", ["s1", "b_t"], ["s_out"]),
        helper.make_node("Max", ["p_in", "s_out"], ["p_out"]),
        helper.make_node("Sub", ["a_t", "b_t"], ["d_t"]),
        helper.make_node("Identity", ["s_out"], ["s_t"]),
    ], "scan_body", [f32("s_in", [2]), f32("p_in", [2]), f32("a_t", [2]), f32("b_t", [2])],
        [f32("s_out", [2]), f32("p_out", [2]), f32("s_t", [2]), f32("d_t", [2])])
    attrs = dict(body=body, num_scan_inputs=2, scan_input_axes=[0, 1], scan_input_directions=[0, 1])
    if opset >= 11:
        attrs.update(scan_output_axes=[0, -1], scan_output_directions=[0, 1])
    else:
        attrs.update(scan_output_axes=[0, 1], scan_output_directions=[0, 1])
    graph = helper.make_graph([helper.make_node("Scan", ["s0", "p0", "a", "b"], ["s", "p", "ss", "dd"], **attrs)], "scan",
                              [f32("s0", [2]), f32("p0", [2]), f32("a", [4, 2]), f32("b", [2, 4])],
                              [f32("s", [2]), f32("p", [2]), f32("ss", [4, 2]), f32("dd", [2, 4])])
    s0, p0 = rng.standard_normal(2).astype(np.float32), np.full(2, -5, np.float32)
    a, b = rng.standard_normal((4, 2)).astype(np.float32), rng.standard_normal((2, 4)).astype(np.float32)
    s, p, ss, dd = s0.copy(), p0.copy(), [], []
    for t in range(4):
        a_t, b_t = a[t], b[:, 3 - t]
        s = ((s + a_t) * b_t).astype(np.float32)
        p = np.maximum(p, s)
        ss.append(s)
        dd.append((a_t - b_t).astype(np.float32))
    dd = np.stack(dd[::-1], 1)
    save_spec(out, "scan_opset%d" % opset, graph, opset, [[("s0", s0), ("p0", p0), ("a", a), ("b", b)]],
              [[("s", s), ("p", p), ("ss", np.stack(ss, 0)), ("dd", dd)]])


def spec_loop(out, rng):
    # y [3] carried: y = y * x + i; scan output y each step; trip count and condition given as inputs
    body = helper.make_graph([
        helper.make_node("Cast", ["i"], ["fi"], to=TensorProto.FLOAT),
        helper.make_node("Mul", ["y_in", "x"], ["yx"]),
        helper.make_node("Add", ["yx", "fi"], ["y_out"]),
        helper.make_node("Identity", ["cond_in"], ["cond_out"]),
        helper.make_node("Identity", ["y_out"], ["y_t"]),
    ], "loop_body", [helper.make_tensor_value_info("i", TensorProto.INT64, []), helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
                     f32("y_in", [3])], [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []), f32("y_out", [3]), f32("y_t", [3])])
    graph = helper.make_graph([helper.make_node("Loop", ["m", "c", "y0"], ["y", "ys"], body=body)], "loop",
                              [helper.make_tensor_value_info("m", TensorProto.INT64, []), helper.make_tensor_value_info("c", TensorProto.BOOL, []),
                               f32("y0", [3]), f32("x", [3])], [f32("y", [3]), f32("ys", ["steps", 3])])
    y0, x = rng.standard_normal(3).astype(np.float32), rng.standard_normal(3).astype(np.float32)
    feeds, expected = [], []
    for m in (4, 1):
        y, ys = y0.copy(), []
        for i in range(m):
            y = (y * x + np.float32(i)).astype(np.float32)
            ys.append(y)
        feeds.append([("m", np.array(m, np.int64)), ("c", np.array(True)), ("y0", y0), ("x", x)])
        expected.append([("y", y), ("ys", np.stack(ys, 0))])
    save_spec(out, "loop_trip_count_input", graph, 13, feeds, expected)

    # a trip count of 0: the carried value comes out as it went in, the scan output empty ([0, 2], the body's slice [2])
    body0 = helper.make_graph([helper.make_node("Identity", ["cond_in"], ["cond_out"]), helper.make_node("Neg", ["v_in"], ["v_out"]),
                               helper.make_node("Abs", ["v_out"], ["v_t"])],
                              "body0", [helper.make_tensor_value_info("i", TensorProto.INT64, []),
                                        helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []), f32("v_in", [2])],
                              [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []), f32("v_out", [2]), f32("v_t", [2])])
    zero = helper.make_node("Constant", [], ["zero"], value=numpy_helper.from_array(np.array(0, np.int64), "zero_v"))
    graph0 = helper.make_graph([zero, helper.make_node("Loop", ["zero", "", "v"], ["w", "ws"], body=body0)], "loop0", [f32("v", [2])],
                               [f32("w", [2]), f32("ws", [0, 2])])
    v = rng.standard_normal(2).astype(np.float32)
    save_spec(out, "loop_zero_trips", graph0, 13, [[("v", v)]], [[("w", v), ("ws", np.zeros((0, 2), np.float32))]])


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: export_onnx_loops.py OUT_DIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(SEED)
    rec = Recurrent().eval()
    for opset in (11, 17):
        export_torch(out, "recurrent", rec, [(6, 2, 4), (6, 3, 4)], opset, {1: "N"})
        export_torch(out, "collect", Collect().eval(), [(2, 5, 3), (4, 5, 3)], opset, {0: "N"})
    export_torch(out, "recurrent_dynamic_length", rec, [(6, 2, 4), (3, 1, 4)], 13, {0: "T", 1: "N"})
    export_torch(out, "while", Halving().eval(), [(2, 3), (1, 3)], 13, {0: "N"})
    rng = np.random.default_rng(SEED)
    spec_scan(out, rng, 9)
    spec_scan(out, rng, 11)
    spec_loop(out, rng)
    with open(os.path.join(out, "DONE"), "w") as f:
        f.write("torch %s, onnx %s\n" % (torch.__version__, onnx.__version__))


if __name__ == "__main__":
    main()
