#!/usr/bin/python3
"""Exports small networks built from the blocks of torchvision's ConvNeXt, ViT, Swin, LR-ASPP, DeepLabV3 and the video ResNets to ONNX,
with PyTorch's outputs as goldens.

Run with Debian's /usr/bin/python3 (python3-torch 1.13):
    /usr/bin/python3 scripts/goldens/export_onnx_block_models.py OUT_DIR
Writes into OUT_DIR (produced at test time into a cache by onnx/ OnnxBlockModelsTest, never committed):
  convnext.opset13.onnx, convnext.opset17.onnx   ConvNeXt blocks: depthwise 7x7 conv, permute to channels-last,
                                                 LayerNorm over channels (opset 13: ReduceMean/Sub/Pow/Sqrt/Div as
                                                 torch decomposes it; 17: LayerNormalization), Linear, GELU, Linear,
                                                 layer scale, permute back, residual; a LayerNorm2d downsampling
                                                 (permute, LayerNorm, permute, 2x2 stride-2 conv); pool, Linear
  vit.opset13.onnx, vit.opset17.onnx             ViT: 8x8 patch embedding conv, class token, position embedding,
                                                 two nn.TransformerEncoderLayer (batch_first, norm_first, GELU; torch
                                                 exports its attention sequence-first: [L, N, E] x [E, 3E] products),
                                                 LayerNorm, the class token's Linear head
  lraspp.opset13.onnx, lraspp.opset17.onnx       LR-ASPP's head: a small conv backbone (stride 8), the squeeze branch
                                                 (global pool, 1x1 conv, sigmoid) scaling the 1x1-conv branch, bilinear
                                                 resize (half_pixel) to the input's size
  padded.opset13.onnx, padded.opset17.onnx       convolutions with windows wholly in the padding: DeepLabV3's ASPP
                                                 (3x3 dilated 24 over 14x14, BatchNorm, ReLU), padding 4 around a 3x3
                                                 kernel, and a strided one dilated (24, 18)
  video.opset13.onnx, video.opset17.onnx         a video ResNet in small: 3-D convolutions (BatchNorm3d, ReLU, a residual,
                                                 a grouped strided one), MaxPool3d with padding, AvgPool3d with
                                                 ceil_mode, global average pooling, on [N, 3, 4, 16, 16]
  pads.opset13.onnx, pads.opset17.onnx           zero Pads before a Conv (asymmetric) and before Inception's
                                                 AveragePool (count_include_pad), and one before a pooling that
                                                 does not count its own padding
  lrn.opset13.onnx, lrn.opset17.onnx             LocalResponseNorm between two convolutions (torch writes an If on a fixed dim)
  causal.opset17.onnx                            a decoder block: torch.triu's bool causal mask (Trilu of BOOL), pre-norm
                                                 encoder layer, log_softmax over 24 classes with one dominating
  swin.opset13.onnx, swin.opset17.onnx           torchvision's SwinTransformer in small (embed 16, depths [2, 2], heads
                                                 [2, 2], window 4) on 32x32: shifted windows
  blocks.goldens.safetensors                     for each model M: M_input_b1, M_output_b1, M_input_b2, M_output_b2
All with a dynamic batch axis, input "input" and output "output"; weights are PyTorch's own random
initialisation under torch.manual_seed(SEED), the ViT's class token and position embedding drawn too (torchvision
starts them at zero). The goldens file is written last (each file to a .tmp, then renamed): if it exists, the rest do.
"""
import os
import sys

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from goldens_io import write_safetensors  # noqa: E402

SEED = 20261205
OPSETS = (13, 17)


class Permute(nn.Module):
    def __init__(self, *dims):
        super().__init__()
        self.dims = dims

    def forward(self, x):
        return x.permute(*self.dims)


class LayerNorm2d(nn.LayerNorm):
    def forward(self, x):
        return F.layer_norm(x.permute(0, 2, 3, 1), self.normalized_shape, self.weight, self.bias, self.eps).permute(0, 3, 1, 2)


class ConvNeXtBlock(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.block = nn.Sequential(nn.Conv2d(dim, dim, 7, padding=3, groups=dim), Permute(0, 2, 3, 1), nn.LayerNorm(dim, eps=1e-6),
                                   nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim), Permute(0, 3, 1, 2))
        self.layer_scale = nn.Parameter(torch.rand(dim, 1, 1) + 0.5)

    def forward(self, x):
        return x + self.layer_scale * self.block(x)


class ConvNeXt(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 4, stride=4), LayerNorm2d(16, eps=1e-6))
        self.stage1 = nn.Sequential(ConvNeXtBlock(16), ConvNeXtBlock(16))
        self.down = nn.Sequential(LayerNorm2d(16, eps=1e-6), nn.Conv2d(16, 32, 2, stride=2))
        self.stage2 = ConvNeXtBlock(32)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 10))

    def forward(self, x):
        return self.head(self.stage2(self.down(self.stage1(self.stem(x)))))


class ViT(nn.Module):
    def __init__(self, dim=32, patch=8, image=32):
        super().__init__()
        self.patch = nn.Conv2d(3, dim, patch, stride=patch)
        tokens = (image // patch) ** 2 + 1
        self.cls = nn.Parameter(torch.randn(1, 1, dim) * 0.5)
        self.pos = nn.Parameter(torch.randn(1, tokens, dim) * 0.1)
        self.layers = nn.Sequential(*[nn.TransformerEncoderLayer(dim, 4, 64, dropout=0.0, activation="gelu", batch_first=True,
                                                                 norm_first=True) for _ in range(2)])
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, 10)

    def forward(self, x):
        n = x.shape[0]
        x = self.patch(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(n, -1, -1), x], dim=1) + self.pos
        return self.head(self.norm(self.layers(x))[:, 0])


class LRASPP(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(3, 16, 3, stride=2, padding=1), nn.Hardswish(), nn.Conv2d(16, 24, 3, stride=2, padding=1),
                                      nn.ReLU(), nn.Conv2d(24, 32, 3, stride=2, padding=1), nn.Hardswish())
        self.cbr = nn.Sequential(nn.Conv2d(32, 16, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
        self.scale = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(32, 16, 1, bias=False), nn.Sigmoid())
        self.classifier = nn.Conv2d(16, 5, 1)

    def forward(self, x):
        f = self.backbone(x)
        y = self.classifier(self.cbr(f) * self.scale(f))
        return F.interpolate(y, size=x.shape[-2:], mode="bilinear", align_corners=False)


class Padded(nn.Module):
    """DeepLabV3's ASPP geometry: a 3x3 convolution dilated 24 over a 14x14 input (only its centre tap reads the
    input), beside one whose padding (4) is wider than its kernel: windows wholly in the padding, both."""

    def __init__(self):
        super().__init__()
        self.aspp = nn.Sequential(nn.Conv2d(8, 6, 3, padding=24, dilation=24, bias=False), nn.BatchNorm2d(6), nn.ReLU())
        self.wide = nn.Conv2d(8, 5, 3, padding=4)
        self.strided = nn.Conv2d(8, 3, 3, stride=2, padding=(24, 18), dilation=(24, 18))

    def forward(self, x):
        return torch.cat([self.aspp(x).flatten(1), self.wide(x).flatten(1), self.strided(x).flatten(1)], 1)


class Video(nn.Module):
    """torchvision's video ResNets (r3d_18) in small: a 3-D stem, a basic block with a residual, 3-D pooling."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv3d(3, 8, (3, 7, 7), stride=(1, 2, 2), padding=(1, 3, 3), bias=False), nn.BatchNorm3d(8), nn.ReLU())
        self.conv1 = nn.Sequential(nn.Conv3d(8, 8, 3, padding=1, bias=False), nn.BatchNorm3d(8), nn.ReLU())
        self.conv2 = nn.Sequential(nn.Conv3d(8, 8, 3, padding=1, bias=False), nn.BatchNorm3d(8))
        self.pool = nn.MaxPool3d(2, stride=2, padding=1)
        self.down = nn.Sequential(nn.Conv3d(8, 16, 1, stride=2, groups=2), nn.AvgPool3d((1, 2, 2), ceil_mode=True))
        self.head = nn.Sequential(nn.AdaptiveAvgPool3d(1), nn.Flatten(), nn.Linear(16, 7))

    def forward(self, x):
        x = self.stem(x)
        x = F.relu(self.conv2(self.conv1(x)) + x)
        return self.head(self.down(self.pool(x)))


class Pads(nn.Module):
    """Explicit zero pads as exporters write them: before a convolution (TensorFlow's asymmetric "same"), and
    Inception's pool branch (F.avg_pool2d(x, 3, 1, 1), exported as Pad + AveragePool); and one that must stay, before
    a pooling that pads itself without counting its padding."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(4, 6, 3)
        self.conv2 = nn.Conv2d(4, 5, 1)

    def forward(self, x):
        a = self.conv1(F.pad(x, (1, 2, 1, 0)))
        b = self.conv2(F.avg_pool2d(x, 3, stride=1, padding=1))
        c = F.avg_pool2d(F.pad(x, (1, 1, 1, 1)), 3, stride=1, padding=1, count_include_pad=False)
        return torch.cat([a.flatten(1), b.flatten(1), c.flatten(1)], 1)


def swin():
    """torchvision's Swin Transformer in small (2 stages of 2 blocks, window 4, shifted windows): the shifted-window
    mask torch exports as ScatterND over shape computations, Dropout with p = 0 in training mode, roll, patch merging."""
    from torchvision.models.swin_transformer import SwinTransformer
    return SwinTransformer(patch_size=[4, 4], embed_dim=16, depths=[2, 2], num_heads=[2, 2], window_size=[4, 4], num_classes=10)


class Causal(nn.Module):
    """A decoder-only language model's block on embedded tokens: the causal mask torch.triu of a bool matrix of the
    sequence length (ONNX Trilu of BOOL: opset 14+, so opset 17 only), a pre-norm encoder layer with it, and
    log_softmax over the vocabulary (LogSoftmax; one logit made to dominate per position, so log-probabilities near 0
    test its log)."""

    def __init__(self):
        super().__init__()
        self.layer = nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, batch_first=True, norm_first=True)
        self.head = nn.Linear(16, 24)

    def forward(self, x):
        L = x.shape[1]
        mask = torch.triu(torch.ones(L, L, dtype=torch.bool), diagonal=1)
        logits = self.head(self.layer(x, src_mask=mask))
        return F.log_softmax(logits + 12.0 * F.one_hot(torch.arange(L) % 24, 24), -1)


class LRN(nn.Module):
    """AlexNet-style local response normalization between convolutions: torch 1.13 exports nn.LocalResponseNorm as a
    Pad / AveragePool (3-D) / Pow decomposition with an If (Squeeze or Identity) on a dim of a fixed shape, which the
    importer takes as the branch its condition picks."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.lrn = nn.LocalResponseNorm(5, alpha=1e-2, beta=0.75, k=2.0)
        self.conv2 = nn.Conv2d(8, 4, 3, stride=2)

    def forward(self, x):
        return self.conv2(torch.relu(self.lrn(self.conv(x))))


MODELS = (("convnext", ConvNeXt, (3, 32, 32)), ("vit", ViT, (3, 32, 32)), ("lraspp", LRASPP, (3, 40, 56)), ("padded", Padded, (8, 14, 14)),
          ("video", Video, (3, 4, 16, 16)), ("pads", Pads, (4, 8, 8)), ("swin", swin, (3, 32, 32)), ("causal", Causal, (6, 16)),
          ("lrn", LRN, (3, 12, 12)))
ONLY = {"causal": (17,)}   # opsets where a model is not exported at both of OPSETS


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: export_onnx_block_models.py OUT_DIR")
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
    goldens = {}
    meta = {"producer": "scripts/goldens/export_onnx_block_models.py", "seed": str(SEED), "torch": torch.__version__}
    for i, (name, cls, shape) in enumerate(MODELS):
        torch.manual_seed(SEED + 10 * i)
        model = cls().eval()
        for m in model.modules():
            if isinstance(m, (nn.BatchNorm2d, nn.BatchNorm3d)):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 1.5)
        g = torch.Generator().manual_seed(SEED + 10 * i + 1)
        x1, x2 = torch.randn(1, *shape, generator=g), torch.randn(2, *shape, generator=g)
        with torch.no_grad():
            y1, y2 = model(x1), model(x2)
        for opset in ONLY.get(name, OPSETS):   # with autograd on, so the encoder layers take their math path (the fused one has no export)
            path = os.path.join(out_dir, "%s.opset%d.onnx" % (name, opset))
            torch.onnx.export(model, x2, path + ".tmp", opset_version=opset, input_names=["input"], output_names=["output"],
                              dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
            os.replace(path + ".tmp", path)
        goldens.update({name + "_input_b1": x1, name + "_output_b1": y1, name + "_input_b2": x2, name + "_output_b2": y2})
        print("%s: output max-abs %.4g" % (name, float(y2.abs().max())))
    write_safetensors(os.path.join(out_dir, "blocks.goldens.safetensors"), goldens, meta)
    print("written to", out_dir)


if __name__ == "__main__":
    main()
