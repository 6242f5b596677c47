#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
#
# Build a test/vm/ guest image: a gzip'd cpio (newc) initramfs holding
# busybox (from busybox-static), test/vm/init as /init, uio.ko and
# uio_pci_generic.ko of the guest kernel (test/vm/kernel.sh), the given
# programs in /opt/pfrag/, and every shared library `ldd` lists for them and
# for the given DPDK plugins, at their real paths with their symlink chains
# (one library under two names would be loaded twice and register its bus
# twice), plus libgcc_s.so.1, which glibc loads at run time unlisted.
# Plugins land at their real paths too: a run loads them with
# `-d /usr/lib/x86_64-linux-gnu/librte_net_virtio.so.23`. The guest has no
# DPDK plugin directory, so it carries only what the run means to load: our
# PMD and DPDK's net_virtio claim the same PCI ids.
#
# usage: test/vm/mkinitrd.sh -o IMAGE [-p PLUGIN]... PROGRAM...
# Prints the image's size; exit 1 on error.

set -eu

here=$(cd "$(dirname "$0")" && pwd)
out=
plugins=
while getopts "o:p:h" o; do
	case $o in
	o) out=$OPTARG ;;
	p) plugins="$plugins $OPTARG" ;;
	*) sed -n '3,20p' "$0"; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ -n "$out" ] && [ $# -gt 0 ] || { sed -n '3,20p' "$0"; exit 2; }

die() { echo "mkinitrd.sh: $*" >&2; exit 1; }
kdir=$("$here/kernel.sh") || die "no guest kernel (devtools/setup.sh fetches it)"
busybox=$(command -v busybox) || die "busybox not installed (busybox-static)"
file -L "$busybox" 2>/dev/null | grep -q 'statically linked' ||
	ldd "$busybox" 2>&1 | grep -q 'not a dynamic' ||
	die "$busybox is not statically linked (install busybox-static)"
command -v cpio >/dev/null || die "cpio not installed"

stage=$(mktemp -d "${TMPDIR:-/tmp}/pfrag-vm-stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT
chmod 755 "$stage"

# The host's top-level symlinks (merged /usr: /lib -> usr/lib), so that
# absolute symlinks and the ELF interpreter path resolve in the guest too.
mkdir -p "$stage/usr/bin" "$stage/usr/sbin" "$stage/usr/lib" "$stage/usr/lib64"
for d in bin sbin lib lib32 lib64 libx32; do
	if [ -L "/$d" ]; then
		ln -s "$(readlink "/$d")" "$stage/$d"
	fi
done
mkdir -p "$stage/bin" "$stage/lib/modules" "$stage/opt/pfrag" "$stage/usr/bin" \
	"$stage/usr/sbin" "$stage/sbin" "$stage/etc"

# Copy path $1 into the stage at its canonical directory, following and
# keeping every symlink of the chain.
copy_path() {
	p=$1
	n=0
	while :; do
		dir=$(readlink -f "$(dirname "$p")")
		base=$(basename "$p")
		src=$dir/$base
		[ -e "$src" ] || die "$p: no such file"
		mkdir -p "$stage$dir"
		if [ -L "$src" ]; then
			[ -L "$stage$src" ] || cp -P "$src" "$stage$src"
			t=$(readlink "$src")
			case $t in /*) p=$t ;; *) p=$dir/$t ;; esac
		else
			[ -f "$stage$src" ] || cp "$src" "$stage$src"
			return 0
		fi
		n=$((n + 1))
		[ $n -lt 40 ] || die "$1: symlink loop"
	done
}

# Every library ldd resolves for $1 (and the ELF interpreter).
libs_of() {
	ldd "$1" 2>/dev/null | awk '
		/=> not found/ { print "MISSING " $1; next }
		/=> \// { print $3; next }
		/^[ \t]*\// { print $1 }'
}

copy_libs() {
	for l in $(libs_of "$1"); do
		[ "$l" = MISSING ] && die "$1: a library ldd cannot find"
		copy_path "$l"
	done
}

cp "$busybox" "$stage/bin/busybox"
cp "$here/init" "$stage/init"
chmod 755 "$stage/init"
cp "$kdir/uio.ko" "$kdir/uio_pci_generic.ko" "$stage/lib/modules/"
for prog in "$@"; do
	[ -x "$prog" ] || die "$prog: not an executable"
	cp "$prog" "$stage/opt/pfrag/"
	copy_libs "$prog"
done
for so in $plugins; do
	[ -f "$so" ] || die "$so: no such plugin"
	copy_path "$so"
	copy_libs "$so"
done
gcc_s=$(ldconfig -p | awk '/libgcc_s\.so\.1 .*x86-64/ { print $NF; exit }')
[ -n "$gcc_s" ] || die "libgcc_s.so.1 not found (ldconfig -p)"
copy_path "$gcc_s"

tmpimg=$out.tmp.$$
(cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) |
	gzip -1 > "$tmpimg"
mv "$tmpimg" "$out"
echo "mkinitrd.sh: $out: $(du -k "$out" | cut -f1) KB, programs: $(echo "$@" |
	xargs -n1 basename | tr '\n' ' ')plugins:${plugins:- none}"
