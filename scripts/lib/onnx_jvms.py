#!/usr/bin/python3
"""Combines `scripts/bench --onnx --jvms K`: the onnx.tsv of each fresh JVM (DIR/jvm1 .. DIR/jvmK) into DIR/onnx-jvms.md.

Per pair: each JVM's median ratio (ORT time / ours, median of its rounds), their median, and each JVM's median ORT and
our times, so that a runtime's modes (this VM puts a 2-thread team into a slower mode in some JVMs) show as they are.
"""
import csv
import statistics
import sys
from pathlib import Path


def main(out: Path, k: int) -> None:
    runs = []
    for j in range(1, k + 1):
        rows = {}
        with open(out / f"jvm{j}" / "onnx.tsv") as f:
            for r in csv.DictReader(f, delimiter="\t"):
                rows.setdefault((r["model"], int(r["batch"])), []).append((float(r["ours_ms"]), float(r["ort_ms"]), float(r["ratio"])))
        runs.append(rows)
    pairs = [p for p in runs[0] if all(p in r for r in runs)]
    pairs.sort(key=lambda p: (p[1], list(runs[0]).index(p)))
    lines = [f"# ONNX models vs ONNX Runtime Java over {k} fresh JVMs\n",
             "Each JVM runs the whole job (alternating rounds, as `onnx.md` describes); per pair: each JVM's median ratio "
             "(ORT time / ours), the median of those, and each JVM's median times (ours / ORT, ms).\n",
             "| model | batch | ratio per JVM | **median over JVMs** | ours / ORT ms per JVM |", "|---|---|---|---|---|"]
    medians = []
    for p in pairs:
        per = [statistics.median(x[2] for x in r[p]) for r in runs]
        times = [f"{statistics.median(x[0] for x in r[p]):.1f} / {statistics.median(x[1] for x in r[p]):.1f}" for r in runs]
        m = statistics.median(per)
        medians.append(m)
        lines.append(f"| {p[0]} | {p[1]} | {', '.join(f'{v:.2f}' for v in per)} | **{m:.2f}** | {'; '.join(times)} |")
    per_jvm = [statistics.median(statistics.median(x[2] for x in r[p]) for p in pairs) for r in runs]
    lines.append("")
    lines.append(f"Median over the pairs of the per-pair medians: **{statistics.median(medians):.2f}**; lowest {min(medians):.2f}. "
                 f"Each JVM's own median over the pairs: {', '.join(f'{v:.2f}' for v in per_jvm)}.")
    (out / "onnx-jvms.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]))
