#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Build DPDK's own l2fwd example (an application no one here wrote) into
# BUILD_DIR/dpdk-l2fwd-example/dpdk-l2fwd and print its path. The source:
# dpdk-doc's /usr/share/dpdk/examples/l2fwd/main.c when installed, else the
# distro DPDK source set-up fetched ($PFRAG_CACHE), else `apt-get download
# dpdk-doc` (unpacked there, never kept in git). Rebuilt only when the source
# is newer. Used by test/interop/unmodified_apps_mempool.sh and the pmd
# study of pfrag-bench (app/bench/pmd_apps.sh).
#
# usage: test/interop/build_dpdk_l2fwd.sh BUILD_DIR
# Exit: 0 built (path on stdout), 1 no source or the build failed.
set -uo pipefail

build=${1:?usage: build_dpdk_l2fwd.sh BUILD_DIR}
out=$build/dpdk-l2fwd-example
src=
for d in /usr/share/dpdk/examples/l2fwd "${PFRAG_CACHE:-$HOME/.cache/pfrag}"/dpdk-*/examples/l2fwd \
	"$out/doc/usr/share/dpdk/examples/l2fwd"; do
	[ -f "$d/main.c" ] && { src=$d/main.c; break; }
done
if [ -z "$src" ]; then
	mkdir -p "$out" && (cd "$out" && apt-get download dpdk-doc >/dev/null 2>&1) &&
		deb=$(ls "$out"/dpdk-doc_*.deb 2>/dev/null | head -1) &&
		dpkg-deb -x "$deb" "$out/doc" && src=$out/doc/usr/share/dpdk/examples/l2fwd/main.c
fi
[ -n "$src" ] && [ -f "$src" ] || { echo "no source of DPDK's l2fwd" >&2; exit 1; }
mkdir -p "$out"
l2fwd=$out/dpdk-l2fwd
if [ ! "$l2fwd" -nt "$src" ]; then
	echo "building DPDK's l2fwd from $src" >&2
	gcc -O3 -DALLOW_EXPERIMENTAL_API "$src" -o "$l2fwd" \
		$(pkg-config --cflags --libs libdpdk) >&2 || exit 1
fi
echo "$l2fwd"
