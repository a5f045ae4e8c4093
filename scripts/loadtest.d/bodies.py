#!/usr/bin/env python3
"""Writes the request bodies scripts/loadtest posts with wrk (standard library only).

    bodies.py OUT_DIR INPUT_NAME SHAPE ROWS
SHAPE is one sample's shape, comma-separated (digits: 1,8,8). Writes into OUT_DIR:
  json.body      the Open Inference Protocol JSON request for ROWS samples
  binary.body    the same tensor with the binary tensor data extension (JSON header + little-endian
                 FP32); binary.len holds the header length (Inference-Header-Content-Length)
  invalid-N.body requests a client may get wrong (malformed JSON, wrong name, dtype, shape, data
                 length, NaN in binary data, a header length that lies), each answered with a 4xx
The values are a fixed pattern in [0, 1] (the same every run), not real images.
"""
import json
import math
import os
import struct
import sys


def main():
    out, name, shape, rows = sys.argv[1], sys.argv[2], [int(d) for d in sys.argv[3].split(",")], int(sys.argv[4])
    os.makedirs(out, exist_ok=True)
    count = rows * math.prod(shape)
    data = [((i * 7) % 17) / 16 for i in range(count)]
    full = [rows] + shape

    def request(inputs, **extra):
        body = {"inputs": inputs}
        body.update(extra)
        return json.dumps(body, separators=(",", ":")).encode()

    def tensor(**over):
        t = {"name": name, "shape": full, "datatype": "FP32", "data": data}
        t.update(over)
        return t

    write(out, "json.body", request([tensor()]))
    header = request([{"name": name, "shape": full, "datatype": "FP32", "parameters": {"binary_data_size": 4 * count}}])
    write(out, "binary.body", header + struct.pack("<%df" % count, *data))
    write(out, "binary.len", str(len(header)).encode())
    nan = list(data)
    nan[count // 2] = float("nan")
    invalid = [
        b'{"inputs": [',                                                    # malformed JSON
        request([tensor(name="not-" + name)]),                              # unknown input
        request([tensor(datatype="INT64")]),                                # wrong datatype
        request([tensor(shape=[rows] + shape + [1])]),                      # wrong rank
        request([tensor(data=data[:-1])]),                                  # data shorter than the shape
        request([tensor(data=["x"] + data[1:])]),                           # a string element
        request([]),                                                        # no inputs
        b"hello",                                                           # not JSON
        header + struct.pack("<%df" % count, *nan),                         # NaN in binary data (sent with its header length)
        header + b"\0" * 8,                                                 # binary bytes missing
    ]
    for i, body in enumerate(invalid):
        write(out, "invalid-%d.body" % i, body)
    write(out, "invalid.count", str(len(invalid)).encode())


def write(out, file, data):
    with open(os.path.join(out, file), "wb") as f:
        f.write(data)


if __name__ == "__main__":
    main()
