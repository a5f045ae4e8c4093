"""Shared writer of PyTorch goldens in the safetensors format, for every generate_*.py here.

One file per layer family. Each case is a set of tensors named "<case>/<key>":
  <case>/input, <case>/output, and <case>/param:<state_dict name> for each parameter/buffer;
plus extra tensors a family needs (e.g. <case>/k). The header's __metadata__ holds
  "cases": the case names, comma-separated, in generation order, and
  "<case>": the case's spec, a free-form "Layer key=value key=value" string the Java test parses,
  "<case>/order": the case's tensor keys in the order given (a state_dict's order), since the
  header itself lists names sorted.
The format is written here with struct+json (the `safetensors` package is not installable
here), independently of the Java reader it feeds: the Java tests read these files with
dev.panamadnn.SafeTensors, so they also exercise that reader on PyTorch-produced data.
Run the generators with Debian's /usr/bin/python3 (torch 1.13).
"""
import json
import os
import struct

import torch


def _bytes(t):
    """(safetensors dtype, little-endian bytes): int64 tensors (e.g. BatchNorm's num_batches_tracked)
    stay I64 as in a PyTorch state_dict; everything else is stored as F32."""
    t = t.detach().contiguous().to("cpu")
    if t.dtype == torch.int64:
        return "I64", t.numpy().astype("<i8").tobytes()
    return "F32", t.float().numpy().astype("<f4").tobytes()


def write_goldens(path, cases):
    """cases: list of (name, spec, {key: tensor}); tensors are stored as F32, int64 ones as I64."""
    header, blobs, offset, names = {}, [], 0, []
    meta = {}
    for name, spec, tensors in cases:
        if "," in name or "/" in name:
            raise ValueError("case names may not contain ',' or '/': " + name)
        names.append(name)
        meta[name] = spec
        meta[name + "/order"] = ",".join(tensors.keys())   # the given (e.g. state_dict) order
        for key, t in tensors.items():
            dtype, raw = _bytes(t)
            full = name + "/" + key
            if full in header:
                raise ValueError("duplicate tensor " + full)
            header[full] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
            blobs.append(raw)
            offset += len(raw)
    meta["cases"] = ",".join(names)
    header["__metadata__"] = meta
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def write_safetensors(path, tensors, metadata=None):
    """A plain safetensors file: {name: tensor} under their own names (e.g. a model's state_dict,
    so the Java side can load it with the strict SafeTensors.load), keys sorted as the reference
    writer does; int64 tensors (num_batches_tracked, labels) as I64, everything else as F32.
    metadata: optional {str: str} for __metadata__. Written to path + ".tmp", then renamed, so a
    reader never sees a half-written file. (One writer for state_dicts, test splits and goldens.)"""
    header, blobs, offset = {}, [], 0
    for key in sorted(tensors):
        dtype, raw = _bytes(tensors[key])
        header[key] = {"dtype": dtype, "shape": list(tensors[key].shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)
