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

# Velero's gRPC client code, generated from proto/velero (the one source of the wire contract) with
# Debian's protoc and protoc-gen-go 1.3, whose API matches go-plugin 1.0.1 and grpc 1.33. It is
# written below bin/ (ignored by git) as a GOPATH entry at Velero's own import path.
repo_root="$(cd "$harness_dir/../.." && pwd)"
velero_protos=(Shared.proto PluginLister.proto RestoreItemAction.proto)
generated_gopath="$bin_dir/gopath"
velero_import=github.com/vmware-tanzu/velero/pkg/plugin/generated
velero_stamp="$generated_gopath/src/$velero_import/.generated"

uses_velero_protos() {
  grep -qs "\"$velero_import\"" "$1"/*.go
}

generate_velero_protos() {
  local stale=false proto
  [[ -e "$velero_stamp" && ! "$harness_dir/build.sh" -nt "$velero_stamp" ]] || stale=true
  for proto in "${velero_protos[@]}"; do
    [[ "$repo_root/proto/velero/$proto" -nt "$velero_stamp" ]] && stale=true
  done
  $stale || return 0
  command -v protoc >/dev/null 2>&1 || die "'protoc' not found; install it with: apt-get install protobuf-compiler"
  command -v protoc-gen-go >/dev/null 2>&1 || die "'protoc-gen-go' not found; install it with: apt-get install golang-goprotobuf-dev"
  # Shared.proto imports google/protobuf/timestamp.proto: take it from the Go protobuf sources,
  # which match the generated code's imports (libprotobuf-dev is not needed).
  local includes
  includes="$(mktemp -d)"
  mkdir -p "$includes/google/protobuf"
  cp "$GOPATH/src/github.com/golang/protobuf/ptypes/timestamp/timestamp.proto" "$includes/google/protobuf/" ||
    die "google/protobuf/timestamp.proto not found under GOPATH=$GOPATH; install it with: apt-get install golang-github-golang-protobuf-1-3-dev"
  rm -rf "$generated_gopath/src/$velero_import"
  mkdir -p "$generated_gopath/src"
  echo "build-harness: generating $velero_import from proto/velero"
  if ! protoc -I "$repo_root/proto/velero" -I "$includes" --go_out=plugins=grpc:"$generated_gopath/src" "${velero_protos[@]}"; then
    rm -rf "$includes"
    die "protoc failed on proto/velero"
  fi
  rm -rf "$includes"
  touch "$velero_stamp"
}

# Sources that make a binary stale: the harness's Go files, generated code it uses, and this script.
is_stale() {
  local dir="$1" bin="$2"
  [[ ! -x "$bin" ]] && return 0
  [[ "$harness_dir/build.sh" -nt "$bin" ]] && return 0
  if uses_velero_protos "$dir"; then
    [[ "$velero_stamp" -nt "$bin" ]] && return 0
    local proto
    for proto in "${velero_protos[@]}"; do
      [[ "$repo_root/proto/velero/$proto" -nt "$bin" ]] && return 0
    done
  fi
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
  require_source "$dir" github.com/hashicorp/go-plugin golang-github-hashicorp-go-plugin-dev
  # Debian's go-plugin does not pull in the gRPC sources it builds with.
  require_source "$dir" google.golang.org/grpc golang-google-grpc-dev
  build_gopath="$GOPATH"
  if uses_velero_protos "$dir"; then
    generate_velero_protos
    build_gopath="$generated_gopath:$GOPATH"
  fi
  echo "build-harness: building $name"
  if ! (cd "$dir" && GOPATH="$build_gopath" go build -o "$bin.tmp" .); then
    rm -f "$bin.tmp"
    die "building $name failed (GOPATH=$GOPATH); a 'cannot find package' error means a Debian golang-*-dev package is missing"
  fi
  mv -f "$bin.tmp" "$bin"
  built=$((built + 1))
done

echo "build-harness: done ($built built)"
