"""Shared writer of cases in the layout of ONNX's backend test suite (DIR/model.onnx, DIR/test_data_set_k/input_j.pb and
output_j.pb), for the goldens scripts whose cases onnx/'s BackendCase runs (export_onnx_sequences.py,
export_onnx_loops.py). Run with Debian's /usr/bin/python3 (python3-onnx)."""
import io
import os

import numpy as np
import onnx
from onnx import helper, numpy_helper


def write_set(case_dir, k, inputs, outputs):
    """Data set k of a case: inputs and outputs as lists of (name, array)."""
    d = os.path.join(case_dir, "test_data_set_%d" % k)
    os.makedirs(d, exist_ok=True)
    for kind, items in (("input", inputs), ("output", outputs)):
        for j, (name, a) in enumerate(items):
            with open(os.path.join(d, "%s_%d.pb" % (kind, j)), "wb") as f:
                f.write(numpy_helper.from_array(np.asarray(a), name).SerializeToString())


def save_case(case_dir, model, feeds, expected):
    """model.onnx and one data set per (feeds, expected) pair."""
    os.makedirs(case_dir, exist_ok=True)
    onnx.save(model, os.path.join(case_dir, "model.onnx"))
    for k, (i, o) in enumerate(zip(feeds, expected)):
        write_set(case_dir, k, i, o)


def spec_model(graph, opset, producer):
    """A model of graph at opset, checked by ONNX's checker."""
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name=producer)
    onnx.checker.check_model(model)
    return model


def export_torch(torch, case_dir, module, xs, opset, dynamic, required_op, script=False):
    """torch.onnx.export of module (scripted first if script) on xs[0], input "x", outputs "y0".."yN" (one "y" when the
    module returns one tensor), with PyTorch's outputs for every x in xs as the data sets; asserts the export holds
    required_op (the form the case is about)."""
    with torch.no_grad():
        ys = [module(x) for x in xs]
    ys = [list(y) if isinstance(y, tuple) else [y] for y in ys]
    outs = ["y"] if len(ys[0]) == 1 else ["y%d" % j for j in range(len(ys[0]))]
    buf = io.BytesIO()
    torch.onnx.export(torch.jit.script(module) if script else module, (xs[0],), buf, opset_version=opset, input_names=["x"],
                      output_names=outs, dynamic_axes={"x": dynamic})
    model = onnx.load_from_string(buf.getvalue())
    ops = {n.op_type for n in model.graph.node}
    assert required_op in ops, "%s: expected a %s in the export, got %s" % (case_dir, required_op, sorted(ops))
    save_case(case_dir, model, [[("x", x.numpy())] for x in xs], [[(o, t.numpy()) for o, t in zip(outs, y)] for y in ys])
