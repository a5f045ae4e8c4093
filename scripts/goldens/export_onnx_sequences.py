#!/usr/bin/python3
"""ONNX sequence ops as exporters write them and as the spec defines them, each case with its expected outputs from an
independent source, in the layout of ONNX's backend test suite (model.onnx, test_data_set_k/input_j.pb, output_j.pb).

Run with Debian's /usr/bin/python3 (python3-torch 1.13, python3-onnx):
    /usr/bin/python3 scripts/goldens/export_onnx_sequences.py OUT_DIR
Writes into OUT_DIR (produced at test time into a cache by onnx/ OnnxSequencesTest, never committed):
  torch_*/        torch.onnx.export of modules using a torch.chunk that gives fewer pieces than asked (torch 1.13 writes
                  SplitToSequence with sizes computed from Shape, then one SequenceAt per piece it traced): the pieces
                  concatenated, stacked, returned as three outputs, read by negative index; opsets 11, 13 and 17; a
                  dynamic batch (data sets at two batch sizes), and one with the chunked dim dynamic too (data sets at
                  lengths 4 and 2, both of two pieces). Expected outputs: PyTorch's.
  spec_*/         models built with onnx.helper exercising what torch does not write: SplitToSequence by a scalar size
                  (the last piece smaller), without a split (keepdims 0), with a piece of size 0 (read: an empty
                  output); SequenceEmpty/Construct/Insert/Erase/At with negative positions; SequenceLength;
                  ConcatFromSequence with and without new_axis; INT64 tensors; Identity of a sequence; a position fed
                  as an int64 graph input. Expected outputs: NumPy slicing and concatenation of the inputs.
  refused_chunk.onnx   torch.chunk(x, 4, 1) of a dim of 5 (3 pieces): torch 1.13 writes the split [2, 2, 2, -1], which the
                  spec forbids (sizes >= 0) and ONNX Runtime refuses at run time; the import refuses it naming the sizes.
  DONE            written last.
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


class ChunkCat(nn.Module):
    def forward(self, x):
        return torch.cat(torch.chunk(x, 3, 1), 2)


class ChunkPieces(nn.Module):
    def forward(self, x):
        return tuple(p * 2 for p in torch.chunk(x, 4, 1))


class ChunkStack(nn.Module):
    def forward(self, x):
        return torch.stack(torch.chunk(x, 3, 1)[:2], 1)


class ChunkLast(nn.Module):
    def forward(self, x):
        ps = torch.chunk(x, 3, 1)
        return ps[-1] * 3 + ps[0].sum(1, keepdim=True), len(ps) * x


def export_torch(out, name, module, shapes, opset, dynamic):
    """shapes: one input shape per data set (the first traced)."""
    g = torch.Generator().manual_seed(SEED + len(name) + opset)
    xs = [torch.randn(s, generator=g) for s in shapes]
    backend_cases.export_torch(torch, os.path.join(out, "torch_%s_op%d" % (name, opset)), module, xs, opset, dynamic, "SplitToSequence")


def f32(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def i64(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.INT64, shape)


def const(name, values, dims=None):
    v = np.array(values, dtype=np.int64)
    return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(v if dims is None else v.reshape(dims), name + "_v"))


def spec_case(out, name, nodes, inputs, outputs, feeds, expected, opset=13):
    """feeds: list (one per data set) of lists of (name, array); expected: the same for the outputs."""
    model = backend_cases.spec_model(helper.make_graph(nodes, name, inputs, outputs), opset, "export_onnx_sequences.py")
    backend_cases.save_case(os.path.join(out, "spec_" + name), model, feeds, expected)


def spec_cases(out, rng):
    def r(*shape):
        return rng.standard_normal(shape).astype(np.float32)

    # SplitToSequence by a scalar size: pieces of 3, 3 and 1 along axis 1; every piece, and the count
    x = r(2, 7)
    spec_case(out, "split_scalar", [
        const("three", 3),
        helper.make_node("SplitToSequence", ["x", "three"], ["seq"], axis=1),
        *[n for k in range(3) for n in (const("p%d" % k, k), helper.make_node("SequenceAt", ["seq", "p%d" % k], ["y%d" % k]))],
        helper.make_node("SequenceLength", ["seq"], ["n"]),
    ], [f32("x", [2, 7])], [f32("y0", [2, 3]), f32("y1", [2, 3]), f32("y2", [2, 1]), i64("n", [])],
        [[("x", x)]], [[("y0", x[:, 0:3]), ("y1", x[:, 3:6]), ("y2", x[:, 6:7]), ("n", np.array(3, dtype=np.int64))]])

    # without a split, keepdims 0: the rows; the last by a negative position, and stacked along a new last axis
    x = r(3, 4)
    spec_case(out, "split_rows_nokeepdims", [
        helper.make_node("SplitToSequence", ["x"], ["seq"], axis=0, keepdims=0),
        const("last", -1),
        helper.make_node("SequenceAt", ["seq", "last"], ["row"]),
        helper.make_node("ConcatFromSequence", ["seq"], ["t"], axis=-1, new_axis=1),
    ], [f32("x", [3, 4])], [f32("row", [4]), f32("t", [4, 3])],
        [[("x", x)]], [[("row", x[2]), ("t", np.ascontiguousarray(x.T))]])

    # a piece of size 0 in the middle: read (an empty output), and left out of the concatenation along its axis
    x = r(2, 5)
    spec_case(out, "split_empty_piece", [
        const("sizes", [2, 0, 3]),
        helper.make_node("SplitToSequence", ["x", "sizes"], ["seq"], axis=-1),
        const("one", 1),
        helper.make_node("SequenceAt", ["seq", "one"], ["empty"]),
        const("minus1", -1),
        helper.make_node("SequenceAt", ["seq", "minus1"], ["last"]),
        helper.make_node("ConcatFromSequence", ["seq"], ["back"], axis=1),
    ], [f32("x", [2, 5])], [f32("empty", [2, 0]), f32("last", [2, 3]), f32("back", [2, 5])],
        [[("x", x)]], [[("empty", x[:, 2:2]), ("last", x[:, 2:5]), ("back", x)]])

    # list operations: empty, insert at the back / front / by a negative position, erase, at; the length
    a, b, c, d = r(2, 3), r(1, 3), r(4, 3), r(2, 3)
    # [] -> [a] -> [b, a] -> [b, c, a] (insert at -1: before the last) -> [b, c, a, d] -> erase -3 -> [b, a, d]
    spec_case(out, "list_ops", [
        helper.make_node("SequenceEmpty", [], ["s0"], dtype=TensorProto.FLOAT),
        helper.make_node("SequenceInsert", ["s0", "a"], ["s1"]),
        const("zero", 0),
        helper.make_node("SequenceInsert", ["s1", "b", "zero"], ["s2"]),
        const("minus1", -1),
        helper.make_node("SequenceInsert", ["s2", "c", "minus1"], ["s3"]),
        helper.make_node("SequenceInsert", ["s3", "d"], ["s4"]),
        const("minus3", -3),
        helper.make_node("SequenceErase", ["s4", "minus3"], ["s5"]),
        helper.make_node("SequenceErase", ["s5"], ["s6"]),
        helper.make_node("SequenceAt", ["s5", "zero"], ["first"]),
        helper.make_node("SequenceAt", ["s6", "minus1"], ["at"]),
        helper.make_node("ConcatFromSequence", ["s5"], ["all"], axis=0),
        helper.make_node("SequenceLength", ["s4"], ["n"]),
    ], [f32("a", [2, 3]), f32("b", [1, 3]), f32("c", [4, 3]), f32("d", [2, 3])],
        [f32("first", [1, 3]), f32("at", [2, 3]), f32("all", [5, 3]), i64("n", [])],
        [[("a", a), ("b", b), ("c", c), ("d", d)]],
        [[("first", b), ("at", a), ("all", np.concatenate([b, a, d], 0)), ("n", np.array(4, dtype=np.int64))]], opset=11)

    # INT64 tensors, an Identity of the sequence (opset 14 on), a position given as an int64 graph input
    p, q = rng.integers(-50, 50, (2, 2)).astype(np.int64), rng.integers(-50, 50, (2, 3)).astype(np.int64)
    spec_case(out, "int64_identity_fed_position", [
        helper.make_node("SequenceConstruct", ["p", "q"], ["s"]),
        helper.make_node("Identity", ["s"], ["s2"]),
        helper.make_node("SequenceAt", ["s2", "pos"], ["picked"]),
        helper.make_node("ConcatFromSequence", ["s2"], ["joined"], axis=1),
    ], [i64("p", [2, 2]), i64("q", [2, 3]), i64("pos", [])], [i64("picked", ["r", "c"]), i64("joined", [2, 5])],
        [[("p", p), ("q", q), ("pos", np.array(-1, dtype=np.int64))], [("p", p), ("q", q), ("pos", np.array(0, dtype=np.int64))]],
        [[("picked", q), ("joined", np.concatenate([p, q], 1))], [("picked", p), ("joined", np.concatenate([p, q], 1))]], opset=14)

    # a split whose sizes are computed from the input's shape (as exporters write them): [1, d - 1] along a dynamic dim
    x1, x2 = r(3, 4), r(3, 6)
    spec_case(out, "split_computed_sizes", [
        helper.make_node("Shape", ["x"], ["shape"]),
        const("idx", [1]),
        helper.make_node("Gather", ["shape", "idx"], ["d"], axis=0),
        const("one", [1]),
        helper.make_node("Sub", ["d", "one"], ["rest"]),
        helper.make_node("Concat", ["one", "rest"], ["sizes"], axis=0),
        helper.make_node("SplitToSequence", ["x", "sizes"], ["seq"], axis=1),
        const("zero", 0),
        const("k1", 1),
        helper.make_node("SequenceAt", ["seq", "zero"], ["head"]),
        helper.make_node("SequenceAt", ["seq", "k1"], ["tail"]),
    ], [f32("x", [3, "T"])], [f32("head", [3, 1]), f32("tail", [3, "T1"])],
        [[("x", x1)], [("x", x2)]], [[("head", x1[:, :1]), ("tail", x1[:, 1:])], [("head", x2[:, :1]), ("tail", x2[:, 1:])]])


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: export_onnx_sequences.py OUT_DIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(SEED)
    for opset in (11, 13, 17):
        export_torch(out, "chunk_cat", ChunkCat().eval(), [(2, 4, 4), (3, 4, 4)], opset, {0: "N"})
    export_torch(out, "chunk_pieces", ChunkPieces().eval(), [(2, 6, 5), (1, 6, 5)], 13, {0: "N"})
    export_torch(out, "chunk_stack", ChunkStack().eval(), [(2, 4, 3), (4, 4, 3)], 17, {0: "N"})
    export_torch(out, "chunk_last", ChunkLast().eval(), [(2, 4, 3), (3, 4, 3)], 11, {0: "N"})
    # the chunked dim dynamic too: lengths 4 and 2 both give two pieces (the traced count)
    export_torch(out, "chunk_cat_dynamic_length", ChunkCat().eval(), [(2, 4, 4), (3, 2, 4)], 13, {0: "N", 1: "T"})
    spec_cases(out, np.random.default_rng(SEED))

    class Refused(nn.Module):
        def forward(self, x):
            return tuple(p + 1 for p in torch.chunk(x, 4, 1))

    torch.onnx.export(Refused().eval(), (torch.randn(2, 5, 3),), os.path.join(out, "refused_chunk.onnx"), opset_version=13,
                      input_names=["x"], dynamic_axes={"x": {0: "N"}})
    with open(os.path.join(out, "DONE"), "w") as f:
        f.write("torch %s, onnx %s\n" % (torch.__version__, onnx.__version__))


if __name__ == "__main__":
    main()
