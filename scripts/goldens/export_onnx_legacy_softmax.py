#!/usr/bin/python3
"""Writes an opset-11 ONNX model of Softmax, LogSoftmax and Hardmax over axis 1 of a rank-3 input (before opset 13 they
flatten the input to 2-D at the axis: one softmax over all the dims from it on), with PyTorch's values as goldens.

Run with Debian's /usr/bin/python3 (python3-torch 1.13, python3-onnx):
    /usr/bin/python3 scripts/goldens/export_onnx_legacy_softmax.py OUT_DIR
Writes into OUT_DIR (produced at test time into a cache by onnx/ OnnxLegacySoftmaxTest, never committed):
  legacy_softmax.onnx            input "x" [batch, 3, 4] FLOAT (dynamic batch); outputs "softmax", "logsoftmax",
                                 "hardmax", each [batch, 3, 4], axis = 1, built with onnx.helper (torch writes no such node)
  legacy_softmax.goldens.safetensors   x_b2, softmax_b2, logsoftmax_b2, hardmax_b2: PyTorch's softmax / log_softmax / one-hot
                                 argmax of x.reshape(batch, 12) along dim 1, reshaped back (x has a NaN in row 1)
"""
import os
import sys

import onnx
import torch
from onnx import TensorProto, helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from goldens_io import write_safetensors  # noqa: E402


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: export_onnx_legacy_softmax.py OUT_DIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    outs = ["softmax", "logsoftmax", "hardmax"]
    nodes = [helper.make_node(op, ["x"], [name], axis=1) for op, name in zip(["Softmax", "LogSoftmax", "Hardmax"], outs)]
    graph = helper.make_graph(nodes, "legacy_softmax", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3, 4])],
                              [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["batch", 3, 4]) for n in outs])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 11)])
    model.ir_version = 6
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(out, "legacy_softmax.onnx"))
    g = torch.Generator().manual_seed(20261205)
    x = torch.randn(2, 3, 4, generator=g) * 3
    x[1, 2, 0] = float("nan")
    flat = x.reshape(2, 12)
    hard = torch.nn.functional.one_hot(flat.argmax(1), 12).float()
    hard[1] = float("nan")   # a NaN in the line: ONNX's Hardmax takes it as the maximum (numpy.argmax); documented, not compared
    goldens = {"x_b2": x, "softmax_b2": torch.softmax(flat, 1).reshape(2, 3, 4), "logsoftmax_b2": torch.log_softmax(flat, 1).reshape(2, 3, 4),
               "hardmax_b2": hard.reshape(2, 3, 4)}
    write_safetensors(os.path.join(out, "legacy_softmax.goldens.safetensors"), goldens,
                      {"producer": "scripts/goldens/export_onnx_legacy_softmax.py", "torch": torch.__version__})
    print("written to", out)


if __name__ == "__main__":
    main()
