#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Prepare a Debian 12 machine for pfrag (run as root; safe to run again):
#  1. install the build tools, DPDK 22.11 (libdpdk-dev, dpdk, dpdk-dev), libnuma, QEMU;
#  2. fetch the distro's DPDK source of exactly the installed version (cached in
#     $PFRAG_CACHE, default ~/.cache/pfrag) and copy its driver-SDK headers and
#     pmdinfogen into .deps/dpdk-sdk (ignored by git);
#  3. reserve 2 MB hugepages and mount hugetlbfs, when the machine lets us;
#  4. fetch the guest kernel of the vm-tests (Debian's linux-image-6.1.*-amd64:
#     vmlinuz, uio, uio_pci_generic) once into ~/.cache/pfrag-vm (test/vm/kernel.sh).
# Options: --no-apt (skip package installs), --no-huge (skip hugepage set-up).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cache=${PFRAG_CACHE:-$HOME/.cache/pfrag}
nr_huge=${PFRAG_HUGEPAGES:-1024}
do_apt=1
do_huge=1
for a in "$@"; do
	case $a in
	--no-apt) do_apt=0 ;;
	--no-huge) do_huge=0 ;;
	*) echo "usage: $0 [--no-apt] [--no-huge]" >&2; exit 2 ;;
	esac
done

say() { echo "setup: $*"; }
die() { echo "setup: error: $*" >&2; exit 1; }

sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo

packages=(build-essential meson ninja-build pkg-config libdpdk-dev dpdk dpdk-dev
	libnuma-dev python3-pyelftools dpkg-dev xz-utils qemu-system-x86 busybox-static
	cpio gnuplot-nox clang libclang-rt-14-dev)

install_packages() {
	local missing=()
	for p in "${packages[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
			missing+=("$p")
	done
	if [ ${#missing[@]} -eq 0 ]; then
		say "packages present"
		return
	fi
	say "installing ${missing[*]}"
	$sudo apt-get update -q >/dev/null
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}" >/dev/null
}

# A deb-src entry mirroring Debian's deb entries, so `apt-get source` can work.
# Handles both the deb822 file (debian.sources) and a one-line sources.list.
add_deb_src() {
	local f=/etc/apt/sources.list.d/pfrag-src.sources
	local list=/etc/apt/sources.list.d/pfrag-src.list
	[ -f $f ] || [ -f $list ] && return 0
	grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ && return 0
	grep -qs '^deb-src' /etc/apt/sources.list && return 0
	if [ -f /etc/apt/sources.list.d/debian.sources ]; then
		say "adding deb-src entries ($f)"
		awk '
		/^Types:/ { types = $0 }
		/^URIs:/ { uris = $0 }
		/^Suites:/ { suites = $0 }
		/^Signed-By:/ { signed = $0 }
		/^$/ { flush() }
		END { flush() }
		function flush() {
			if (types ~ /deb/ && uris ~ /debian/) {
				print "Types: deb-src"; print uris; print suites
				print "Components: main"; if (signed != "") print signed; print ""
			}
			types = uris = suites = signed = ""
		}' /etc/apt/sources.list.d/debian.sources | $sudo tee $f >/dev/null
	else
		say "adding deb-src entries ($list)"
		grep -hs '^deb [^#]*debian' /etc/apt/sources.list |
			sed 's/^deb /deb-src /' | $sudo tee $list >/dev/null
	fi
	$sudo apt-get update -q >/dev/null
}

fetch_sdk() {
	local ver src sdk=$top/.deps/dpdk-sdk
	ver=$(dpkg-query -W -f='${Version}' libdpdk-dev) || die "libdpdk-dev is not installed"
	local upstream=${ver%%-*}
	if [ -f "$sdk/VERSION" ] && [ "$(cat "$sdk/VERSION")" = "$upstream" ]; then
		say "driver-SDK headers for DPDK $upstream present"
		return
	fi
	src=$cache/dpdk-$ver
	if [ ! -f "$src/VERSION" ]; then
		add_deb_src
		mkdir -p "$cache"
		say "fetching the distro source of dpdk $ver into $cache"
		(cd "$cache" && apt-get source -q --download-only "dpdk=$ver" >/dev/null 2>&1) ||
			die "apt-get source dpdk=$ver failed (is a deb-src entry reachable?)"
		rm -rf "$src.tmp"
		(cd "$cache" && dpkg-source -x --no-check "dpdk_$ver.dsc" "$src.tmp" >/dev/null)
		mv "$src.tmp" "$src"
	fi
	rm -rf "$sdk.tmp"
	mkdir -p "$sdk.tmp/include" "$sdk.tmp/buildtools"
	for h in lib/eal/include/bus_driver.h lib/eal/include/dev_driver.h \
		lib/ethdev/ethdev_driver.h lib/ethdev/ethdev_pci.h lib/ethdev/ethdev_vdev.h \
		drivers/bus/vdev/bus_vdev_driver.h drivers/bus/pci/bus_pci_driver.h; do
		cp "$src/$h" "$sdk.tmp/include/"
	done
	cp "$src/buildtools/pmdinfogen.py" "$src/buildtools/coff.py" "$sdk.tmp/buildtools/"
	cat "$src/VERSION" > "$sdk.tmp/VERSION"
	[ "$(cat "$sdk.tmp/VERSION")" = "$upstream" ] ||
		die "source VERSION $(cat "$sdk.tmp/VERSION") differs from installed $upstream"
	rm -rf "$sdk"
	mv "$sdk.tmp" "$sdk"
	say "driver-SDK headers for DPDK $upstream in $sdk"
}

setup_hugepages() {
	local have
	have=$(awk '/HugePages_Total/ {print $2}' /proc/meminfo)
	if [ "$have" -lt "$nr_huge" ]; then
		echo "$nr_huge" | $sudo tee /proc/sys/vm/nr_hugepages >/dev/null 2>&1 || true
		have=$(awk '/HugePages_Total/ {print $2}' /proc/meminfo)
	fi
	if ! grep -qs ' /dev/hugepages hugetlbfs' /proc/mounts; then
		$sudo mkdir -p /dev/hugepages 2>/dev/null || true
		$sudo mount -t hugetlbfs -o pagesize=2M nodev /dev/hugepages 2>/dev/null || true
	fi
	if [ "$have" -gt 0 ] && grep -qs ' /dev/hugepages hugetlbfs' /proc/mounts; then
		say "hugepages: $have x 2 MB reserved, hugetlbfs at /dev/hugepages"
	else
		say "WARNING: no usable 2 MB hugepages ($have reserved); units that need" \
			"them will be reported as skipped (run as root to reserve them)"
	fi
}

# The vm-tests' guest kernel; without it those tests are skipped, not failed.
fetch_guest_kernel() {
	local dir
	if dir=$("$top/test/vm/kernel.sh" --fetch); then
		say "guest kernel for vm-tests in $dir"
	else
		say "WARNING: no guest kernel for vm-tests; they will be reported as skipped"
	fi
}

[ $do_apt -eq 1 ] && install_packages
fetch_sdk
[ $do_huge -eq 1 ] && setup_hugepages
fetch_guest_kernel
exit 0
