#!/usr/bin/env bash
# Builds target/portable-bench/bundle.tar.xz: everything the ResNet "compiled plan vs ONNX Runtime Java" JMH
# rounds (scripts/bench --quick --only round) need on a bare x86-64 Linux box without Java, Maven
# or network: a jlink'ed JDK 25 runtime, the natives directory the loader uses, the benchmark
# classes and their runtime classpath (ONNX Runtime slimmed to linux-x64, the natives jar without
# its packaged copy of the libraries, the JavaCPP *-linux-x86_64 carriers left out: the JNI jobs
# are not part of the rounds). Run from anywhere; rebuilds with Maven first (offline).
#
# Environment: PDNN_BUNDLE_JDK (default /usr/lib/jvm/temurin-25-jdk-amd64),
#   PDNN_BUNDLE_NATIVES (a natives directory; default: the one the loader extracts from the jar),
#   PDNN_BUNDLE_SKIP_BUILD=1 (use the current target/ outputs as they are),
#   PDNN_BUNDLE_KEEP_JNI=1 (keep the JavaCPP linux-x86_64 jars; the bundle then exceeds 55 MiB).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
JDK="${PDNN_BUNDLE_JDK:-/usr/lib/jvm/temurin-25-jdk-amd64}"
OUTFILE="$ROOT/target/portable-bench/bundle.tar.xz"
mkdir -p "$(dirname "$OUTFILE")"
log() { echo "[make.sh] $*" >&2; }
die() { echo "[make.sh] error: $*" >&2; exit 1; }

[ -x "$JDK/bin/jlink" ] || die "no JDK with jlink at $JDK (set PDNN_BUNDLE_JDK)"
for tool in zip unzip xz sha256sum; do command -v "$tool" >/dev/null || die "$tool not found (apt-get install zip unzip xz-utils)"; done
export JAVA_HOME="$JDK" PATH="$JDK/bin:$PATH"
source "$ROOT/scripts/lib/common.sh"
pdnn_quiet_maven_on 25

cd "$ROOT"
if [ "${PDNN_BUNDLE_SKIP_BUILD:-0}" != 1 ]; then
  log "building the benchmarks module (mvn -o verify -DskipTests -pl benchmarks -am)"
  pdnn_mvn -o verify -DskipTests -pl benchmarks -am
fi
[ -f benchmarks/target/benchmark.classpath ] && [ -d benchmarks/target/classes ] || die "no benchmarks/target build output"

JAVA_FLAGS=(--enable-native-access=ALL-UNNAMED -Djava.awt.headless=true)
# The packaged natives (natives-<content id> under the cache), never native/build.
NATIVES="${PDNN_BUNDLE_NATIVES:-}"
if [ -z "$NATIVES" ]; then
  LIB=$(java "${JAVA_FLAGS[@]}" -Dpanamadnn.natives.sources=packaged -cp native/target/classes dev.panamadnn.natives.Natives 2>/dev/null \
    | awk '$1 == "libopenblas.so.0" { print $NF }')
  [ -f "$LIB" ] || die "could not find the packaged libopenblas.so.0 (java ... dev.panamadnn.natives.Natives)"
  NATIVES=$(dirname "$LIB")
fi
[ -f "$NATIVES/natives.manifest" ] || die "$NATIVES has no natives.manifest"
log "natives: $NATIVES"

STAGE="$ROOT/target/portable-bench/stage"
B="$STAGE/pdnn-bundle"
rm -rf "$STAGE"
mkdir -p "$B/lib" "$B/natives"
trap 'rm -rf "$STAGE"' EXIT

cp -a benchmarks/target/classes "$B/classes"
cp -L "$NATIVES"/* "$B/natives/"
chmod u+w "$B/natives"/*

# Repacks jar $1 into $2 without the entries matching the unzip patterns $3..., stored (xz
# compresses stored native libraries far better than deflated ones).
slim_jar() {
  local src="$1" dst="$2"; shift 2
  local tmp; tmp=$(mktemp -d)
  unzip -q "$src" -d "$tmp" -x "$@"
  (cd "$tmp" && rm -f "$dst" && { [ -f META-INF/MANIFEST.MF ] && zip -q -0 -X "$dst" META-INF/MANIFEST.MF || true; } \
    && zip -q -0 -X -r "$dst" . -x META-INF/MANIFEST.MF)
  rm -rf "$tmp"
}

CPLIST=()
LEFT_OUT=()
while IFS= read -r jar || [ -n "$jar" ]; do
  [ -n "$jar" ] || continue
  [ -f "$jar" ] || die "classpath entry missing: $jar"
  name=$(basename "$jar")
  [ ! -e "$B/lib/$name" ] || die "two classpath jars named $name"
  case "$name" in
    onnxruntime-*.jar)
      log "slimming $name to its classes + linux-x64 natives"
      slim_jar "$jar" "$B/lib/$name" 'ai/onnxruntime/native/linux-aarch64/*' 'ai/onnxruntime/native/osx-*' 'ai/onnxruntime/native/win-*'
      unzip -l "$B/lib/$name" | grep -q 'ai/onnxruntime/native/linux-x64/libonnxruntime.so' || die "slimmed $name lacks linux-x64/libonnxruntime.so"
      if unzip -Z1 "$B/lib/$name" | grep '^ai/onnxruntime/native/.' | grep -qv '^ai/onnxruntime/native/linux-x64/'; then
        die "slimmed $name still has other platforms' libraries"
      fi ;;
    panama-dnn-native-*.jar)
      log "slimming $name (the libraries travel in natives/, loaded through panamadnn.natives.dir)"
      slim_jar "$jar" "$B/lib/$name" 'dev/panamadnn/natives/linux-x86_64/*.so*' ;;
    *-linux-x86_64.jar)
      if [ "${PDNN_BUNDLE_KEEP_JNI:-0}" = 1 ]; then cp "$jar" "$B/lib/"; else LEFT_OUT+=("$name"); continue; fi ;;
    *) cp "$jar" "$B/lib/" ;;
  esac
  CPLIST+=("lib/$name")
done < <(tr ':' '\n' < benchmarks/target/benchmark.classpath)
[ ${#LEFT_OUT[@]} -eq 0 ] || log "left out (JNI carriers, not used by the rounds): ${LEFT_OUT[*]}"
(IFS=:; echo "classes:${CPLIST[*]}") > "$B/classpath"

# The modules: what jdeps sees in the classes and jars, plus what is reached reflectively (JMH's
# GC profiler: java.management / jdk.management; Unsafe: jdk.unsupported; the Vector API), minus
# java.desktop (only BarChart, the PNG charts, which a rounds-only run does not draw).
CP_ABS="$ROOT/benchmarks/target/classes:$(cat benchmarks/target/benchmark.classpath)"
DEPS=$(jdeps -q --multi-release 25 --ignore-missing-deps --print-module-deps \
  --class-path "$CP_ABS" benchmarks/target/classes $(tr ':' ' ' < benchmarks/target/benchmark.classpath) 2>/dev/null | tail -1)
[ -n "$DEPS" ] || die "jdeps printed no modules"
log "jdeps: $DEPS"
MODULES=$( { tr ',' '\n' <<< "$DEPS"; printf '%s\n' java.base jdk.incubator.vector java.management jdk.management jdk.unsupported; } \
  | grep -vx -e java.desktop -e '' | sort -u | paste -sd, -)
log "jlink modules: $MODULES"
jlink --add-modules "$MODULES" --strip-debug --no-man-pages --no-header-files --compress=zip-0 --output "$B/jre"
printf '%s\n' "$MODULES" > "$B/jlink-modules"

# Smoke test of the runtime: it starts, finds the natives, and sees the Vector API.
"$B/jre/bin/java" "${JAVA_FLAGS[@]}" --add-modules jdk.incubator.vector -Dpanamadnn.natives.dir="$B/natives" \
  -cp "$(tr ':' '\n' < "$B/classpath" | sed "s#^#$B/#" | paste -sd: -)" dev.panamadnn.natives.Natives > "$STAGE/natives.txt" 2>&1 \
  || { cat "$STAGE/natives.txt" >&2; die "the bundled runtime could not load the natives"; }
grep -q "$B/natives/libdnnl" "$STAGE/natives.txt" || { cat "$STAGE/natives.txt" >&2; die "the natives did not load from $B/natives"; }

{
  echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(hostname)"
  echo "git: $(git rev-parse HEAD)$(git diff --quiet HEAD -- java-api bindings native benchmarks || echo ' + uncommitted changes')"
  echo "jdk: $("$JDK/bin/java" -version 2>&1 | head -1)"
  echo "natives: $NATIVES"
  echo "modules: $MODULES"
  echo "left out: ${LEFT_OUT[*]:-none}"
} > "$B/BUILD-INFO"
(cd "$B" && find . -type f ! -name SHA256SUMS -print0 | sort -z | xargs -0 sha256sum > SHA256SUMS)

log "compressing (xz -6 -T1)"
tar -C "$STAGE" -cf - pdnn-bundle | xz -6 -T1 > "$OUTFILE.tmp"
mv "$OUTFILE.tmp" "$OUTFILE"
log "unpacked: $(du -sh "$B" | cut -f1); $OUTFILE: $(du -h "$OUTFILE" | cut -f1) ($(stat -c %s "$OUTFILE") bytes)"
