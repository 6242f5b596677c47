#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# The guest kernel of test/vm/: Debian's linux-image-6.1.*-amd64, fetched once
# with `apt-get download` and unpacked into the cache
#   ${PFRAG_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pfrag-vm}/kernel/<package>/
# which then holds vmlinuz, uio.ko and uio_pci_generic.ko (and VERSION).
# Prints that directory. Nothing of it goes into git.
#
# usage: test/vm/kernel.sh [--fetch]
#   without --fetch it only looks in the cache (exit 1 when nothing is there);
#   with --fetch it downloads when the cache is empty (devtools/setup.sh).

set -eu

cache=${PFRAG_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pfrag-vm}
fetch=0
[ "${1:-}" = --fetch ] && fetch=1

# The newest kernel already unpacked, if any.
have=$(ls -d "$cache"/kernel/linux-image-6.1*/ 2>/dev/null | sort -V | tail -1)
if [ -n "$have" ] && [ -f "$have/vmlinuz" ] && [ -f "$have/uio_pci_generic.ko" ]; then
	echo "${have%/}"
	exit 0
fi
if [ $fetch -eq 0 ]; then
	echo "kernel.sh: no guest kernel in $cache (run devtools/setup.sh or $0 --fetch)" >&2
	exit 1
fi

# Debian 12's kernel meta-package names the 6.1 image package of the day.
pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
	sed -n 's/^ *Depends: \(linux-image-6\.1\.[0-9.-]*-amd64\)$/\1/p' | head -1)
if [ -z "$pkg" ]; then
	pkg=$(apt-cache search --names-only '^linux-image-6\.1\.[0-9.-]*-amd64$' |
		cut -d' ' -f1 | sort -V | tail -1)
fi
[ -n "$pkg" ] || { echo "kernel.sh: apt knows no linux-image-6.1.*-amd64 package" >&2; exit 1; }

dir=$cache/kernel/$pkg
tmp=$(mktemp -d "$cache/kernel.tmp.XXXXXX" 2>/dev/null ||
	{ mkdir -p "$cache/kernel" && mktemp -d "$cache/kernel.tmp.XXXXXX"; })
trap 'rm -rf "$tmp"' EXIT
echo "kernel.sh: fetching $pkg into $dir" >&2
# apt-get download writes into the current directory; _apt may not read it.
(cd "$tmp" && apt-get download -q "$pkg" >/dev/null 2>&1) ||
	{ echo "kernel.sh: apt-get download $pkg failed" >&2; exit 1; }
deb=$(ls "$tmp"/*.deb)
mkdir -p "$tmp/x"
dpkg-deb -x "$deb" "$tmp/x"
mkdir -p "$tmp/out"
cp "$tmp"/x/boot/vmlinuz-* "$tmp/out/vmlinuz"
for m in uio uio_pci_generic; do
	f=$(find "$tmp/x/lib/modules" -name "$m.ko*" | head -1)
	[ -n "$f" ] || { echo "kernel.sh: $pkg has no $m.ko" >&2; exit 1; }
	case $f in
	*.ko) cp "$f" "$tmp/out/$m.ko" ;;
	*.ko.xz) xz -dc "$f" > "$tmp/out/$m.ko" ;;
	*.ko.zst) zstd -dcq "$f" > "$tmp/out/$m.ko" ;;
	*) echo "kernel.sh: cannot unpack $f" >&2; exit 1 ;;
	esac
done
basename "$deb" > "$tmp/out/VERSION"
mkdir -p "$cache/kernel"
rm -rf "$dir"
mv "$tmp/out" "$dir"
echo "$dir"
