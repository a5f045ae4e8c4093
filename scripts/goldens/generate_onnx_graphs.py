#!/usr/bin/python3
"""Exports small PyTorch models to ONNX and writes, for the graph IR's tests of the shape, index
and dtype ops (dev.panamadnn.graph.IndexShapes, dev.panamadnn.compile plans with several inputs
and outputs), a text file java-api/src/test/resources/graphs/onnx_graphs.txt holding per model:

  model <name>
  input <name> <dtype> <dims>            dims comma-separated, the symbolic batch as N
  init <name> <dtype> <dims> <values>    initializers (small)
  node <name> <op> <inputs> <outputs> <attributes>
                                         inputs/outputs comma-separated ('-' for none, '~' for an absent input);
                                         attributes 'key=i:1', 'key=is:1,2', 'key=f:0.5', 'key=s:text',
                                         'key=t:<dtype>:<dims>:<values>' joined by ';' ('-' for none)
  output <name>
  shape <value> <dtype> <dims>           ONNX's own shape inference (onnx.shape_inference.infer_shapes,
                                         data_prop=True) on the exported model, symbolic batch N;
                                         only values it infers completely
  data <batch> in|out <name> <dtype> <dims> <values>
                                         PyTorch's inputs and outputs at that batch size
  end

Run with Debian's /usr/bin/python3 (torch 1.13, onnx 1.12):
    /usr/bin/python3 scripts/goldens/generate_onnx_graphs.py
"""
import io
import os

import numpy as np
import onnx
import torch
import torch.nn as nn
from onnx import numpy_helper, shape_inference

OPSET = 13
OUT = os.path.join(os.path.dirname(__file__), "..", "..", "java-api", "src", "test", "resources", "graphs", "onnx_graphs.txt")
DTYPES = {1: "F32", 6: "I32", 7: "I64", 9: "BOOL"}


def dims_text(dims):
    return ",".join(str(d) for d in dims) if len(dims) else "-"


def values_text(a):
    a = np.asarray(a).reshape(-1)
    if a.size == 0:
        return "-"
    if a.dtype == np.float32:
        return ",".join(repr(float(x)) for x in a)
    return ",".join(str(int(x)) for x in a)


def np_dtype(a):
    return {np.dtype("float32"): "F32", np.dtype("int64"): "I64", np.dtype("int32"): "I32", np.dtype("bool"): "BOOL"}[a.dtype]


def attr_text(a):
    h = onnx.helper
    v = h.get_attribute_value(a)
    if a.type == onnx.AttributeProto.INT:
        return "%s=i:%d" % (a.name, v)
    if a.type == onnx.AttributeProto.INTS:
        return "%s=is:%s" % (a.name, ",".join(str(x) for x in v) if v else "-")
    if a.type == onnx.AttributeProto.FLOAT:
        return "%s=f:%r" % (a.name, v)
    if a.type == onnx.AttributeProto.STRING:
        return "%s=s:%s" % (a.name, v.decode())
    if a.type == onnx.AttributeProto.TENSOR:
        arr = numpy_helper.to_array(v)
        return "%s=t:%s:%s:%s" % (a.name, np_dtype(arr), dims_text(arr.shape), values_text(arr))
    raise ValueError("attribute type %s" % a.type)


def shape_of(vi):
    t = vi.type.tensor_type
    if not t.HasField("shape"):
        return None
    dims = []
    for d in t.shape.dim:
        if d.HasField("dim_value"):
            dims.append(str(d.dim_value))
        elif d.dim_param == "N":
            dims.append("N")
        else:
            return None
    return DTYPES.get(t.elem_type), dims


def export(name, model, inputs, input_names, output_names, lines, batches=(2, 3)):
    model.eval()
    f = io.BytesIO()
    dyn = {n: {0: "N"} for n in input_names + output_names}
    torch.onnx.export(model, tuple(inputs(2)), f, opset_version=OPSET, input_names=input_names, output_names=output_names,
                      dynamic_axes=dyn, do_constant_folding=False)
    m = onnx.load_from_string(f.getvalue())
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
    for b in batches:
        xs = inputs(b)
        with torch.no_grad():
            ys = model(*xs)
        if not isinstance(ys, (tuple, list)):
            ys = (ys,)
        for n, x in zip(input_names, xs):
            a = x.numpy()
            lines.append("data %d in %s %s %s %s" % (b, n, np_dtype(a), dims_text(a.shape), values_text(a)))
        for n, y in zip(output_names, ys):
            a = y.numpy()
            lines.append("data %d out %s %s %s %s" % (b, n, np_dtype(a), dims_text(a.shape), values_text(a)))
    lines.append("end")


def rand(*shape):
    return lambda b: [torch.randn((b,) + shape)]


class ViewFlatten(nn.Module):     # x.view(x.size(0), -1): Shape -> Gather -> Unsqueeze -> Concat -> Reshape
    def forward(self, x):
        return torch.relu(x).view(x.size(0), -1)


class ReshapeKeep(nn.Module):     # x.reshape(B, C, -1), B and C read from x's shape
    def forward(self, x):
        return x.reshape(x.shape[0], x.shape[1], -1)


class TwoInputs(nn.Module):       # two inputs added, two outputs
    def forward(self, a, b):
        return torch.relu(a + b), torch.relu(a)


class SplitCat(nn.Module):        # Split into 3 outputs along channels; Concat of activations
    def forward(self, x):
        a, b, c = torch.split(x, [1, 2, 3], dim=1)
        return torch.cat([c, torch.relu(a)], dim=1), b


class SliceGather(nn.Module):     # Slice with negative start / step, Gather with negative index, Squeeze, Unsqueeze
    def forward(self, x):
        s = x[:, 1:-1, ::2]
        g = x[:, -1]
        return s, torch.unsqueeze(g, 1)


class ExpandWhere(nn.Module):     # Expand to a shape computed from x (ConstantOfShape/Mul/Equal/Where on I64), Where with a constant condition
    def __init__(self):
        super().__init__()
        self.register_buffer("mask", torch.tensor([True, False, True, False]))

    def forward(self, x):
        e = torch.ones(1, 4).expand(x.shape[0], 4)
        return torch.where(self.mask, x, e), x[:, 1:]


class ShapeSlice(nn.Module):      # x.reshape(*x.shape[:2], -1): Shape -> Slice -> Concat; a zeros block of a computed shape concatenated
    def forward(self, x):
        y = x.reshape(*x.shape[:2], -1)
        return torch.cat([y, x.new_zeros(x.shape[0], x.shape[1], 2)], 2)


class Embedding(nn.Module):       # Gather on a float weight with I64 indices (an embedding lookup)
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 4)

    def forward(self, ids):
        return self.emb(ids)


class VarStd(nn.Module):          # torch.var / std divide by a count exported as ReduceProd of the Shape's reduced dims (I64)
    def forward(self, x):
        return x.var(dim=1, keepdim=True) + x.std(dim=(1, 2), keepdim=True), x.var(dim=0)


class GatherSorted(nn.Module):    # torch.gather by run-time indices: an argsort (TopK's indices, held as exact F32 values), and an I64 input's
    def forward(self, x, idx):
        return torch.gather(x, 1, x.argsort(1, descending=True)[:, :3]), torch.gather(x, 1, idx)


class RepeatInterleave(nn.Module):  # repeat_interleave: the repeats as a known shape vector Split into parts (Expand shapes)
    def forward(self, x):
        return x.repeat_interleave(2, dim=1)


def main():
    torch.manual_seed(13)
    lines = ["# generated by scripts/goldens/generate_onnx_graphs.py (torch %s, onnx %s, opset %d)" % (torch.__version__, onnx.__version__, OPSET)]
    export("view_flatten", ViewFlatten(), rand(3, 4, 5), ["x"], ["y"], lines)
    export("reshape_keep", ReshapeKeep(), rand(3, 4, 5), ["x"], ["y"], lines)
    export("two_inputs", TwoInputs(), lambda b: [torch.randn(b, 3, 4), torch.randn(b, 3, 4)], ["a", "b"], ["sum", "first"], lines)
    export("split_cat", SplitCat(), rand(6, 2, 3), ["x"], ["cat", "mid"], lines)
    export("slice_gather", SliceGather(), rand(5, 6), ["x"], ["s", "g"], lines)
    export("expand_where", ExpandWhere(), rand(4), ["x"], ["w", "tail"], lines)
    export("embedding", Embedding(), lambda b: [torch.randint(0, 10, (b, 3))], ["ids"], ["e"], lines)
    export("shape_slice", ShapeSlice(), rand(3, 2, 2), ["x"], ["y"], lines)
    export("var_std", VarStd(), rand(4, 5), ["x"], ["spread", "over_batch"], lines)
    export("gather_sorted", GatherSorted(), lambda b: [torch.randn(b, 6), torch.randint(0, 6, (b, 4))], ["x", "idx"], ["top", "picked"], lines)
    export("repeat_interleave", RepeatInterleave(), rand(3), ["x"], ["y"], lines)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote", os.path.normpath(OUT), len(lines), "lines")


if __name__ == "__main__":
    main()
