#!/usr/bin/python3
"""Writes PyTorch goldens for Conv1d/Conv2d/ConvTranspose1d/ConvTranspose2d.

Run with a Python that has torch (Debian's python3-torch 1.13: /usr/bin/python3):
    /usr/bin/python3 scripts/goldens/generate_conv.py
Output: java-api/src/test/resources/goldens/conv.safetensors (format: goldens_io.py; read by
java-api/src/test/java/dev/panamadnn/nn/ConvGoldens.java through GoldenFile). Per case the tensors
<case>/param:weight, <case>/param:bias (if bias), <case>/input, <case>/output, and the spec
    <layer> key=value ...
with keys: in, out, kernel, stride, dilation, groups, bias (0/1), padding (symmetric) or
pad_before/pad_after (asymmetric, done in torch with F.pad), padding_text (same/valid),
causal (1: left F.pad of (k-1)*dilation), output_padding, mode (padding_mode), input, output
(shapes). Lists are comma-separated. Every case has its own fixed seed (1000 + its index).
Deterministic (fixed seeds, CPU, float32): an unchanged PyTorch on the same kind of CPU gives a byte-identical
file. Another kind rounds some outputs differently (regenerated on an AVX2-only AMD EPYC in session 49 after an
AVX-512 Intel Xeon: 24 outputs moved by at most 2.4e-7; inputs and weights identical).
"""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

from goldens_io import write_goldens

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "java-api", "src", "test", "resources",
                   "goldens", "conv.safetensors")
LAYERS = {"Conv1d": nn.Conv1d, "Conv2d": nn.Conv2d, "ConvTranspose1d": nn.ConvTranspose1d,
          "ConvTranspose2d": nn.ConvTranspose2d}


def tup(v, nd):
    return list(v) if isinstance(v, (tuple, list)) else [v] * nd


def csv(v):
    return ",".join(str(int(x)) for x in v)


def case(cases, seed, name, layer, in_shape, in_ch, out_ch, kernel, stride=1, padding=0, dilation=1, groups=1,
         bias=True, output_padding=0, pad_before=None, pad_after=None, causal=False, mode="zeros"):
    torch.manual_seed(seed)
    nd = 2 if layer.endswith("2d") else 1
    kw = dict(stride=stride, dilation=dilation, groups=groups, bias=bias)
    if layer.startswith("ConvTranspose"):
        kw["output_padding"] = output_padding
    else:
        kw["padding_mode"] = mode
    explicit = pad_before is not None or causal
    kw["padding"] = 0 if explicit else padding
    m = LAYERS[layer](in_ch, out_ch, kernel, **kw).eval()
    x = torch.randn(*in_shape)
    k, d = tup(kernel, nd), tup(dilation, nd)
    if causal:
        pad_before, pad_after = [(k[0] - 1) * d[0]], [0]
    with torch.no_grad():
        xin = x
        if explicit:
            # F.pad takes (last dim before, last dim after, previous dim before, ...).
            spec = []
            for i in reversed(range(nd)):
                spec += [pad_before[i], pad_after[i]]
            xin = F.pad(x, spec)
        y = m(xin)
    fields = [layer, "in=%d" % in_ch, "out=%d" % out_ch, "kernel=" + csv(k), "stride=" + csv(tup(stride, nd)),
              "dilation=" + csv(d), "groups=%d" % groups, "bias=%d" % int(bias)]
    if causal:
        fields.append("causal=1")
    elif pad_before is not None:
        fields += ["pad_before=" + csv(pad_before), "pad_after=" + csv(pad_after)]
    elif isinstance(padding, str):
        fields.append("padding_text=" + padding)
    else:
        fields.append("padding=" + csv(tup(padding, nd)))
    if layer.startswith("ConvTranspose"):
        fields.append("output_padding=" + csv(tup(output_padding, nd)))
    fields += ["mode=" + mode, "input=" + csv(x.shape), "output=" + csv(y.shape)]
    tensors = {"param:weight": m.weight}
    if bias:
        tensors["param:bias"] = m.bias
    tensors["input"], tensors["output"] = x, y
    cases.append((name, " ".join(fields), tensors))


def main():
    cases = []
    C = lambda *a, **k: case(cases, 1000 + len(cases), *a, **k)
    # Conv1d
    C("c1_basic", "Conv1d", (2, 3, 11), 3, 4, 3)
    C("c1_stride_dilation", "Conv1d", (1, 4, 13), 4, 6, 3, stride=2, dilation=2, padding=2, bias=False)
    C("c1_groups", "Conv1d", (2, 4, 9), 4, 6, 5, groups=2, padding=1)
    C("c1_depthwise", "Conv1d", (3, 5, 8), 5, 5, 3, groups=5, padding=1)
    C("c1_same_even_kernel", "Conv1d", (2, 3, 10), 3, 4, 4, padding="same", dilation=2)
    C("c1_valid", "Conv1d", (1, 2, 7), 2, 3, 5, padding="valid")
    C("c1_causal", "Conv1d", (2, 3, 12), 3, 2, 3, dilation=2, causal=True)
    C("c1_causal_k4", "Conv1d", (1, 2, 9), 2, 3, 4, causal=True, bias=False)
    C("c1_asymmetric", "Conv1d", (2, 3, 10), 3, 4, 3, stride=2, pad_before=[2], pad_after=[1])
    C("c1_unbatched", "Conv1d", (3, 9), 3, 2, 3, padding=1)
    C("c1_reflect", "Conv1d", (2, 2, 8), 2, 3, 5, padding=2, mode="reflect")
    C("c1_replicate", "Conv1d", (1, 2, 6), 2, 3, 3, padding=2, stride=2, mode="replicate")
    C("c1_circular", "Conv1d", (2, 3, 7), 3, 2, 3, padding=1, mode="circular")
    # Conv2d
    C("c2_basic", "Conv2d", (2, 3, 7, 9), 3, 8, 3, stride=2, padding=1)
    C("c2_rect", "Conv2d", (1, 2, 9, 8), 2, 3, (3, 2), stride=(2, 1), padding=(1, 0), dilation=(2, 1))
    C("c2_stride_dilation", "Conv2d", (2, 3, 11, 10), 3, 4, 3, stride=2, dilation=2, padding=2, bias=False)
    C("c2_groups", "Conv2d", (2, 6, 6, 7), 6, 4, 3, groups=2)
    C("c2_depthwise_multiplier", "Conv2d", (1, 4, 5, 6), 4, 8, 3, groups=4, padding=1)
    C("c2_depthwise", "Conv2d", (2, 3, 6, 5), 3, 3, (3, 1), groups=3, padding=(1, 0), bias=False)
    C("c2_same", "Conv2d", (2, 2, 7, 6), 2, 3, (4, 3), padding="same", dilation=(1, 2))
    C("c2_valid", "Conv2d", (1, 3, 6, 8), 3, 2, (3, 5), padding="valid")
    C("c2_asymmetric", "Conv2d", (2, 2, 6, 7), 2, 3, 3, stride=(1, 2), pad_before=[0, 1], pad_after=[1, 2])
    C("c2_unbatched", "Conv2d", (3, 5, 6), 3, 2, 3, padding=1)
    C("c2_1x1", "Conv2d", (3, 4, 5, 5), 4, 6, 1)
    C("c2_reflect", "Conv2d", (1, 2, 5, 6), 2, 3, 3, padding=(2, 1), mode="reflect")
    C("c2_replicate", "Conv2d", (2, 2, 4, 5), 2, 2, 3, padding=1, stride=2, mode="replicate")
    C("c2_circular", "Conv2d", (1, 3, 5, 5), 3, 2, 3, padding=(1, 2), mode="circular")
    # ConvTranspose1d
    C("t1_basic", "ConvTranspose1d", (2, 3, 7), 3, 4, 3)
    C("t1_stride_padding_output_padding", "ConvTranspose1d", (1, 2, 5), 2, 3, 4, stride=3, padding=1, output_padding=2)
    C("t1_dilation", "ConvTranspose1d", (2, 3, 6), 3, 2, 3, stride=2, dilation=2, padding=1, output_padding=1)
    C("t1_groups", "ConvTranspose1d", (2, 4, 5), 4, 6, 3, groups=2, stride=2, bias=False)
    C("t1_depthwise", "ConvTranspose1d", (1, 3, 6), 3, 3, 3, groups=3, padding=1)
    C("t1_unbatched", "ConvTranspose1d", (2, 5), 2, 3, 2, stride=2)
    C("t1_op_below_dilation", "ConvTranspose1d", (1, 2, 4), 2, 2, 2, stride=1, dilation=3, output_padding=2)
    # ConvTranspose2d
    C("t2_basic", "ConvTranspose2d", (2, 3, 5, 4), 3, 2, 3, stride=2, padding=1, output_padding=1)
    C("t2_rect", "ConvTranspose2d", (1, 2, 4, 3), 2, 3, (2, 3), stride=(2, 3), padding=(0, 1), dilation=(2, 1),
      output_padding=(1, 2))
    C("t2_groups", "ConvTranspose2d", (2, 6, 3, 4), 6, 3, 3, groups=3, bias=False)
    C("t2_depthwise", "ConvTranspose2d", (1, 4, 4, 4), 4, 4, 3, groups=4, stride=2)
    C("t2_stride_dilation", "ConvTranspose2d", (2, 2, 4, 5), 2, 3, 3, stride=2, dilation=3, padding=2)
    C("t2_unbatched", "ConvTranspose2d", (2, 3, 3), 2, 2, 3, stride=2, padding=1, output_padding=1)
    # strides past ConvOps.MAX_DECONVOLUTION_STRIDE (1024): the layer runs on the reference (HugeStrideTransposedTest)
    C("t1_stride_1025", "ConvTranspose1d", (1, 3, 2), 3, 2, 3, stride=1025, output_padding=1)
    C("t2_stride_1025_padding_dilation", "ConvTranspose2d", (1, 2, 2, 2), 2, 1, (2, 3), stride=(2, 1025), padding=(1, 2),
      dilation=(1, 2), output_padding=(1, 3))
    # output padding past the cropped padding, every output out of the kernel's reach: the bias alone (oneDNN gets
    # nothing to compute; the reference writes it; scripts/fuzz --seed 5001 --family ConvTranspose1d --case 1071)
    C("t1_all_bias_tail", "ConvTranspose1d", (2, 5, 1), 5, 2, 1, stride=1, padding=1, output_padding=2, dilation=3)
    C("t2_all_bias_tail_rows", "ConvTranspose2d", (1, 2, 1, 3), 2, 3, (1, 2), stride=(1, 2), padding=(1, 0),
      output_padding=(2, 1), dilation=(3, 1))
    write_goldens(OUT, cases)
    print("%d cases written to %s (%d bytes) with torch %s" % (len(cases), os.path.normpath(OUT), os.path.getsize(OUT),
                                                               torch.__version__))


if __name__ == "__main__":
    sys.exit(main())
