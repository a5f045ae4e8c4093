#!/usr/bin/env bash
# Stages what deploy/Dockerfile copies: the server jar and its runtime class path, flat in
# deploy/build/app/lib (so the image needs no Maven and no network), plus the example model
# repository in deploy/build/models. Run from anywhere; builds with Maven unless --no-build.
#   deploy/stage.sh [--no-build]   then   docker build -f deploy/Dockerfile -t panama-dnn-server deploy/build
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
if [ "${1:-}" != "--no-build" ]; then
  mvn -B ${PDNN_MVN_OFFLINE:+-o} -q package -DskipTests -pl server -am
fi
[ -f server/target/runtime-classpath.txt ] || { echo "stage.sh: no server/target/runtime-classpath.txt: build first" >&2; exit 1; }
rm -rf deploy/build
mkdir -p deploy/build/app/lib deploy/build/models
cp server/target/panama-dnn-server-*.jar deploy/build/app/lib/
IFS=: read -ra JARS < server/target/runtime-classpath.txt || true   # one line without a newline: read says EOF
for jar in "${JARS[@]}"; do cp "$jar" deploy/build/app/lib/; done
[ "$(ls deploy/build/app/lib | wc -l)" -eq $(( ${#JARS[@]} + 1 )) ] || { echo "stage.sh: two jars share a file name" >&2; exit 1; }
cp -r server/examples/models/. deploy/build/models/
echo "staged $(ls deploy/build/app/lib | wc -l) jars ($(du -sh deploy/build/app | cut -f1)) and $(ls deploy/build/models | wc -l) example model(s) in deploy/build"
