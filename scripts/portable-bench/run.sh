#!/usr/bin/env bash
# Runs the ResNet "compiled plan vs ONNX Runtime Java" JMH rounds (what
# `scripts/bench --quick --rounds N --only round --threads 2` runs) on a machine without Java,
# Maven or network, from target/portable-bench/bundle.tar.xz (built by scripts/portable-bench/make.sh;
# copy the repository with that file to the machine).
#
# usage, from the repository root:  scripts/portable-bench/run.sh ROUNDS OUTDIR
# Environment: PDNN_PYTHON (default python3, or /opt/torch/.venv/bin/python3 when python3 lacks torch;
#   needs torch and torchvision),
#   PDNN_CPUS (default: CPU 2 and the next CPU on another physical core; both runtimes are pinned to them),
#   PDNN_ONLY (default round: the BenchMain --only filter, e.g. 'round|no-winograd'),
#   PDNN_BUNDLE (default target/portable-bench/bundle.tar.xz),
#   PDNN_BUNDLE_DIR (default /tmp/pdnn-bundle: where the bundle is unpacked),
#   PDNN_CACHE_DIR (default ~/.cache/panama-dnn: where the ONNX models go, resnet-<hash>/).
set -euo pipefail
log() { echo "[run.sh $(date +%H:%M:%S)] $*" >&2; }
die() { echo "[run.sh] error: $*" >&2; exit 1; }

[ $# -eq 2 ] || die "usage: scripts/portable-bench/run.sh ROUNDS OUTDIR (from the repository root)"
ROUNDS=$1 OUT=$2
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive integer, got '$ROUNDS'"
ROOT=$(pwd)
[ -f scripts/goldens/export_resnet.py ] && [ -f scripts/goldens/goldens_io.py ] \
  || die "run from the repository root (no scripts/goldens/export_resnet.py under $ROOT)"
TARBALL="${PDNN_BUNDLE:-$ROOT/target/portable-bench/bundle.tar.xz}"
[ -f "$TARBALL" ] || die "no $TARBALL (run scripts/portable-bench/make.sh on the build machine)"
PY="${PDNN_PYTHON:-python3}"
# The bare machine's torch lives in a venv that may not be on PATH.
if [ -z "${PDNN_PYTHON:-}" ] && ! python3 -c 'import torch, torchvision' >/dev/null 2>&1 && [ -x /opt/torch/.venv/bin/python3 ]; then
  PY=/opt/torch/.venv/bin/python3
fi
if [ -n "${PDNN_CPUS:-}" ]; then
  CPUS=$PDNN_CPUS
else   # CPU 2 and the next CPU that is not its SMT sibling (distinct physical cores)
  SIB=$(cat /sys/devices/system/cpu/cpu2/topology/thread_siblings_list 2>/dev/null || echo 2)
  CPUS=2
  for c in $(seq 3 $(( $(nproc) - 1 ))); do
    if ! python3 -c "import sys; s=sys.argv[1]; ids=set(); [ids.update(range(int(a.split('-')[0]), int(a.split('-')[-1])+1)) for a in s.split(',')]; sys.exit(0 if int(sys.argv[2]) in ids else 1)" "$SIB" "$c" 2>/dev/null; then
      CPUS="2,$c"; break
    fi
  done
fi
BDIR="${PDNN_BUNDLE_DIR:-/tmp/pdnn-bundle}"
export PDNN_CACHE_DIR="${PDNN_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/panama-dnn}"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
command -v taskset >/dev/null || die "taskset (util-linux) not found"
command -v "$PY" >/dev/null || die "python '$PY' not found (set PDNN_PYTHON)"

# ---- 1. the bundle ----
log "unpacking $TARBALL ($(du -h "$TARBALL" | cut -f1)) into $BDIR"
rm -rf "$BDIR"
mkdir -p "$BDIR"
xz -dc "$TARBALL" | tar -C "$BDIR" --strip-components=1 -xf -
(cd "$BDIR" && sha256sum --quiet -c SHA256SUMS) || die "the unpacked bundle does not match its SHA256SUMS"
JAVA="$BDIR/jre/bin/java"
"$JAVA" -version >/dev/null 2>&1 || die "the bundled Java runtime does not start ($JAVA -version)"
sed 's/^/  /' "$BDIR/BUILD-INFO" >&2
CP=$(tr ':' '\n' < "$BDIR/classpath" | sed "s#^#$BDIR/#" | paste -sd: -)

# ---- 2. the machine ----
log "machine"
echo "== lscpu"; lscpu
echo "== lscpu -e"; lscpu -e=CPU,CORE,SOCKET,NODE,ONLINE 2>/dev/null || true
echo "== nproc: $(nproc)"
IFS=, read -r -a CPU_LIST <<< "$CPUS"
for c in "${CPU_LIST[@]}"; do
  [ -d "/sys/devices/system/cpu/cpu$c" ] && [ "$(cat "/sys/devices/system/cpu/cpu$c/online" 2>/dev/null || echo 1)" = 1 ] \
    || die "CPU $c (PDNN_CPUS=$CPUS) is not online"
done
CORES=$(for c in "${CPU_LIST[@]}"; do
  echo "$(cat /sys/devices/system/cpu/cpu$c/topology/physical_package_id 2>/dev/null):$(cat /sys/devices/system/cpu/cpu$c/topology/core_id 2>/dev/null)"
done | sort -u | wc -l)
[ "$CORES" -eq "${#CPU_LIST[@]}" ] || log "WARNING: CPUs $CPUS share physical cores (SMT siblings: $(for c in "${CPU_LIST[@]}"; do
  cat /sys/devices/system/cpu/cpu$c/topology/thread_siblings_list; done | sort -u | paste -sd' ' -)); set PDNN_CPUS to CPUs on distinct cores"
PYVER=$("$PY" -c 'import sys, torch, torchvision
try:
    import onnx; o = onnx.__version__
except ImportError:
    o = "not installed"
print("python %s, torch %s, torchvision %s, onnx %s" % (sys.version.split()[0], torch.__version__, torchvision.__version__, o))') \
  || die "$PY cannot import torch and torchvision"
echo "== $PY: $PYVER"

{
  echo "CPU: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores online, pinned to CPUs $CPUS (taskset)$(lscpu | sed -n 's/^Hypervisor vendor: *//p' | sed 's/^\(.\)/, VM on \1/')"
  echo "SIMD flags: $(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx2|fma|avx512f|avx512_vnni|avx512_bf16|amx_tile)$' | tr '\n' ' ')"
  echo "Topology: $(lscpu | sed -n 's/^Thread(s) per core: *//p') threads/core, $(lscpu | sed -n 's/^Core(s) per socket: *//p') cores/socket, $(lscpu | sed -n 's/^Socket(s): *//p') socket(s); CPUs $CPUS on $CORES distinct core(s)"
  echo "JDK: $("$JAVA" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.vm.vendor = //p') $("$JAVA" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.runtime.version = //p') (jlink'ed: $(cat "$BDIR/jlink-modules"))"
  echo "Natives (FFM): $BDIR/natives ($(grep -v '^#' "$BDIR/natives/natives.manifest" | awk -F'|' 'NF >= 2 {print $1 " " $2}' | paste -sd, - | sed 's/,/, /g'))"
  echo "ONNX Runtime Java: $(ls "$BDIR/lib" | grep -m1 '^onnxruntime-.*\.jar$' | sed 's/\.jar$//') (linux-x64 natives of the Maven Central jar)"
  echo "Model export: $PYVER"
  echo "Bundle: $(head -2 "$BDIR/BUILD-INFO" | paste -sd' ' -)"
} > "$OUT/machine.txt"
cat "$OUT/machine.txt"

# ---- 3. the models (OnnxRuntimeResNetBenchmark: $PDNN_CACHE_DIR/resnet-<sha256 of the scripts>) ----
HASH=$(cat scripts/goldens/export_resnet.py scripts/goldens/goldens_io.py | sha256sum | cut -c1-12)
MODELS="$PDNN_CACHE_DIR/resnet-$HASH"
if [ -f "$MODELS/resnet18.onnx" ] && [ -f "$MODELS/resnet50.onnx" ]; then
  log "models already in $MODELS"
else
  log "exporting ResNet-18 and ResNet-50 into $MODELS ($PY scripts/goldens/export_resnet.py)"
  "$PY" scripts/goldens/export_resnet.py "$MODELS" --models resnet18,resnet50 || die "export_resnet.py failed"
fi
[ -f "$MODELS/resnet18.onnx" ] && [ -f "$MODELS/resnet50.onnx" ] || die "no resnet18.onnx / resnet50.onnx in $MODELS"
ls -la "$MODELS" >&2

# ---- 4. the rounds ----
# PANAMADNN_NATIVES_DIR (and the property) make the JVM and every JMH fork load the bundled
# natives only; the C harnesses are not used (no --c-results / --c-layer-harness).
export PANAMADNN_NATIVES_DIR="$BDIR/natives"
unset JAVA_TOOL_OPTIONS JDK_JAVA_OPTIONS _JAVA_OPTIONS
JAVA_FLAGS=(--enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -Dpanamadnn.threads=2 -Djava.awt.headless=true
  -Dstdout.encoding=UTF-8 -Dstderr.encoding=UTF-8 -Dpanamadnn.natives.dir="$BDIR/natives" -Dpdnn.cache.dir="$PDNN_CACHE_DIR")
ARGS=(--profile quick --out "$OUT" --threads 2 --rounds "$ROUNDS" --only "${PDNN_ONLY:-round}" --machine "$OUT/machine.txt")
log "natives the JVM loads (pinned to CPUs $CPUS):"
taskset -c "$CPUS" "$JAVA" "${JAVA_FLAGS[@]}" -cp "$CP" dev.panamadnn.natives.Natives 2>&1 | grep -v 'WARNING: Using incubator' | tee "$OUT/natives.txt"
grep -q "EXPLICIT_DIRECTORY *$BDIR/natives/libdnnl.so" "$OUT/natives.txt" || die "the natives did not load from $BDIR/natives"
log "running BenchMain $ROUNDS round(s) pinned to CPUs $CPUS: taskset -c $CPUS java ... BenchMain ${ARGS[*]}"
set +e
taskset -c "$CPUS" "$JAVA" "${JAVA_FLAGS[@]}" -cp "$CP" dev.panamadnn.benchmarks.BenchMain "${ARGS[@]}" 2>&1 \
  | grep --line-buffered -v -e 'WARNING: Using incubator modules' -e 'WARNING: .*sun.misc.Unsafe' -e 'WARNING: Please consider reporting' \
  | while IFS= read -r line; do printf '[%s] %s\n' "$(date +%H:%M:%S)" "$line"; done | tee "$OUT/run.log"
RC=${PIPESTATUS[0]}
set -e
[ "$RC" -eq 0 ] || die "BenchMain exited with $RC (log: $OUT/run.log)"

# ---- 5. the results ----
for f in results.md results.json machine.txt; do [ -s "$OUT/$f" ] || die "BenchMain wrote no $OUT/$f"; done
JOBS=$(grep -cE '^\[[0-9:]+\] \[[0-9]+/[0-9]+\] ' "$OUT/run.log" || true)
SCORES=$(grep -cE '^\[[0-9:]+\] +[0-9.]+ [^ ]+ [0-9.]+ ms/op' "$OUT/run.log" || true)
! grep -q 'FAILED' "$OUT/run.log" || die "a job FAILED (see $OUT/run.log)"
TOTAL=$(grep -oE '\[1/[0-9]+\]' "$OUT/run.log" | head -1 | sed 's#.*/##; s#\]##')
[ -n "$TOTAL" ] && [ "$JOBS" -eq "$TOTAL" ] && [ "$JOBS" -ge $((8 * ROUNDS)) ] || die "expected ${TOTAL:-?} (>= $((8 * ROUNDS))) jobs, the log shows $JOBS"
[ "$SCORES" -eq "$JOBS" ] || die "only $SCORES of $JOBS jobs produced a score (a failing JMH fork prints nothing: see $OUT/run.log)"
log "done: $JOBS jobs; results in $OUT (results.md, results.json, machine.txt, natives.txt, run.log)"
