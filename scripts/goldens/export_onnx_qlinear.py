#!/usr/bin/python3
"""Writes ONNX models of the integer-arithmetic quantized ops with per-channel weight scales and zero points, a bias and
stride / padding / groups (what ONNX's own backend cases, 1x1 weights and scalar scales, do not reach), with expected
outputs computed here in NumPy from the operators' definitions as ONNX Runtime evaluates them: the sum in int32 of
(x - x_zero_point) * (w - w_zero_point) (+ the int32 bias), then saturate(round_half_even(sum * (x_scale * w_scale /
y_scale)) + y_zero_point), the multiplier in float32.

Run with Debian's /usr/bin/python3 (python3-onnx, numpy):
    /usr/bin/python3 scripts/goldens/export_onnx_qlinear.py OUT_DIR
Writes into OUT_DIR (produced at test time into a cache by onnx/ QLinearOpsTest, never committed):
  qlinearconv.onnx      QLinearConv, x uint8 [2, 4, 7, 6], w int8 [6, 2, 3, 3] (group 2), per-channel w_scale/w_zero_point [6],
                        bias int32 [6], strides 2, pads 1; y uint8
  qlinearmatmul.onnx    QLinearMatMul, a uint8 [2, 3, 5] per-tensor, b int8 [5, 4] with per-column scale and zero point [4]; y int8
  convinteger.onnx      ConvInteger, x uint8 [1, 3, 6, 6] with x_zero_point, w uint8 [4, 3, 2, 2] with per-channel w_zero_point,
                        dilations 2; y int32
  dynamiclinear.onnx    a Linear as ONNX Runtime's dynamic quantization writes it: DynamicQuantizeLinear(x), MatMulInteger with
                        int8 weights, Cast, Mul by x_scale * w_scale, Add the bias; x float [N, 6], y float [N, 5]
  qlinear.goldens.safetensors   for each model <m>: <m>_x (the first input as F32 values) and <m>_y (the output as F32 values)
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from goldens_io import write_safetensors  # noqa: E402

SEED = 20261205


def conv_int(x, w, stride=1, pad=0, dil=1, group=1):
    """int64 direct convolution of centred integer arrays (N, C, H, W) x (M, C/group, kh, kw)."""
    n, c, h, wd = x.shape
    m, cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh = (h + 2 * pad - dil * (kh - 1) - 1) // stride + 1
    ow = (wd + 2 * pad - dil * (kw - 1) - 1) // stride + 1
    y = np.zeros((n, m, oh, ow), np.int64)
    mg = m // group
    for o in range(m):
        g = o // mg
        for i in range(oh):
            for j in range(ow):
                patch = xp[:, g * cg:(g + 1) * cg, i * stride:i * stride + dil * (kh - 1) + 1:dil, j * stride:j * stride + dil * (kw - 1) + 1:dil]
                y[:, o, i, j] = (patch * w[o]).reshape(n, -1).sum(1)
    return y


def requant(acc, multiplier, zp, lo, hi):
    v = np.rint(acc.astype(np.float32) * multiplier.astype(np.float32))   # np.rint: round half to even
    return np.clip(v + zp, lo, hi)


def model(name, node, inputs, inits, out):
    g = helper.make_graph([node], name, inputs, [out], initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 7
    onnx.checker.check_model(m)
    return m


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: export_onnx_qlinear.py OUT_DIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    r = np.random.RandomState(SEED)
    goldens = {}

    x = r.randint(0, 256, (2, 4, 7, 6)).astype(np.uint8)
    w = r.randint(-128, 128, (6, 2, 3, 3)).astype(np.int8)
    xs, xz = np.float32(0.02), np.uint8(128)
    ws, wz = (r.rand(6).astype(np.float32) * 0.01 + 0.002), r.randint(-3, 4, 6).astype(np.int8)
    ys, yz = np.float32(0.05), np.uint8(120)
    b = r.randint(-500, 500, 6).astype(np.int32)
    acc = conv_int(x.astype(np.int64) - int(xz), w.astype(np.int64) - wz.astype(np.int64).reshape(6, 1, 1, 1), stride=2, pad=1, group=2)
    acc = acc + b.reshape(1, 6, 1, 1)
    y = requant(acc, (xs * ws / ys).reshape(1, 6, 1, 1), int(yz), 0, 255).astype(np.uint8)
    init = [numpy_helper.from_array(np.array(xs), "x_scale"), numpy_helper.from_array(np.array(xz), "x_zero_point"),
            numpy_helper.from_array(w, "w"), numpy_helper.from_array(ws, "w_scale"), numpy_helper.from_array(wz, "w_zero_point"),
            numpy_helper.from_array(np.array(ys), "y_scale"), numpy_helper.from_array(np.array(yz), "y_zero_point"), numpy_helper.from_array(b, "B")]
    node = helper.make_node("QLinearConv", ["x", "x_scale", "x_zero_point", "w", "w_scale", "w_zero_point", "y_scale", "y_zero_point", "B"],
                            ["y"], strides=[2, 2], pads=[1, 1, 1, 1], group=2, kernel_shape=[3, 3])
    onnx.save(model("qlinearconv", node, [helper.make_tensor_value_info("x", TensorProto.UINT8, ["N", 4, 7, 6])], init,
                    helper.make_tensor_value_info("y", TensorProto.UINT8, ["N", 6, 4, 3])), os.path.join(out, "qlinearconv.onnx"))
    goldens["qlinearconv_x"], goldens["qlinearconv_y"] = x.astype(np.float32), y.astype(np.float32)

    a = r.randint(0, 256, (2, 3, 5)).astype(np.uint8)
    bm = r.randint(-128, 128, (5, 4)).astype(np.int8)
    a_s, a_z = np.float32(0.03), np.uint8(100)
    b_s, b_z = (r.rand(4).astype(np.float32) * 0.02 + 0.005), r.randint(-5, 6, 4).astype(np.int8)
    y_s, y_z = np.float32(0.1), np.int8(-3)
    acc = np.matmul(a.astype(np.int64) - int(a_z), bm.astype(np.int64) - b_z.astype(np.int64))
    ym = requant(acc, a_s * b_s / y_s, int(y_z), -128, 127).astype(np.int8)
    init = [numpy_helper.from_array(np.array(a_s), "a_scale"), numpy_helper.from_array(np.array(a_z), "a_zero_point"),
            numpy_helper.from_array(bm, "b"), numpy_helper.from_array(b_s, "b_scale"), numpy_helper.from_array(b_z, "b_zero_point"),
            numpy_helper.from_array(np.array(y_s), "y_scale"), numpy_helper.from_array(np.array(y_z), "y_zero_point")]
    node = helper.make_node("QLinearMatMul", ["a", "a_scale", "a_zero_point", "b", "b_scale", "b_zero_point", "y_scale", "y_zero_point"], ["y"])
    onnx.save(model("qlinearmatmul", node, [helper.make_tensor_value_info("a", TensorProto.UINT8, ["N", 3, 5])], init,
                    helper.make_tensor_value_info("y", TensorProto.INT8, ["N", 3, 4])), os.path.join(out, "qlinearmatmul.onnx"))
    goldens["qlinearmatmul_x"], goldens["qlinearmatmul_y"] = a.astype(np.float32), ym.astype(np.float32)

    xc = r.randint(0, 256, (1, 3, 6, 6)).astype(np.uint8)
    wc = r.randint(0, 256, (4, 3, 2, 2)).astype(np.uint8)
    xcz, wcz = np.uint8(7), r.randint(100, 150, 4).astype(np.uint8)
    yc = conv_int(xc.astype(np.int64) - int(xcz), wc.astype(np.int64) - wcz.astype(np.int64).reshape(4, 1, 1, 1), dil=2).astype(np.int32)
    init = [numpy_helper.from_array(wc, "w"), numpy_helper.from_array(np.array(xcz), "x_zero_point"), numpy_helper.from_array(wcz, "w_zero_point")]
    node = helper.make_node("ConvInteger", ["x", "w", "x_zero_point", "w_zero_point"], ["y"], dilations=[2, 2], kernel_shape=[2, 2])
    onnx.save(model("convinteger", node, [helper.make_tensor_value_info("x", TensorProto.UINT8, ["N", 3, 6, 6])], init,
                    helper.make_tensor_value_info("y", TensorProto.INT32, ["N", 4, 4, 4])), os.path.join(out, "convinteger.onnx"))
    goldens["convinteger_x"], goldens["convinteger_y"] = xc.astype(np.float32), yc.astype(np.float32)
    xd = (r.randn(4, 6) * 2).astype(np.float32)
    wf = r.randn(6, 5).astype(np.float32)
    wds = np.float32(np.abs(wf).max() / 127)
    wdq = np.clip(np.rint(wf / wds), -127, 127).astype(np.int8)
    bd = r.randn(5).astype(np.float32)
    lo, hi = min(float(xd.min()), 0.0), max(float(xd.max()), 0.0)
    xds = np.float32((np.float32(hi) - np.float32(lo)) / np.float32(255))
    xdz = np.clip(np.rint(np.float32(-lo) / xds), 0, 255)
    xdq = np.clip(np.rint(xd / xds) + xdz, 0, 255)
    acc = (xdq.astype(np.int64) - int(xdz)) @ wdq.astype(np.int64)
    yd = acc.astype(np.float32) * (xds * wds) + bd
    nodes = [helper.make_node("DynamicQuantizeLinear", ["x"], ["xq", "xs", "xz"]),
             helper.make_node("MatMulInteger", ["xq", "w", "xz", "wz"], ["acc"]),
             helper.make_node("Cast", ["acc"], ["accf"], to=TensorProto.FLOAT),
             helper.make_node("Mul", ["xs", "w_scale"], ["scale"]),
             helper.make_node("Mul", ["accf", "scale"], ["yl"]),
             helper.make_node("Add", ["yl", "b"], ["y"])]
    init = [numpy_helper.from_array(wdq, "w"), numpy_helper.from_array(np.array(np.int8(0)), "wz"), numpy_helper.from_array(np.array(wds), "w_scale"),
            numpy_helper.from_array(bd, "b")]
    g = helper.make_graph(nodes, "dynamiclinear", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 6])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 5])], initializer=init)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 7
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(out, "dynamiclinear.onnx"))
    goldens["dynamiclinear_x"], goldens["dynamiclinear_y"] = xd, yd.astype(np.float32)
    write_safetensors(os.path.join(out, "qlinear.goldens.safetensors"), {k: __import__("torch").from_numpy(v) for k, v in goldens.items()},
                      {"producer": "scripts/goldens/export_onnx_qlinear.py", "seed": str(SEED)})
    print("qlinear: written to %s" % out)


if __name__ == "__main__":
    main()
