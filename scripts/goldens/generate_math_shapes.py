#!/usr/bin/python3
"""Prints the expected output shapes of the math ops' shape rules (MathShapesTest), from ONNX's own
shape inference (onnx.shape_inference.infer_shapes, strict, opset 13 for the reductions with an
axes attribute, 17 otherwise) on one-node models with fixed dims (the Java test uses N = 3).

    /usr/bin/python3 scripts/goldens/generate_math_shapes.py
"""
from onnx import TensorProto, helper, shape_inference


def shape(op, inputs, attrs=None, inits=None, opset=17):
    inits = inits or {}
    gi, init, names = [], [], []
    for name, spec in inputs:
        names.append(name)
        if name in inits:
            init.append(helper.make_tensor(name, TensorProto.INT64, [len(inits[name])], list(inits[name])))
        else:
            gi.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, list(spec)))
    node = helper.make_node(op, names, ["y"], **(attrs or {}))
    g = helper.make_graph([node], "g", gi, [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], initializer=init)
    m = shape_inference.infer_shapes(helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)]), strict_mode=True)
    return tuple(d.dim_value for d in m.graph.output[0].type.tensor_type.shape.dim)


CASES = [
    ("pow_broadcast", "Pow", [("a", (3, 1, 5)), ("b", (4, 1))], {}, {}, 17),
    ("max_two", "Max", [("a", (3, 4, 1)), ("b", (5,))], {}, {}, 17),
    ("prelu_slope", "PRelu", [("x", (3, 4, 5)), ("s", (4, 1))], {}, {}, 17),
    ("clip_bounds", "Clip", [("x", (3, 4)), ("lo", ()), ("hi", ())], {}, {}, 17),
    ("logsoftmax", "LogSoftmax", [("x", (3, 4, 5))], {"axis": 1}, {}, 17),
    ("reduce_mean_keep", "ReduceMean", [("x", (3, 4, 5, 6))], {"axes": [1, -1]}, {}, 13),
    ("reduce_max_drop", "ReduceMax", [("x", (3, 4, 5, 6))], {"axes": [2], "keepdims": 0}, {}, 13),
    ("reduce_min_all", "ReduceMin", [("x", (3, 4, 5))], {"keepdims": 0}, {}, 13),
    ("reduce_sum_input", "ReduceSum", [("x", (3, 4, 5)), ("axes", None)], {"keepdims": 1}, {"axes": [-2]}, 13),
    ("reduce_sum_noop", "ReduceSum", [("x", (3, 4, 5)), ("axes", None)], {"noop_with_empty_axes": 1}, {"axes": []}, 13),
    ("instance_norm", "InstanceNormalization", [("x", (3, 4, 5, 6)), ("s", (4,)), ("b", (4,))], {}, {}, 17),
    ("matmul_both_batch", "MatMul", [("a", (3, 1, 4, 5)), ("b", (2, 5, 6))], {}, {}, 17),
    ("transpose_perm", "Transpose", [("x", (3, 4, 5, 6))], {"perm": [0, 3, 1, 2]}, {}, 17),
]
for name, op, inputs, attrs, inits, opset in CASES:
    print("%-20s %s" % (name, list(shape(op, inputs, attrs, inits, opset))))
