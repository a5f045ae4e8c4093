#!/usr/bin/python3
"""PyTorch goldens for the layers of dev.panamadnn.nn (Linear, activations, Softmax, Flatten, Sequential).

Regenerate (from the repository root; needs PyTorch, e.g. Debian's python3-torch 1.13):

    /usr/bin/python3 scripts/goldens/generate_layers.py

It rewrites java-api/src/test/resources/goldens/layers.safetensors: deterministic (fixed seeds,
CPU, float32), so an unchanged PyTorch gives a byte-identical file.

Format: goldens_io.write_goldens (read by java-api/src/test/java/dev/panamadnn/nn/Goldens.java
through GoldenFile). Per case: <case>/param:<state_dict name> for each parameter, in state_dict
order (write_goldens lays the tensors out in the order given, which is how the Java side recovers
PyTorch's order), <case>/input and <case>/output; the case's metadata is its module <spec>, e.g.
Linear(in_features=5,out_features=3,bias=true).
<spec> grammar:  module := Name "(" [arg ("," arg)*] ")";  arg := key "=" value | module;
                 value := module | atom  (numbers, true/false, bare words like tanh)
A Linear with a fused activation ("activation=ReLU()") has no PyTorch module of its own: its
golden is nn.Sequential(Linear, activation), saved under the Linear's names (weight, bias).
"""
import os

import torch
from torch import nn

from goldens_io import write_goldens

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "java-api", "src", "test", "resources", "goldens", "layers.safetensors")


def fmt(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    return repr(v)


def spec(m):
    """The one-line spec of a torch module (the grammar above)."""
    if isinstance(m, nn.Linear):
        return f"Linear(in_features={m.in_features},out_features={m.out_features},bias={fmt(m.bias is not None)})"
    if isinstance(m, nn.LeakyReLU):
        return f"LeakyReLU(negative_slope={fmt(m.negative_slope)})"
    if isinstance(m, nn.ELU):
        return f"ELU(alpha={fmt(m.alpha)})"
    if isinstance(m, nn.GELU):
        return f"GELU(approximate={m.approximate})"
    if isinstance(m, (nn.ReLU, nn.Sigmoid, nn.Tanh, nn.SiLU)):
        return type(m).__name__ + "()"
    if isinstance(m, nn.Softmax):
        return f"Softmax(dim={m.dim})"
    if isinstance(m, nn.Flatten):
        return f"Flatten(start_dim={m.start_dim},end_dim={m.end_dim})"
    if isinstance(m, nn.Sequential):
        return "Sequential(" + ",".join(spec(c) for c in m) + ")"
    raise TypeError(type(m))


CASES = []


def case(name, module, input_shape, seed, scale=1.0, module_spec=None, state=None):
    """Builds the module under a fixed seed, runs it, and records state_dict, input and output."""
    CASES.append((name, module, input_shape, seed, scale, module_spec, state))


def write_all():
    out = []
    for name, make, input_shape, seed, scale, module_spec, state in CASES:
        torch.manual_seed(seed)
        module = make()
        module.eval()
        gen = torch.Generator().manual_seed(seed + 1000)
        x = torch.randn(*input_shape, generator=gen, dtype=torch.float32) * scale
        with torch.no_grad():
            y = module(x)
        sd = state(module) if state else module.state_dict()
        tensors = {"param:" + k: v for k, v in sd.items()}
        tensors["input"], tensors["output"] = x, y
        for key, t in tensors.items():
            if t.dtype != torch.float32:
                raise TypeError(f"{name}: {key} is {t.dtype}; these goldens are float32 only")
        out.append((name, module_spec or spec(module), tensors))
    write_goldens(OUT, out)
    print(f"{len(out)} cases written to {os.path.normpath(OUT)} ({os.path.getsize(OUT)} bytes) with torch {torch.__version__}")


def fused(inf, outf, bias, act):
    """Linear + activation as PyTorch computes it; spec and state_dict under the Linear's names."""
    make = lambda: nn.Sequential(nn.Linear(inf, outf, bias=bias), act())
    s = spec(nn.Linear(inf, outf, bias=bias))[:-1] + ",activation=" + spec(act()) + ")"
    state = lambda m: m[0].state_dict()
    return make, s, state


# Linear: odd sizes, batch 1 and > 1, bias on/off, input ranks 1 to 3, one larger case.
case("linear_b1_bias", lambda: nn.Linear(5, 3), (1, 5), 1)
case("linear_b7_bias", lambda: nn.Linear(13, 11), (7, 13), 2)
case("linear_b4_nobias", lambda: nn.Linear(9, 6, bias=False), (4, 9), 3)
case("linear_b1_nobias", lambda: nn.Linear(17, 1, bias=False), (1, 17), 4)
case("linear_rank1_input", lambda: nn.Linear(6, 4), (6,), 5)
case("linear_rank3_input", lambda: nn.Linear(8, 5), (2, 3, 8), 6)
case("linear_rank4_nobias", lambda: nn.Linear(3, 7, bias=False), (2, 1, 3, 3), 7)
case("linear_1x1", lambda: nn.Linear(1, 1), (3, 1), 8)
case("linear_large", lambda: nn.Linear(129, 67), (17, 129), 9)
case("linear_tall", lambda: nn.Linear(10, 3), (257, 10), 10)

# Linear with each fused activation.
ACTIVATIONS = [
    ("relu", nn.ReLU),
    ("leakyrelu", lambda: nn.LeakyReLU(0.2)),
    ("sigmoid", nn.Sigmoid),
    ("tanh", nn.Tanh),
    ("gelu", nn.GELU),
    ("gelu_tanh", lambda: nn.GELU(approximate="tanh")),
    ("silu", nn.SiLU),
    ("elu", lambda: nn.ELU(alpha=0.7)),
]
for i, (act_name, act) in enumerate(ACTIVATIONS):
    make, s, state = fused(11, 7, i % 3 != 2, act)
    case(f"linear_{act_name}_b5", make, (5, 11), 20 + i, module_spec=s, state=state)
make, s, state = fused(23, 9, True, nn.GELU)
case("linear_gelu_b1", make, (1, 23), 30, module_spec=s, state=state)

# Activation layers: several shapes, spread-out inputs (x3) to reach both tails.
LAYERS = [
    ("relu", nn.ReLU),
    ("leakyrelu_default", nn.LeakyReLU),
    ("leakyrelu_0.3", lambda: nn.LeakyReLU(0.3)),
    ("leakyrelu_negative", lambda: nn.LeakyReLU(-0.5)),
    ("sigmoid", nn.Sigmoid),
    ("tanh", nn.Tanh),
    ("gelu", nn.GELU),
    ("gelu_tanh", lambda: nn.GELU(approximate="tanh")),
    ("silu", nn.SiLU),
    ("elu_default", nn.ELU),
    ("elu_0.5", lambda: nn.ELU(alpha=0.5)),
]
SHAPES = [(3, 17), (2, 3, 5), (9,)]
for i, (layer_name, layer) in enumerate(LAYERS):
    for j, shape in enumerate(SHAPES):
        case(f"{layer_name}_{'x'.join(map(str, shape))}", layer, shape, 100 + 3 * i + j, scale=3.0)

# Softmax over different dims and ranks; one case with values far beyond exp's float range.
case("softmax_dim1_4x7", lambda: nn.Softmax(dim=1), (4, 7), 200)
case("softmax_dim0_4x7", lambda: nn.Softmax(dim=0), (4, 7), 201)
case("softmax_dimneg1_4x7", lambda: nn.Softmax(dim=-1), (4, 7), 202)
case("softmax_dim1_2x5x3", lambda: nn.Softmax(dim=1), (2, 5, 3), 203)
case("softmax_dimneg1_2x3x4x5", lambda: nn.Softmax(dim=-1), (2, 3, 4, 5), 204)
case("softmax_dim2_2x3x4x5", lambda: nn.Softmax(dim=2), (2, 3, 4, 5), 205)
case("softmax_dim0_rank1", lambda: nn.Softmax(dim=0), (6,), 206)
case("softmax_dim1_1x1", lambda: nn.Softmax(dim=1), (1, 1), 207)
case("softmax_huge_values", lambda: nn.Softmax(dim=1), (3, 11), 208, scale=60.0)

# Flatten.
case("flatten_default_2x3x4", nn.Flatten, (2, 3, 4), 300)
case("flatten_all_2x3x4", lambda: nn.Flatten(0, -1), (2, 3, 4), 301)
case("flatten_1to2_2x3x4x5", lambda: nn.Flatten(1, 2), (2, 3, 4, 5), 302)
case("flatten_neg3toneg2_2x3x4x5", lambda: nn.Flatten(-3, -2), (2, 3, 4, 5), 303)
case("flatten_same_dim", lambda: nn.Flatten(1, 1), (2, 3, 4), 304)

# Sequential, flat and nested (state_dict names like "1.0.weight", "3.0.0.bias").
case("sequential_mlp_b6", lambda: nn.Sequential(nn.Linear(10, 8), nn.ReLU(), nn.Linear(8, 4), nn.Softmax(dim=1)),
     (6, 10), 400)
case("sequential_mlp_b1", lambda: nn.Sequential(nn.Linear(7, 5), nn.Tanh(), nn.Linear(5, 3, bias=False)), (1, 7), 401)
case("sequential_nested",
     lambda: nn.Sequential(nn.Flatten(), nn.Sequential(nn.Linear(12, 9), nn.GELU()), nn.Linear(9, 5, bias=False),
                           nn.Sequential(nn.Sequential(nn.Linear(5, 3)), nn.SiLU()), nn.Softmax(dim=-1)),
     (4, 3, 4), 402)
case("sequential_ends_with_flatten",
     lambda: nn.Sequential(nn.Linear(4, 6), nn.LeakyReLU(0.1), nn.Flatten(0, -1)), (2, 3, 4), 403)

if __name__ == "__main__":
    write_all()
