#!/usr/bin/python3
"""Prints the expected output shapes of the graph IR's shape-inference tests (dev.panamadnn.graph).

Run with a Python that has torch (Debian's python3-torch 1.13) and onnx (python3-onnx 1.12):
    /usr/bin/python3 scripts/goldens/generate_graph_shapes.py
Output, one line per case: "<case>  <shape>  <source>". The Java tests quote the case name next to
each expectation (ShapeInference*Test).

Sources: PyTorch for the ops PyTorch has with the same meaning (convolution with symmetric pads,
pooling, adaptive pooling, the nn layers of Layer nodes); ONNX's own shape inference
(onnx.shape_inference.infer_shapes, strict) on a one-node model for the ONNX-only semantics
(asymmetric pads, Gemm's transA/transB, 2-D Flatten, Reshape's 0/-1, Pad's [begins..., ends...]).
Where both have the op, both are asked and must agree. One exception: ONNX 1.12 keeps a ceil_mode
pooling window that starts in the right padding (fixed in ONNX 1.16 to match PyTorch); those cases
use PyTorch alone and print what ONNX 1.12 says for the record.

A symbolic batch N is derived, not assumed: every case runs at N = 2 and N = 3, and a dim that
changes must be k*N for one k (else the script fails).
"""
import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import TensorProto, helper, shape_inference

CASES = []


def case(name, source, fn):
    """fn(n) -> a tuple of ints for batch n; the shape is printed with N where it scales with n."""
    CASES.append((name, source, fn))


def symbolic(fn):
    a, b = tuple(fn(2)), tuple(fn(3))
    if len(a) != len(b):
        raise AssertionError("rank depends on N: %s vs %s" % (a, b))
    dims = []
    for x, y in zip(a, b):
        if x == y:
            dims.append(str(x))
        elif x % 2 == 0 and y == x // 2 * 3:
            k = x // 2
            dims.append("N" if k == 1 else "%d*N" % k)
        else:
            raise AssertionError("dim not proportional to N: %s vs %s" % (a, b))
    return "[" + ", ".join(dims) + "]"


def t(*shape):
    return torch.zeros(tuple(shape))


def onnx_shape(op, inputs, attrs=None, inits=None, outputs=1):
    """Output 0's shape of a one-node ONNX model (opset 17). inputs: list of (name, shape) or (name, ndarray)."""
    inits = inits or {}
    graph_inputs, initializers, names = [], [], []
    for name, spec in inputs:
        names.append(name)
        if name in inits:
            initializers.append(helper.make_tensor(name, TensorProto.INT64, [len(inits[name])], list(inits[name])))
        else:
            graph_inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, list(spec)))
    outs = ["y%d" % i for i in range(outputs)]
    node = helper.make_node(op, names, outs, **(attrs or {}))
    graph = helper.make_graph([node], "g", graph_inputs, [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outs],
                              initializer=initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    inferred = shape_inference.infer_shapes(model, strict_mode=True)
    for v in inferred.graph.output:
        if v.name == "y0":
            dims = v.type.tensor_type.shape.dim
            if any(not d.HasField("dim_value") for d in dims):
                raise AssertionError("ONNX left %s's shape unknown: %s" % (op, dims))
            return tuple(d.dim_value for d in dims)
    raise AssertionError("no output")


def both(name, torch_fn, onnx_fn):
    def fn(n):
        a, b = tuple(torch_fn(n)), tuple(onnx_fn(n))
        if a != b:
            raise AssertionError("%s: torch %s vs onnx %s" % (name, a, b))
        return a
    case(name, "torch+onnx", fn)


# ---- convolution -------------------------------------------------------------------------------
both("conv2d_stride_pad",
     lambda n: F.conv2d(t(n, 3, 32, 32), t(8, 3, 3, 3), stride=2, padding=1).shape,
     lambda n: onnx_shape("Conv", [("x", (n, 3, 32, 32)), ("w", (8, 3, 3, 3))], dict(strides=[2, 2], pads=[1, 1, 1, 1])))
# asymmetric pads: torch pads explicitly (F.pad's order is last dim first: (left, right))
both("conv1d_asym_pads_stride_dilation",
     lambda n: F.conv1d(F.pad(t(n, 4, 20), (2, 1)), t(6, 4, 5), stride=3, dilation=2).shape,
     lambda n: onnx_shape("Conv", [("x", (n, 4, 20)), ("w", (6, 4, 5))], dict(strides=[3], pads=[2, 1], dilations=[2])))
both("conv2d_groups_dilation_asym_pads",
     lambda n: F.conv2d(F.pad(t(n, 4, 12, 14), (0, 3, 1, 2)), t(8, 2, 3, 3), stride=(2, 1), dilation=(3, 2), groups=2).shape,
     lambda n: onnx_shape("Conv", [("x", (n, 4, 12, 14)), ("w", (8, 2, 3, 3))],
                          dict(strides=[2, 1], pads=[1, 0, 2, 3], dilations=[3, 2], group=2)))
both("conv2d_depthwise",
     lambda n: F.conv2d(t(n, 6, 9, 9), t(6, 1, 3, 3), stride=2, groups=6).shape,
     lambda n: onnx_shape("Conv", [("x", (n, 6, 9, 9)), ("w", (6, 1, 3, 3))], dict(strides=[2, 2], group=6)))
both("conv2d_kernel_equals_input",
     lambda n: F.conv2d(t(n, 2, 5, 5), t(3, 2, 5, 5)).shape,
     lambda n: onnx_shape("Conv", [("x", (n, 2, 5, 5)), ("w", (3, 2, 5, 5))]))
both("conv1d_stride_past_end",
     lambda n: F.conv1d(t(n, 1, 7), t(2, 1, 3), stride=4).shape,
     lambda n: onnx_shape("Conv", [("x", (n, 1, 7)), ("w", (2, 1, 3))], dict(strides=[4])))
both("convtranspose1d_output_padding",
     lambda n: F.conv_transpose1d(t(n, 4, 5), t(4, 3, 3), stride=2, padding=1, output_padding=1).shape,
     lambda n: onnx_shape("ConvTranspose", [("x", (n, 4, 5)), ("w", (4, 3, 3))], dict(strides=[2], pads=[1, 1], output_padding=[1])))
both("convtranspose2d_groups_dilation",
     lambda n: F.conv_transpose2d(t(n, 6, 7, 5), t(6, 2, 3, 3), stride=(2, 3), padding=(1, 2), output_padding=(1, 2),
                                  groups=3, dilation=(2, 1)).shape,
     lambda n: onnx_shape("ConvTranspose", [("x", (n, 6, 7, 5)), ("w", (6, 2, 3, 3))],
                          dict(strides=[2, 3], pads=[1, 2, 1, 2], output_padding=[1, 2], group=3, dilations=[2, 1])))
case("convtranspose2d_asym_pads", "onnx",
     lambda n: onnx_shape("ConvTranspose", [("x", (n, 2, 4, 4)), ("w", (2, 3, 3, 3))], dict(strides=[2, 2], pads=[0, 1, 2, 0])))

# ---- normalization -----------------------------------------------------------------------------
both("batchnorm_1d",
     lambda n: F.batch_norm(t(n, 5, 7), t(5), t(5) + 1).shape,
     lambda n: onnx_shape("BatchNormalization", [("x", (n, 5, 7)), ("s", (5,)), ("b", (5,)), ("m", (5,)), ("v", (5,))]))
both("layernorm_last_axis",
     lambda n: F.layer_norm(t(n, 6, 8), [8], t(8), t(8)).shape,
     lambda n: onnx_shape("LayerNormalization", [("x", (n, 6, 8)), ("s", (8,)), ("b", (8,))], dict(axis=-1)))
both("layernorm_axis1",
     lambda n: F.layer_norm(t(n, 6, 8), [6, 8], t(6, 8)).shape,
     lambda n: onnx_shape("LayerNormalization", [("x", (n, 6, 8)), ("s", (6, 8))], dict(axis=1)))

# ---- pooling -----------------------------------------------------------------------------------
both("maxpool2d_ceil_7",
     lambda n: F.max_pool2d(t(n, 1, 7, 7), 3, 2, 1, ceil_mode=True).shape,
     lambda n: onnx_shape("MaxPool", [("x", (n, 1, 7, 7))], dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1)))
# the last window would start at 6 = in + pad_left: in the right padding, so it is dropped
case("maxpool1d_ceil_drops_window", "torch",
     lambda n: F.max_pool1d(t(n, 1, 5), 2, 2, 1, ceil_mode=True).shape)
case("maxpool1d_ceil_drops_window_onnx_1_12", "onnx 1.12 (keeps the window)",
     lambda n: onnx_shape("MaxPool", [("x", (n, 1, 5))], dict(kernel_shape=[2], strides=[2], pads=[1, 1], ceil_mode=1)))
case("maxpool2d_ceil_drops_window_2d", "torch",
     lambda n: F.max_pool2d(t(n, 2, 6, 9), (2, 3), (2, 2), (1, 1), ceil_mode=True).shape)
# a window longer than the input: allowed by ceil_mode (it starts at 0 and hangs over the end)
both("maxpool1d_ceil_kernel_longer_than_input",
     lambda n: F.max_pool1d(t(n, 1, 2), 3, 2, 0, ceil_mode=True).shape,
     lambda n: onnx_shape("MaxPool", [("x", (n, 1, 2))], dict(kernel_shape=[3], strides=[2], ceil_mode=1)))
both("maxpool2d_dilation",
     lambda n: F.max_pool2d(t(n, 2, 10, 11), (3, 2), (2, 3), (1, 0), dilation=(2, 3)).shape,
     lambda n: onnx_shape("MaxPool", [("x", (n, 2, 10, 11))],
                          dict(kernel_shape=[3, 2], strides=[2, 3], pads=[1, 0, 1, 0], dilations=[2, 3])))
both("maxpool2d_dilation_ceil",
     lambda n: F.max_pool2d(t(n, 2, 10, 11), (3, 2), (2, 3), (1, 0), dilation=(2, 3), ceil_mode=True).shape,
     lambda n: onnx_shape("MaxPool", [("x", (n, 2, 10, 11))],
                          dict(kernel_shape=[3, 2], strides=[2, 3], pads=[1, 0, 1, 0], dilations=[2, 3], ceil_mode=1)))
both("avgpool1d_floor",
     lambda n: F.avg_pool1d(t(n, 3, 10), 4, 3).shape,
     lambda n: onnx_shape("AveragePool", [("x", (n, 3, 10))], dict(kernel_shape=[4], strides=[3])))
case("avgpool2d_asym_pads_ceil", "onnx",
     lambda n: onnx_shape("AveragePool", [("x", (n, 3, 9, 8))],
                          dict(kernel_shape=[3, 3], strides=[2, 2], pads=[0, 1, 1, 0], ceil_mode=1, count_include_pad=1)))
both("globalavgpool_2d",
     lambda n: F.adaptive_avg_pool2d(t(n, 8, 5, 7), 1).shape,
     lambda n: onnx_shape("GlobalAveragePool", [("x", (n, 8, 5, 7))]))
both("globalavgpool_1d",
     lambda n: F.adaptive_avg_pool1d(t(n, 8, 5), 1).shape,
     lambda n: onnx_shape("GlobalAveragePool", [("x", (n, 8, 5))]))
case("adaptiveavgpool2d", "torch", lambda n: F.adaptive_avg_pool2d(t(n, 3, 10, 7), (4, 3)).shape)
case("adaptiveavgpool2d_upsampling", "torch", lambda n: F.adaptive_avg_pool2d(t(n, 1, 2, 2), (5, 5)).shape)
case("adaptivemaxpool1d", "torch", lambda n: F.adaptive_max_pool1d(t(n, 3, 10), 5).shape)

# ---- activations and softmax -------------------------------------------------------------------
for op, fn in [("Relu", F.relu), ("Sigmoid", torch.sigmoid), ("Tanh", torch.tanh), ("Identity", lambda x: x)]:
    both("activation_" + op.lower(), lambda n, fn=fn: fn(t(n, 4, 3)).shape,
         lambda n, op=op: onnx_shape(op, [("x", (n, 4, 3))]))
both("activation_leakyrelu", lambda n: F.leaky_relu(t(n, 4, 3), 0.2).shape,
     lambda n: onnx_shape("LeakyRelu", [("x", (n, 4, 3))], dict(alpha=0.2)))
both("activation_elu", lambda n: F.elu(t(n, 4, 3)).shape, lambda n: onnx_shape("Elu", [("x", (n, 4, 3))]))
case("activation_silu", "torch", lambda n: F.silu(t(n, 4, 3)).shape)
case("activation_gelu_tanh", "torch", lambda n: F.gelu(t(n, 4, 3), approximate="tanh").shape)
both("softmax_axis1", lambda n: F.softmax(t(n, 10), 1).shape, lambda n: onnx_shape("Softmax", [("x", (n, 10))], dict(axis=1)))

# ---- Flatten (ONNX: always 2-D, [prod(d[:axis]), prod(d[axis:])]) --------------------------------
for axis in [1, 2, 0, -1, 4]:
    case("flatten_axis%s" % str(axis).replace("-", "m"), "onnx",
         lambda n, axis=axis: onnx_shape("Flatten", [("x", (n, 3, 4, 5))], dict(axis=axis)))

# ---- Gemm --------------------------------------------------------------------------------------
case("gemm_plain", "onnx", lambda n: onnx_shape("Gemm", [("a", (n, 4)), ("b", (4, 6))]))
case("gemm_transA", "onnx", lambda n: onnx_shape("Gemm", [("a", (4, n)), ("b", (4, 6))], dict(transA=1)))
case("gemm_transB_bias", "onnx", lambda n: onnx_shape("Gemm", [("a", (n, 4)), ("b", (6, 4)), ("c", (6,))], dict(transB=1)))
case("gemm_transA_transB_c_column", "onnx",
     lambda n: onnx_shape("Gemm", [("a", (4, n)), ("b", (6, 4)), ("c", (n, 1))], dict(transA=1, transB=1)))
case("gemm_c_scalar", "onnx", lambda n: onnx_shape("Gemm", [("a", (n, 4)), ("b", (4, 6)), ("c", ())]))

# ---- MatMul (NumPy matmul) ---------------------------------------------------------------------
for name, a, b in [("matmul_1d_1d", (4,), (4,)), ("matmul_2d_1d", (3, 4), (4,)), ("matmul_1d_2d", (4,), (4, 5)),
                   ("matmul_1d_3d", (4,), (2, 4, 5))]:
    both(name, lambda n, a=a, b=b: torch.matmul(t(*a), t(*b)).shape, lambda n, a=a, b=b: onnx_shape("MatMul", [("a", a), ("b", b)]))
both("matmul_batched_by_2d", lambda n: torch.matmul(t(n, 3, 4), t(4, 5)).shape,
     lambda n: onnx_shape("MatMul", [("a", (n, 3, 4)), ("b", (4, 5))]))
both("matmul_broadcast_batch", lambda n: torch.matmul(t(2, 1, 3, 4), t(5, 4, 6)).shape,
     lambda n: onnx_shape("MatMul", [("a", (2, 1, 3, 4)), ("b", (5, 4, 6))]))
both("matmul_broadcast_symbolic", lambda n: torch.matmul(t(n, 1, 3, 4), t(1, 7, 4, 2)).shape,
     lambda n: onnx_shape("MatMul", [("a", (n, 1, 3, 4)), ("b", (1, 7, 4, 2))]))
both("matmul_3d_by_1d", lambda n: torch.matmul(t(n, 3, 4), t(4)).shape,
     lambda n: onnx_shape("MatMul", [("a", (n, 3, 4)), ("b", (4,))]))

# ---- element-wise broadcasting -----------------------------------------------------------------
for name, op, a, b in [("add_broadcast", "Add", lambda n: (n, 3, 1, 5), lambda n: (4, 1)),
                       ("sub_lower_rank_first", "Sub", lambda n: (5,), lambda n: (n, 1, 5)),
                       ("mul_scalar", "Mul", lambda n: (), lambda n: (n, 4)),
                       ("div_symbolic_with_one", "Div", lambda n: (n, 3, 4), lambda n: (1, 3, 1)),
                       ("add_symbolic_both", "Add", lambda n: (n, 3), lambda n: (n, 1))]:
    both(name, lambda n, a=a, b=b: (t(*a(n)) + t(*b(n))).shape, lambda n, op=op, a=a, b=b: onnx_shape(op, [("a", a(n)), ("b", b(n))]))

# ---- Concat ------------------------------------------------------------------------------------
both("concat_axis1", lambda n: torch.cat([t(n, 3, 4), t(n, 5, 4)], 1).shape,
     lambda n: onnx_shape("Concat", [("a", (n, 3, 4)), ("b", (n, 5, 4))], dict(axis=1)))
both("concat_symbolic_axis", lambda n: torch.cat([t(n, 3), t(n, 3), t(n, 3)], 0).shape,
     lambda n: onnx_shape("Concat", [("a", (n, 3)), ("b", (n, 3)), ("c", (n, 3))], dict(axis=0)))
both("concat_negative_axis", lambda n: torch.cat([t(n, 2, 1), t(n, 2, 6)], -1).shape,
     lambda n: onnx_shape("Concat", [("a", (n, 2, 1)), ("b", (n, 2, 6))], dict(axis=-1)))

# ---- Reshape (ONNX: 0 copies the input's dim, -1 is inferred) ---------------------------------
for name, x, shape in [("reshape_keep_batch", lambda n: (n, 3, 4), [0, -1]),
                       ("reshape_infer_batch", lambda n: (n, 3, 4), [-1, 12]),
                       ("reshape_keep_and_split", lambda n: (n, 3, 4), [0, 2, -1]),
                       ("reshape_all", lambda n: (n, 3, 4), [-1]),
                       ("reshape_batch_last", lambda n: (n, 3, 4), [3, 4, -1]),
                       ("reshape_fixed_with_zero", lambda n: (2, 3, 4), [4, 0, -1]),
                       ("reshape_fixed", lambda n: (3, 4), [2, 3, 2])]:
    case(name, "onnx", lambda n, x=x, shape=shape: onnx_shape("Reshape", [("x", x(n)), ("shape", None)], inits={"shape": shape}))

# ---- Transpose, Pad ----------------------------------------------------------------------------
both("transpose_default_reverses", lambda n: t(n, 3, 4).permute(2, 1, 0).shape, lambda n: onnx_shape("Transpose", [("x", (n, 3, 4))]))
both("transpose_perm", lambda n: t(n, 3, 4).permute(0, 2, 1).shape,
     lambda n: onnx_shape("Transpose", [("x", (n, 3, 4))], dict(perm=[0, 2, 1])))
# ONNX pads are [begin per dim..., end per dim...]; F.pad's are (last dim's begin, end, previous dim's ...)
both("pad_constant", lambda n: F.pad(t(n, 3, 5, 5), (2, 4, 1, 3)).shape,
     lambda n: onnx_shape("Pad", [("x", (n, 3, 5, 5)), ("pads", None)], inits={"pads": [0, 0, 1, 2, 0, 0, 3, 4]}))
both("pad_negative_crops", lambda n: F.pad(t(n, 3, 5, 5), (0, -2, -1, 0)).shape,
     lambda n: onnx_shape("Pad", [("x", (n, 3, 5, 5)), ("pads", None)], inits={"pads": [0, 0, -1, 0, 0, 0, 0, -2]}))

# ---- Layer nodes: dev.panamadnn.nn layers, whose PyTorch twins give the shapes ------------------
case("layer_conv2d", "torch", lambda n: nn.Conv2d(3, 8, 3, stride=2, padding=1)(t(n, 3, 31, 31)).shape)
case("layer_maxpool2d_ceil", "torch", lambda n: nn.MaxPool2d(3, 2, 1, ceil_mode=True)(t(n, 4, 10, 10)).shape)
case("layer_flatten", "torch", lambda n: nn.Flatten()(t(n, 4, 3, 5)).shape)
case("layer_flatten_from_0", "torch", lambda n: nn.Flatten(0, -1)(t(n, 4, 3)).shape)
case("layer_linear", "torch", lambda n: nn.Linear(12, 7)(t(n, 12)).shape)
case("layer_sequential", "torch",
     lambda n: nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d((2, 2)), nn.Flatten(), nn.Linear(16, 5))(
         t(n, 3, 9, 9)).shape)


def main():
    width = max(len(c[0]) for c in CASES)
    for name, source, fn in CASES:
        print("%-*s  %-22s  %s" % (width, name, symbolic(fn), source))


if __name__ == "__main__":
    with torch.no_grad():
        main()
