#!/usr/bin/env bash
# Fills DIR with a small root filesystem made of this machine's Debian packages, for offline stand-ins
# of registry images (distroless cc-debian12 for the service, a glibc-only image like Velero's for
# the tests): every file the packages installed (documentation left out), /etc/passwd and
# /etc/group with root, nobody and each --user, their home directories, the CA bundle when
# ca-certificates is named, and /tmp.
# Usage: debian-rootfs.sh [--user NAME:UID:GID]... DIR PACKAGE...
set -euo pipefail

die() {
  echo "debian-rootfs: $*" >&2
  exit 1
}

users=()
while [[ $# -gt 0 && $1 == --user ]]; do
  [[ $# -ge 2 && $2 =~ ^[a-z][a-z0-9-]*:[0-9]+:[0-9]+$ ]] || die "--user takes NAME:UID:GID"
  users+=("$2")
  shift 2
done
[[ $# -ge 2 ]] || die "usage: debian-rootfs.sh [--user NAME:UID:GID]... DIR PACKAGE..."
dir=$1
shift
[[ -d $dir ]] || die "$dir is not a directory"

list=$(mktemp)
trap 'rm -f "$list"' EXIT
for pkg in "$@"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
    die "Debian package $pkg is not installed; install it with: apt-get install $pkg"
  dpkg -L "$pkg"
done | grep -vE '^/usr/share/(doc|doc-base|man|info|lintian|locale|bug)/' | sort -u |
  while IFS= read -r path; do
    # Directories come with their files; /lib and /lib64 are symlinks on merged-/usr systems and
    # become real directories here, so the loader's absolute paths resolve inside DIR.
    [[ -d $path || ! ( -e $path || -L $path ) ]] && continue
    printf '%s\n' "${path#/}"
  done >"$list"
tar -C / --no-recursion -cf - -T "$list" | tar -C "$dir" -xpf -

if [[ " $* " == *" ca-certificates "* ]]; then
  mkdir -p "$dir/etc/ssl/certs"
  cp /etc/ssl/certs/ca-certificates.crt "$dir/etc/ssl/certs/ca-certificates.crt"
fi

mkdir -p "$dir/etc" "$dir/root" "$dir/tmp"
chmod 1777 "$dir/tmp"
chmod 0700 "$dir/root"
{
  echo 'root:x:0:0:root:/root:/sbin/nologin'
  echo 'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin'
} >"$dir/etc/passwd"
{
  echo 'root:x:0:'
  echo 'nogroup:x:65534:'
} >"$dir/etc/group"
for user in "${users[@]}"; do
  IFS=: read -r name uid gid <<<"$user"
  echo "$name:x:$uid:$gid:$name:/home/$name:/sbin/nologin" >>"$dir/etc/passwd"
  echo "$name:x:$gid:" >>"$dir/etc/group"
  mkdir -p "$dir/home/$name"
  chown "$uid:$gid" "$dir/home/$name"
  chmod 0700 "$dir/home/$name"
done
