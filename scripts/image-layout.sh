#!/bin/sh
# Lays out what the two images copy from the single executable (npm run build:plugin):
#   OUT/plugins/velero-plugin-drift-detector  0755  the plugin image's /plugins
#   OUT/plugins/libstdc++.so.6, libgcc_s.so.1 0644  the C++ runtime node links, which Velero's
#                                                   image lacks; its Deployment sets LD_LIBRARY_PATH=/plugins
#   OUT/bin/drift-detector                    0755  the service image's executable
#   OUT/arch/<amd64|arm64>                          an empty marker: the executable's architecture, which
#                                                   the Dockerfile's prebuilt stage requires to be the target's
# The libraries are not executable: Velero runs every executable file under /plugins as a plugin.
# Any other library the executable links outside glibc stops the layout here, not in Velero's pod.
# Run by the Dockerfile's build stage and by scripts/build-images.sh, so both lay out the same.
# Usage: image-layout.sh EXECUTABLE OUT   (POSIX sh: node's Debian slim images have no bash)
set -eu

if [ "$#" -ne 2 ]; then
  echo "usage: image-layout.sh EXECUTABLE OUT" >&2
  exit 2
fi
executable=$1
out=$2
plugin=velero-plugin-drift-detector
runtime_libs="libstdc++.so.6 libgcc_s.so.1"

fail() {
  echo "image-layout: $*" >&2
  exit 1
}

[ -x "$executable" ] || fail "$executable is not an executable (run npm run build:plugin)"
linked=$(ldd "$executable") || fail "ldd $executable failed"

# glibc's own libraries are in every glibc image; the C++ runtime goes beside the plugin.
for lib in $(printf '%s\n' "$linked" | awk '{ print $1 }'); do
  case "$lib" in
    linux-vdso.so.* | linux-gate.so.* | */ld-linux*.so.* | ld-linux*.so.* | libc.so.6 | libm.so.6 | libdl.so.2 | libpthread.so.0 | librt.so.1) ;;
    libstdc++.so.6 | libgcc_s.so.1) ;;
    *) fail "$executable links $lib, which neither glibc nor the copied C++ runtime provides" ;;
  esac
done

# ELF e_machine (little-endian, offset 18), in the names Docker's TARGETARCH uses.
case $(od -An -tu2 -j18 -N2 "$executable" | tr -d ' ') in
  62) arch=amd64 ;;
  183) arch=arm64 ;;
  *) fail "$executable is built for an architecture the images do not support (amd64, arm64)" ;;
esac

rm -rf "$out/plugins" "$out/bin" "$out/arch"
mkdir -p "$out/plugins" "$out/bin" "$out/arch"
: >"$out/arch/$arch"
cp "$executable" "$out/plugins/$plugin"
chmod 0755 "$out/plugins/$plugin"
for lib in $runtime_libs; do
  path=$(printf '%s\n' "$linked" | awk -v l="$lib" '$1 == l && $2 == "=>" { print $3 }')
  [ -n "$path" ] && [ -f "$path" ] || fail "$executable links $lib, but ldd does not resolve it"
  cp -L "$path" "$out/plugins/$lib"
  chmod 0644 "$out/plugins/$lib"
done
cp "$executable" "$out/bin/drift-detector"
chmod 0755 "$out/bin/drift-detector"
