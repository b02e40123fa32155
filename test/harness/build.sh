#!/usr/bin/env bash
# Builds every Go harness (test/harness/<name>/main.go) into test/harness/bin/<name>.
# The harnesses build against Debian's packaged Go sources (GOPATH mode, no module downloads).
# A harness is rebuilt only when one of its sources is newer than its binary.
set -euo pipefail

harness_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
bin_dir="$harness_dir/bin"

export GOPATH="${GOPATH:-/usr/share/gocode}"
export GO111MODULE=off

die() {
  echo "build-harness: $*" >&2
  exit 1
}

# Checked only when something needs building: fresh binaries run without a Go toolchain.
go_ready=false
prepare_go() {
  $go_ready && return 0
  command -v go >/dev/null 2>&1 ||
    die "'go' not found on PATH; install it with: apt-get install golang-go"
  # Go needs a writable build cache; fall back to /tmp when the default one is unusable.
  if [[ -z "${GOCACHE:-}" ]]; then
    local default_cache
    default_cache="$(go env GOCACHE 2>/dev/null || true)"
    if [[ -z "$default_cache" || "$default_cache" == off ]] ||
      ! mkdir -p "$default_cache" 2>/dev/null || [[ ! -w "$default_cache" ]]; then
      export GOCACHE="${TMPDIR:-/tmp}/drift-detector-gocache"
    fi
  fi
  go_ready=true
}

# Packages each harness may import, and the Debian package that ships their source.
require_source() {
  local dir="$1" import_path="$2" debian_package="$3"
  if grep -qs "\"$import_path" "$dir"/*.go && [[ ! -d "$GOPATH/src/$import_path" ]]; then
    die "$(basename "$dir") needs $import_path, not found under GOPATH=$GOPATH; install it with: apt-get install $debian_package"
  fi
}

# Sources that make a binary stale: the harness's Go files and this script.
is_stale() {
  local dir="$1" bin="$2"
  [[ ! -x "$bin" ]] && return 0
  [[ "$harness_dir/build.sh" -nt "$bin" ]] && return 0
  [[ -n "$(find "$dir" -name '*.go' ! -name '*_test.go' -newer "$bin" -print -quit)" ]]
}

mkdir -p "$bin_dir"
built=0
for main in "$harness_dir"/*/main.go; do
  [[ -e "$main" ]] || continue
  dir="$(dirname "$main")"
  name="$(basename "$dir")"
  [[ "$name" == bin ]] && continue
  bin="$bin_dir/$name"

  if ! is_stale "$dir" "$bin"; then
    echo "build-harness: $name is up to date"
    continue
  fi
  prepare_go
  require_source "$dir" github.com/vmware/govmomi golang-github-vmware-govmomi-dev
  echo "build-harness: building $name"
  if ! (cd "$dir" && go build -o "$bin.tmp" .); then
    rm -f "$bin.tmp"
    die "building $name failed (GOPATH=$GOPATH); a 'cannot find package' error means a Debian golang-*-dev package is missing"
  fi
  mv -f "$bin.tmp" "$bin"
  built=$((built + 1))
done

echo "build-harness: done ($built built)"
