"""Expected values for onnx/src/test/java/dev/panamadnn/onnx/OnnxAttention23Test.java: ONNX opset 23's Attention and
RotaryEmbedding computed in float64 with numpy, following the operator text (Attention: the pattern it draws, the
causal frontier j <= i + past, a fully masked row giving zeros) and the reference code it gives (RotaryEmbedding).
Inputs: v(n, a, b)[i] = ((i * a) % 23) * 0.1 - b, as float32. Prints one line per case, "name {values}". Run with
Debian's /usr/bin/python3 (python3-numpy)."""
import numpy as np


def v(shape, a=37, b=1.1):
    n = int(np.prod(shape))
    return (((np.arange(n) * a) % 23) * 0.1 - b).astype(np.float32).reshape(shape).astype(np.float64)


def out(name, a):
    a = np.asarray(a, dtype=np.float64).astype(np.float32).ravel()
    print(name, "{" + ", ".join(repr(float(x)) + "f" for x in a) + "}")


def attention(q, k, v_, mask=None, causal=False, scale=None, softcap=0.0, past_k=None, past_v=None, mode=0, q_heads=None, kv_heads=None):
    three = q.ndim == 3
    if three:
        B, S, _ = q.shape
        q = q.reshape(B, S, q_heads, -1).transpose(0, 2, 1, 3)
        k = k.reshape(B, k.shape[1], kv_heads, -1).transpose(0, 2, 1, 3)
        v_ = v_.reshape(B, v_.shape[1], kv_heads, -1).transpose(0, 2, 1, 3)
    if past_k is not None:
        k = np.concatenate([past_k, k], axis=2)
        v_ = np.concatenate([past_v, v_], axis=2)
    present_k, present_v = k, v_
    qh, kh = q.shape[1], k.shape[1]
    if qh != kh:
        k = np.repeat(k, qh // kh, axis=1)
        v_ = np.repeat(v_, qh // kh, axis=1)
    d = q.shape[3]
    if scale is None:
        scale = 1 / np.sqrt(d)
    s = (q * np.sqrt(scale)) @ np.swapaxes(k * np.sqrt(scale), 2, 3)
    qk = s
    if softcap > 0:
        s = softcap * np.tanh(s / softcap)
    if mode == 1:
        qk = s
    bias = np.zeros(s.shape[2:])
    if mask is not None:
        bias = bias + (np.where(mask, 0.0, -np.inf) if mask.dtype == bool else mask)
    if causal:
        past = 0 if past_k is None else past_k.shape[2]
        i = np.arange(s.shape[2])[:, None]
        j = np.arange(s.shape[3])[None, :]
        bias = bias + np.where(j <= i + past, 0.0, -np.inf)
    s = s + bias
    if mode == 2:
        qk = s
    m = s.max(axis=-1, keepdims=True)
    full = np.isneginf(m)
    e = np.exp(s - np.where(full, 0, m))
    p = np.where(full, 0.0, e / np.where(full, 1, e.sum(axis=-1, keepdims=True)))
    if mode == 3:
        qk = p
    y = p @ v_
    if three:
        y = y.transpose(0, 2, 1, 3).reshape(y.shape[0], y.shape[2], -1)
    return y, present_k, present_v, qk


def rotary(x, cos, sin, pos=None, interleaved=False, dim=0, num_heads=0):
    shape = x.shape
    if x.ndim == 4:
        x = np.transpose(x, (0, 2, 1, 3))
    else:
        x = x.reshape(shape[0], shape[1], num_heads, -1)
    d = x.shape[3]
    dim = dim or d
    xr, xp = x[..., :dim], x[..., dim:]
    if pos is not None:
        cos, sin = cos[pos], sin[pos]
    cos, sin = cos[:, :, None, :], sin[:, :, None, :]
    if interleaved:
        x1, x2 = xr[..., 0::2], xr[..., 1::2]
    else:
        x1, x2 = np.split(xr, 2, axis=-1)
    real, imag = cos * x1 - sin * x2, sin * x1 + cos * x2
    if interleaved:
        xr = np.concatenate([real[..., None], imag[..., None]], axis=-1).reshape(xr.shape)
    else:
        xr = np.concatenate([real, imag], axis=-1)
    y = np.concatenate([xr, xp], axis=-1)
    return y.reshape(shape) if len(shape) == 3 else np.transpose(y, (0, 2, 1, 3))


q, k, vv = v((2, 2, 3, 4)), v((2, 2, 5, 4), 29, 0.9), v((2, 2, 5, 4), 31, 1.3)
out("mha", attention(q, k, vv)[0])
q, k, vv = v((1, 4, 3, 4)), v((1, 2, 3, 4), 29, 0.9), v((1, 2, 3, 4), 31, 1.3)
pk, pv = v((1, 2, 2, 4), 19, 1.0), v((1, 2, 2, 4), 17, 0.7)
y, kk, vk, _ = attention(q, k, vv, causal=True, past_k=pk, past_v=pv)
out("gqa_causal_past_y", y)
out("gqa_causal_past_present_key", kk)
out("gqa_causal_past_present_value", vk)
q, k, vv = v((2, 3, 8)), v((2, 4, 4), 29, 0.9), v((2, 4, 4), 31, 1.3)
mask = np.array([[True, False, True, True], [False, False, False, False], [True, True, False, True]])
y, _, _, qk = attention(q, k, vv, mask=mask, scale=0.3, softcap=2.0, mode=3, q_heads=2, kv_heads=1)
out("mqa_3d_bool_y", y)
out("mqa_3d_bool_qk3", qk)
q, k, vv = v((1, 2, 3, 4)), v((1, 2, 4, 4), 29, 0.9), v((1, 2, 4, 4), 31, 1.3)
fmask = v((3, 4), 13, 0.8)
for mode in (0, 1, 2):
    y, _, _, qk = attention(q, k, vv, mask=fmask, softcap=1.5, mode=mode)
    out("float_mask_qk%d" % mode, qk)
out("float_mask_y", y)
x = v((2, 2, 3, 4))
cos, sin = np.cos(v((5, 2), 7, 0.5)), np.sin(v((5, 2), 7, 0.5))
pos = np.array([[0, 1, 2], [4, 3, 2]])
out("rope_4d", rotary(x, cos, sin, pos))
x = v((2, 3, 12), 41, 1.0)
cos, sin = np.cos(v((2, 3, 2), 11, 0.4)), np.sin(v((2, 3, 2), 11, 0.4))
out("rope_3d_interleaved_partial", rotary(x, cos, sin, None, interleaved=True, dim=4, num_heads=2))
