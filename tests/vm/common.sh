# shellcheck shell=bash
# Shared helpers for tests/vm/*.sh (host side). Sourced, not executed.

HDVM_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HDVM_REPO=$(cd "$HDVM_SRC/../.." && pwd)

# Exit code used for "cannot run here" (automake/meson SKIP convention).
HDVM_SKIP=77

hdvm_log() { printf 'vm: %s\n' "$*" >&2; }
hdvm_die() { printf 'vm: error: %s\n' "$*" >&2; exit 1; }
hdvm_skip() { printf 'vm: SKIP: %s\n' "$*" >&2; exit "$HDVM_SKIP"; }

# The guest cache lives outside the clone (a fresh CI clone reuses it), in a
# folder keyed by the content of the scripts that build it: a change to them
# gets a new folder, and the three newest folders are kept.
hdvm_default_dir() {
	if [ -n "${HOSTDEV_VM_DIR:-}" ]; then
		printf '%s\n' "$HOSTDEV_VM_DIR"
		return
	fi
	local base key
	base=${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/hostdev-vm
	key=$(cat "$HDVM_SRC/build-guest.sh" "$HDVM_SRC/build-mtty.sh" "$HDVM_SRC/guest-init.sh" \
		"$HDVM_SRC/common.sh" | sha256sum | cut -c1-16)
	printf '%s\n' "$base/$key"
}

# Remove all but the three most recently used guest caches beside DIR.
hdvm_prune_caches() {
	local dir=$1 base
	[ -z "${HOSTDEV_VM_DIR:-}" ] || return 0
	base=$(dirname "$dir")
	find "$base" -mindepth 1 -maxdepth 1 -type d -printf '%T@ %p\n' 2>/dev/null | sort -rn |
		tail -n +4 | cut -d' ' -f2- | while read -r d; do
		[ "$d" != "$dir" ] && rm -rf "$d"
	done
	touch "$dir"
}

# Install missing host packages from apt (Debian/Ubuntu) when allowed.
# HOSTDEV_VM_NO_APT=1 disables it. Returns non-zero if anything is missing.
hdvm_apt_install() {
	[ "$#" -gt 0 ] || return 0
	if [ -n "${HOSTDEV_VM_NO_APT:-}" ] || ! command -v apt-get >/dev/null 2>&1 ||
		[ "$(id -u)" != 0 ]; then
		return 1
	fi
	hdvm_log "installing host packages: $*"
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" \
		>/dev/null 2>&1; then
		apt-get update -qq >/dev/null 2>&1 || true
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" \
			>/dev/null 2>&1 || return 1
	fi
}

# Ensure qemu-system-x86_64 is available (dependency step). Returns 1 if not.
hdvm_ensure_qemu() {
	command -v "${HOSTDEV_VM_QEMU:-qemu-system-x86_64}" >/dev/null 2>&1 && return 0
	hdvm_apt_install qemu-system-x86 || return 1
	command -v "${HOSTDEV_VM_QEMU:-qemu-system-x86_64}" >/dev/null 2>&1
}

# Resolve PATH (absolute, as the package sees it) inside the unpacked tree ROOT,
# following symlinks the way the guest would: an absolute link target is taken
# relative to ROOT, never to the host's /. Prints ROOT/<resolved>; fails on a
# dangling link, a target outside ROOT or a loop. Usage: hdvm_resolve_in ROOT PATH
hdvm_resolve_in() {
	local root=$1 rest=$2 cur= comp target hops=0
	rest=${rest#/}
	while [ -n "$rest" ]; do
		comp=${rest%%/*}
		if [ "$comp" = "$rest" ]; then rest=; else rest=${rest#*/}; fi
		case $comp in
		"" | .) continue ;;
		..) cur=${cur%/*}; continue ;;
		esac
		if [ -L "$root$cur/$comp" ]; then
			hops=$((hops + 1))
			[ "$hops" -le 40 ] || return 1
			target=$(readlink "$root$cur/$comp")
			case $target in
			/*) cur= ;;
			esac
			rest=${target#/}${rest:+/$rest}
		else
			cur=$cur/$comp
		fi
	done
	[ -e "$root$cur" ] && [ ! -L "$root$cur" ] || return 1
	printf '%s\n' "$root$cur"
}

# Copy a host ELF binary plus every shared library ldd lists (and the dynamic
# loader) into ROOT, keeping absolute paths. Usage: hdvm_copy_elf SRC DST ROOT
# (DST is the path inside ROOT where the binary goes; use the binary's host
# path when it has a RUNPATH with $ORIGIN, as meson build trees do).
hdvm_copy_elf() {
	local src=$1 dst=$2 root=$3 lib missing
	missing=$(LD_LIBRARY_PATH=${HOSTDEV_VM_LIBRARY_PATH:-${LD_LIBRARY_PATH:-}} ldd "$src" 2>/dev/null |
		sed -n 's/^[[:space:]]*\([^ ]*\) => not found.*/\1/p' | tr '\n' ' ')
	if [ -n "$missing" ]; then
		hdvm_log "$(basename "$src") needs libraries this host lacks: $missing(add their packages to scripts/install-deps.sh)"
		return 1
	fi
	mkdir -p "$root$(dirname "$dst")"
	cp -L "$src" "$root$dst"
	chmod 0755 "$root$dst"
	# Lines look like "libx.so => /path/libx.so (0x...)" or "/lib64/ld-linux... (0x...)".
	while read -r lib; do
		[ -n "$lib" ] || continue
		# "/build/tools/../libx.so" (RUNPATH $ORIGIN/..) -> "/build/libx.so"
		lib=$(realpath -m -s "$lib") # also makes relative ldd results absolute
		[ -e "$root$lib" ] && continue
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
		# Libraries found via RUNPATH or HOSTDEV_VM_LIBRARY_PATH: also put them
		# where the guest's ld.so looks by default (there is no ld.so.cache).
		case $lib in
		/lib/* | /lib64/* | /usr/lib/* | /usr/lib64/*) ;;
		*)
			local sys
			sys=/usr/lib/x86_64-linux-gnu/$(basename "$lib")
			mkdir -p "$root/usr/lib/x86_64-linux-gnu"
			[ -e "$root$sys" ] || cp -L "$lib" "$root$sys"
			;;
		esac
	done < <(LD_LIBRARY_PATH=${HOSTDEV_VM_LIBRARY_PATH:-${LD_LIBRARY_PATH:-}} ldd "$src" 2>/dev/null |
		sed -n 's/.*=> \([^ ]*\) (.*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (.*/\1/p')
	return 0
}

# Write a gzip'ed newc cpio of directory DIR to FILE (root-owned entries).
hdvm_mkcpio() {
	local dir=$1 out=$2 bb=${3:-}
	local tmp="$out.tmp.$$"
	if command -v cpio >/dev/null 2>&1; then
		(cd "$dir" && find . -mindepth 1 | LC_ALL=C sort |
			cpio -o -H newc -R 0:0 --quiet) | gzip -1 >"$tmp"
	elif [ -n "$bb" ] && [ -x "$bb" ]; then
		(cd "$dir" && find . -mindepth 1 | LC_ALL=C sort |
			"$bb" cpio -o -H newc -R 0:0 2>/dev/null) | gzip -1 >"$tmp"
	else
		hdvm_die "no cpio (install cpio or build the guest first)"
	fi
	mv "$tmp" "$out"
}
