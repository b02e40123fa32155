#!/usr/bin/env bash
# Builds the plugin and service images with buildah, without a daemon, a registry or a network:
# the Dockerfile's own `plugin` and `service` stages, fed by
#   - ARTIFACTS=prebuilt: a context that scripts/image-layout.sh lays out from dist/drift-detector
#     (npm run build:plugin on this machine), instead of the node image's build stage;
#   - stand-ins for the two registry bases, made from this machine's Debian 12 files:
#     busybox-static's busybox as /bin/cp (for busybox), and for distroless cc-debian12:nonroot
#     the packages it is made of (glibc, libgcc_s, libstdc++, OpenSSL, CA bundle, tzdata,
#     netbase, base-files) with its nonroot user 65532, home, working directory and environment.
# The images are the ones users build, except where the bases came from and that the C++ runtime
# is this machine's (Debian 12's needs glibc 2.36; the build stage's, Debian 11's, 2.31).
#
# Usage: build-images.sh [--root DIR]
#   --root DIR   private buildah storage under DIR (vfs), e.g. for tests; default: buildah's own
# Prints the image names and sizes; `buildah push IMAGE docker-archive:FILE` exports one (then
# `docker load -i FILE`), `buildah push IMAGE docker://REGISTRY/NAME:TAG` pushes it.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
storage=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --root)
      [[ $# -ge 2 ]] || { echo "build-images: --root needs a directory" >&2; exit 2; }
      mkdir -p "$2"
      root=$(cd "$2" && pwd)
      storage=(--root "$root/storage" --runroot "$root/run" --storage-driver vfs)
      shift 2
      ;;
    *) echo "usage: build-images.sh [--root DIR]" >&2; exit 2 ;;
  esac
done

die() {
  echo "build-images: $*" >&2
  exit 1
}

command -v buildah >/dev/null 2>&1 || die "'buildah' not found; install it with: apt-get install buildah"
applets=$(/bin/busybox --list 2>/dev/null) && grep -qx cp <<<"$applets" ||
  die "busybox-static's /bin/busybox not found; install it with: apt-get install busybox-static"
executable=$repo/dist/drift-detector
[[ -x $executable ]] || die "$executable is missing: run npm run build:plugin"

bh() { buildah "${storage[@]}" "$@"; }

version=$(node -p "require('$repo/package.json').version")
revision=$(git -C "$repo" rev-parse HEAD 2>/dev/null || echo unknown)
source_url=$(git -C "$repo" remote get-url origin 2>/dev/null || echo "file://$repo")
arch=$(bh info --format '{{.host.arch}}')
plugin_image=localhost/velero-plugin-drift-detector:$version
service_image=localhost/drift-detector:$version
busybox_base=localhost/drift-detector-base/busybox:static
service_base=localhost/drift-detector-base/cc-debian12:nonroot

work=$(mktemp -d)
containers=()
cleanup() {
  for c in "${containers[@]}"; do bh rm "$c" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT

started=$SECONDS
# What already was there: a build in buildah's own storage cleans up only after itself.
containers_before=$(bh containers --quiet --all | sort)
dangling_before=$(bh images --quiet --noheading --filter dangling=true | sort)

# busybox: only /bin/cp is taken from it, a static busybox called by that name.
c=$(bh from scratch)
containers+=("$c")
bh copy --quiet "$c" /bin/busybox /bin/cp
bh config --arch "$arch" --os linux "$c"
bh commit --quiet --rm "$c" "$busybox_base" >/dev/null
containers=()

# distroless cc-debian12:nonroot, as its image config sets it.
c=$(bh from scratch)
containers+=("$c")
bash "$repo/scripts/debian-rootfs.sh" --user nonroot:65532:65532 "$(bh mount "$c")" \
  base-files netbase tzdata ca-certificates libc6 libssl3 libgcc-s1 libstdc++6
bh umount "$c" >/dev/null
bh config --arch "$arch" --os linux --user 65532 --workingdir /home/nonroot \
  --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --env SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt "$c"
bh commit --quiet --rm "$c" "$service_base" >/dev/null
containers=()

sh "$repo/scripts/image-layout.sh" "$executable" "$work/context"

build() {
  local target=$1 tag=$2
  bh bud --quiet --isolation chroot --pull=never --target "$target" --tag "$tag" \
    --build-arg ARTIFACTS=prebuilt \
    --build-arg BUSYBOX_IMAGE="$busybox_base" \
    --build-arg SERVICE_BASE="$service_base" \
    --build-arg VERSION="$version" \
    --build-arg SOURCE="$source_url" \
    --build-arg REVISION="$revision" \
    --file "$repo/Dockerfile" "$work/context" >/dev/null
}
build plugin "$plugin_image"
build service "$service_image"
# buildah 1.28 keeps the working containers of stages that are only a FROM, and with them the
# prebuilt stage's image: remove the containers this build made, then the images it left untagged
# (that one, and bases of an earlier build that these replaced).
for c in $(comm -13 <(echo "$containers_before") <(bh containers --quiet --all | sort)); do
  bh rm "$c" >/dev/null
done
for image in $(comm -13 <(echo "$dangling_before") <(bh images --quiet --noheading --filter dangling=true | sort)); do
  bh rmi "$image" >/dev/null 2>&1 || true
done

# The C++ runtime beside the plugin is this machine's: say which glibc it needs of Velero's image.
if command -v objdump >/dev/null 2>&1; then
  needs=$(objdump -p "$work/context/plugins/"lib*.so.* | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/^GLIBC_//' | sort -V | tail -n 1)
  echo "build-images: the plugin's libstdc++ and libgcc_s are this machine's: they need glibc $needs in Velero's image (README: Build the images)"
fi

# Sizes: as stored, and as pulled (gzip-compressed layers of an OCI archive).
for image in "$plugin_image" "$service_image"; do
  bh push --quiet "$image" "oci-archive:$work/image.tar" >/dev/null
  compressed=$(($(stat -c %s "$work/image.tar") / 1000000))
  rm -f "$work/image.tar"
  echo "build-images: $image $(bh images --format '{{.Size}}' "$image") (${compressed} MB compressed)"
done
echo "build-images: done in $((SECONDS - started)) s (storage: ${root:-buildah default})"
