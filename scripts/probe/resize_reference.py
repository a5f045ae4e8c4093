#!/usr/bin/python3
"""Judges ort-probe mismatches in graphs made only of Resize nodes with ONNX's own reference (a third source).

For each case directory given (dumped by benchmarks' OrtDiffMain --dump: dump/index.txt, <input>.in, <output>.ours,
<output>.ort), runs the graph's Resize nodes in order through onnx.backend.test.case.node.resize.interpolate_nd (ONNX
1.12's reference, Debian's python3-onnx) and prints one line per case: REF=OURS, REF=ORT, REF=BOTH or REF=NEITHER, with
the largest differences. Graphs with another op are skipped (SKIP). Opsets 10-17 forms (scales or sizes, roi,
coordinate_transformation_mode, nearest_mode, cubic_coeff_a, exclude_outside, extrapolation_value).
    resize_reference.py CASE_DIR...
"""
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper
from onnx.backend.test.case.node import resize as ref

DTYPES = {"FLOAT": np.float32, "INT64": np.int64, "INT32": np.int32, "DOUBLE": np.float64}


def load_dump(case):
    arrays = {}
    for line in open(os.path.join(case, "dump", "index.txt")):
        file, dtype, shape = line.split(" ", 2)
        dims = [int(d) for d in shape.strip()[1:-1].split(",") if d.strip()]
        raw = np.fromfile(os.path.join(case, "dump", file), dtype=np.dtype(DTYPES[dtype]).newbyteorder("<"))
        arrays[file] = raw.reshape(dims)
    return arrays


def attr(node, name, default):
    for a in node.attribute:
        if a.name == name:
            v = onnx.helper.get_attribute_value(a)
            return v.decode() if isinstance(v, bytes) else v
    return default


def resize(node, x, values, opset):
    mode = attr(node, "mode", "nearest")
    if mode == "nearest":
        # Resize-10 (as Upsample) takes floor(x / scale); nearest_mode arrived at 11
        nearest_mode = attr(node, "nearest_mode", "round_prefer_floor") if opset >= 11 else "floor"
        coeffs = lambda r: ref.nearest_coeffs(r, mode=nearest_mode)  # noqa: E731
    elif mode == "linear":
        coeffs = ref.linear_coeffs
    else:
        a = attr(node, "cubic_coeff_a", -0.75)
        coeffs = lambda r: ref.cubic_coeffs(r, A=a)  # noqa: E731
    ins = list(node.input) + [""] * 4

    def get(i):
        return values.get(ins[i]) if ins[i] else None
    if opset < 11:
        scales, sizes, roi, ctm = get(1), None, None, "asymmetric"
    else:
        roi, scales, sizes = get(1), get(2), get(3)
        ctm = attr(node, "coordinate_transformation_mode", "half_pixel")
    if scales is not None and scales.size == 0:
        scales = None
    if roi is not None and roi.size == 0:
        roi = None
    kw = dict(coordinate_transformation_mode=ctm, exclude_outside=bool(attr(node, "exclude_outside", 0)),
              extrapolation_value=attr(node, "extrapolation_value", 0.0))
    if sizes is not None and sizes.size > 0:
        return ref.interpolate_nd(x, coeffs, output_size=[int(s) for s in sizes], roi=roi, **kw).astype(np.float32)
    return ref.interpolate_nd(x, coeffs, scale_factors=[float(s) for s in scales], roi=roi, **kw).astype(np.float32)


def judge(case):
    model = onnx.load(os.path.join(case, "model.onnx"))
    if any(n.op_type != "Resize" for n in model.graph.node):
        return "SKIP " + case + " (not only Resize)"
    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    dump = load_dump(case)
    values = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    for k, v in dump.items():
        if k.endswith(".in"):
            values[k[:-3]] = v
    for n in model.graph.node:
        values[n.output[0]] = resize(n, values[n.input[0]].astype(np.float32), values, opset)
    out = []
    verdict = set()
    for o in model.graph.output:
        want = values[o.name].astype(np.float64)
        ours, ort = dump.get(o.name + ".ours"), dump.get(o.name + ".ort")

        def close(a):
            return a is not None and a.shape == want.shape and np.allclose(a, want, rtol=1e-4, atol=1e-4, equal_nan=True)
        verdict.add(("OURS" if close(ours) else "") + ("ORT" if close(ort) else ""))
        out.append("%s: |ours-ref| %s, |ort-ref| %s" % (o.name, diff(ours, want), diff(ort, want)))
    v = verdict.pop() if len(verdict) == 1 else "MIXED"
    name = {"OURS": "REF=OURS", "ORT": "REF=ORT", "OURSORT": "REF=BOTH", "": "REF=NEITHER"}.get(v, "REF=" + v)
    return name + " " + case + " " + "; ".join(out)


def diff(a, want):
    if a is None:
        return "missing"
    if a.shape != want.shape:
        return "shape %s vs %s" % (list(a.shape), list(want.shape))
    with np.errstate(invalid="ignore"):
        return "%.3g" % np.nanmax(np.abs(a - want)) if a.size else "0"


if __name__ == "__main__":
    for c in sys.argv[1:]:
        try:
            print(judge(c.rstrip("/")))
        except Exception as e:  # a form this checker does not know: say so, never guess
            print("UNJUDGED %s %s: %s" % (c, type(e).__name__, e))
