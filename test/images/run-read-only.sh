#!/usr/bin/env bash
# Runs COMMAND in ROOTFS the way a runtime starts a container with readOnlyRootFilesystem, which
# `buildah run` cannot do: in a private mount namespace, ROOTFS bind-mounted on itself with /proc,
# /dev/{null,zero,random,urandom}, the --bind and --tmpfs mounts on top, then the root remounted
# read-only (mount points are made first, in ROOTFS, as runc makes them in the container's own
# layer), and COMMAND started through chroot as UID:GID with only the --env variables. The network
# is the host's: the checks talk to it on loopback. The process keeps this script's pid.
# Usage: run-read-only.sh ROOTFS UID:GID [--bind SRC:DST]... [--tmpfs DST]... [--env K=V]... -- COMMAND [ARG]...
set -euo pipefail

# Every mount below happens in a mount namespace of its own, never on the machine's.
if [[ ${1:-} != --in-namespace ]]; then
  exec unshare --mount --propagation private "$BASH" "$0" --in-namespace "$@"
fi
shift

die() {
  echo "run-read-only: $*" >&2
  exit 125
}

[[ $# -ge 4 ]] || die "usage: run-read-only.sh ROOTFS UID:GID [--bind SRC:DST]... [--tmpfs DST]... [--env K=V]... -- COMMAND [ARG]..."
root=$1
user=$2
shift 2
[[ -d $root ]] || die "$root is not a directory"
[[ $user =~ ^[0-9]+:[0-9]+$ ]] || die "the user must be UID:GID, not $user"

mount --bind "$root" "$root"
mkdir -p "$root/proc" "$root/dev"
mount -t proc proc "$root/proc"
for node in null zero random urandom; do
  [[ -e $root/dev/$node ]] || touch "$root/dev/$node"
  mount --bind "/dev/$node" "$root/dev/$node"
done

env=()
while [[ $# -gt 0 && $1 != -- ]]; do
  case $1 in
    --bind)
      src=${2%%:*}
      dst=$root${2#*:}
      if [[ -d $src ]]; then mkdir -p "$dst"; else mkdir -p "$(dirname "$dst")" && touch "$dst"; fi
      mount --bind "$src" "$dst"
      mount -o remount,bind,ro "$dst"
      ;;
    --tmpfs)
      mkdir -p "$root$2"
      mount -t tmpfs -o mode=1777,size=64m tmpfs "$root$2"
      ;;
    --env) env+=("$2") ;;
    *) die "unknown option $1" ;;
  esac
  shift 2
done
[[ ${1:-} == -- && $# -ge 2 ]] || die "no command after --"
shift

chroot=$(command -v chroot) || die "chroot not found"
mount -o remount,bind,ro "$root"
exec env -i "${env[@]}" "$chroot" --userspec="$user" "$root" "$@"
