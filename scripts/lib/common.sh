# Shared by every script in scripts/: locating the repository and a JDK >= 22.
# Sourced, never run. Keep it small: each script's own logic stays in that script.

PDNN_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PDNN_MIN_JAVA=22

pdnn_die() { echo "error: $*" >&2; exit 1; }
pdnn_log() { echo "[$(basename "$0")] $*" >&2; }

# Prints the feature release of the JDK at $1 (e.g. 25), or nothing if it is not a JDK.
pdnn_jdk_release() {
  local home="$1"
  [ -x "$home/bin/javac" ] && [ -x "$home/bin/java" ] || return 0
  "$home/bin/java" -XshowSettings:properties -version 2>&1 \
    | sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p' | head -n1
}

# Exports JAVA_HOME as a JDK >= 22: JAVA_HOME itself if new enough, else the newest JDK under
# /usr/lib/jvm (or PDNN_JDK_SEARCH_DIRS). FFM is final in 22; we build and test on 25.
pdnn_find_jdk() {
  local best="" best_rel=0 rel cand
  if [ -n "${JAVA_HOME:-}" ]; then
    rel=$(pdnn_jdk_release "$JAVA_HOME")
    if [ -n "$rel" ] && [ "$rel" -ge "$PDNN_MIN_JAVA" ]; then
      export JAVA_HOME; export PATH="$JAVA_HOME/bin:$PATH"; pdnn_quiet_maven_on "$rel"; return 0
    fi
  fi
  for cand in ${PDNN_JDK_SEARCH_DIRS:-/usr/lib/jvm/* /opt/java/* /opt/jdk*}; do
    [ -d "$cand" ] || continue
    rel=$(pdnn_jdk_release "$cand")
    [ -n "$rel" ] || continue
    if [ "$rel" -gt "$best_rel" ]; then best="$cand"; best_rel="$rel"; fi
  done
  if [ -z "$best" ] || [ "$best_rel" -lt "$PDNN_MIN_JAVA" ]; then
    pdnn_die "no JDK >= $PDNN_MIN_JAVA found (JAVA_HOME=${JAVA_HOME:-unset}; newest under /usr/lib/jvm: ${best:-none}${best:+ = $best_rel}).
  Panama DNN needs the final Foreign Function & Memory API (Java 22+); it is built and tested on JDK 25.
  Install one (e.g. 'apt-get install openjdk-25-jdk' where available, or a Temurin 25) and/or set JAVA_HOME."
  fi
  export JAVA_HOME="$best"
  export PATH="$JAVA_HOME/bin:$PATH"
  pdnn_quiet_maven_on "$best_rel"
}

# Maven 3.8's bundled Guava calls sun.misc.Unsafe, which JDK 24+ warns about at every start;
# the flag that silences it does not exist before 23, so it is added only where it is known.
pdnn_quiet_maven_on() {
  if [ "${1:-0}" -ge 24 ]; then
    case " ${MAVEN_OPTS:-} " in *sun-misc-unsafe-memory-access*) ;;
      *) export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow" ;; esac
  fi
}

# Maven, quiet and non-interactive; batch mode keeps CI logs readable.
pdnn_mvn() {
  command -v mvn >/dev/null 2>&1 || pdnn_die "Maven (mvn) not found: install it with 'apt-get install maven'."
  (cd "$PDNN_ROOT" && mvn -B -q -ntp -Dstyle.color=never "$@")
}

# apt-get install of Debian packages that are missing; needs root (or sudo).
pdnn_apt_install() {
  local missing=() p
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  pdnn_log "installing Debian packages: ${missing[*]}"
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q >/dev/null || pdnn_die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}" >/dev/null \
    || pdnn_die "apt-get install ${missing[*]} failed"
}

# What building and testing needs beyond the JDK: Maven, gcc (fixture libraries and the C
# harness), and libclang with its builtin headers (the binding generator).
pdnn_ensure_build_tools() {
  local pkgs=()
  command -v mvn >/dev/null 2>&1 || pkgs+=(maven)
  command -v gcc >/dev/null 2>&1 || pkgs+=(gcc)
  ls /usr/lib/llvm-*/lib/libclang.so* /usr/lib/x86_64-linux-gnu/libclang-*.so* >/dev/null 2>&1 \
    || pkgs+=(libclang1-16)
  ls -d /usr/lib/llvm-*/lib/clang/*/include >/dev/null 2>&1 || pkgs+=(libclang-common-16-dev)
  [ ${#pkgs[@]} -eq 0 ] || pdnn_apt_install "${pkgs[@]}"
}

# What the PyTorch conformance tests need: Debian's python3 with torch and torchvision (the
# ResNet goldens are generated at test time by scripts/goldens/export_resnet.py). Quick when
# installed (dpkg -s only); if apt cannot install them, warn and go on: those tests then skip
# with a message naming the package.
pdnn_ensure_test_python() {
  local p missing=()
  # python3-onnx: the ONNX goldens scripts build or read models with it (nothing else pulls it in)
  for p in python3-torch python3-torchvision python3-onnx; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  ( pdnn_apt_install "${missing[@]}" ) \
    || pdnn_log "warning: could not install ${missing[*]}: the tests whose goldens need them will be skipped"
}
