#!/usr/bin/env bash
# Release check: run the README's two commands, exactly as written, in a
# clean Debian 12 root, the way a new user (or a new CI machine) would.
#
#   scripts/check-clean-root.sh [--keep] [--workdir DIR] [--only-setup]
#
# 1. A minimal Debian 12 root is made with `debootstrap --variant=minbase`
#    (cached as a tarball in the work directory, so later runs start in a
#    minute) and extracted afresh; only git and ca-certificates are added.
#    It uses this machine's apt sources and apt network settings.
# 2. The committed HEAD of this repository is cloned inside that root (and
#    ../shared copied beside it when present, as CI lays it out).
# 3. The README's first two ```sh blocks run there, with CI=true: the first
#    must exit 0 and print the device tree, the second must exit 0 and end
#    with "N passed, 0 failed[, N skipped]".
#
# The root is entered with pivot_root in a private mount namespace, not
# chroot(2), so the tests' own `unshare -Urm` user namespaces work inside it.
# It gets a fresh /proc, /dev from the host (for /dev/kvm and /dev/null) and
# a *read-only* sysfs: nothing that runs in the root can write the host's /sys.
#
# Needs root (debootstrap, mounts). Logs: WORKDIR/logs/. Exit 0 when both
# commands pass, 1 otherwise.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
WORK=${HOSTDEV_CLEAN_ROOT_DIR:-/var/tmp/hostdev-clean-root}
KEEP=0
ONLY_SETUP=0
while [ $# -gt 0 ]; do
	case $1 in
	--keep) KEEP=1 ;;
	--workdir) WORK=$2; shift ;;
	--only-setup) ONLY_SETUP=1 ;;
	-h | --help) sed -n '2,24p' "$0"; exit 0 ;;
	*) echo "check-clean-root: unknown argument '$1'" >&2; exit 64 ;;
	esac
	shift
done
log() { printf 'check-clean-root: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (debootstrap and mounts)"
for t in unshare pivot_root git; do
	command -v "$t" >/dev/null || die "needs $t"
done
if ! command -v debootstrap >/dev/null; then
	log "installing debootstrap"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null ||
		die "cannot install debootstrap"
fi
mkdir -p "$WORK/logs"
LOGS=$WORK/logs
ROOT=$WORK/root
TARBALL=$WORK/bookworm-minbase.tar

# The first Debian mirror of this machine's apt sources.
mirror() {
	local m
	m=$(sed -n 's/^URIs: *\([^ ]*\/debian\)\/\?$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1)
	[ -n "$m" ] || m=$(sed -n 's/^deb \(\[[^]]*\] \)\?\([^ ]*\/debian\)\/\? bookworm .*/\2/p' \
		/etc/apt/sources.list 2>/dev/null | head -n1)
	printf '%s\n' "${m:-http://deb.debian.org/debian}"
}

# --- 1. the clean root ------------------------------------------------------
if [ ! -s "$TARBALL" ]; then
	log "debootstrap --variant=minbase bookworm ($(mirror)); log in $LOGS/debootstrap.log"
	rm -rf "$WORK/boot-root"
	debootstrap --variant=minbase bookworm "$WORK/boot-root" "$(mirror)" >"$LOGS/debootstrap.log" 2>&1 ||
		die "debootstrap failed (see $LOGS/debootstrap.log)"
	tar -C "$WORK/boot-root" -cf "$TARBALL.tmp" . && mv "$TARBALL.tmp" "$TARBALL"
	rm -rf "$WORK/boot-root"
fi
cleanup() { # mounts are private to each in_root call; only the root dir to remove
	[ "$KEEP" = 1 ] || rm -rf "$ROOT"
}
rm -rf "$ROOT"
mkdir -p "$ROOT"
tar -C "$ROOT" -xf "$TARBALL"
trap cleanup EXIT

# This machine's apt sources and network settings (proxies, validity checks).
rm -f "$ROOT"/etc/apt/sources.list "$ROOT"/etc/apt/sources.list.d/*
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
	[ -f "$f" ] && cp "$f" "$ROOT$f"
done
for f in /etc/apt/apt.conf.d/*; do
	[ -f "$f" ] && grep -q 'Acquire::' "$f" && cp "$f" "$ROOT$f"
done
for f in /usr/share/keyrings/*.gpg; do # keyrings named by those sources
	[ -e "$ROOT$f" ] || cp "$f" "$ROOT$f"
done
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"

# in_root CMD...: run CMD as root inside the clean root (see the header).
in_root() {
	unshare --mount --propagation private -- /bin/sh -ec '
		R=$1; shift
		mount --rbind "$R" "$R"
		mount -t proc proc "$R/proc"
		mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$R/sys"
		mount --rbind /dev "$R/dev"
		mount -t tmpfs -o mode=0755 tmpfs "$R/run"
		mkdir -p "$R/.oldroot"
		cd "$R"
		pivot_root . .oldroot
		umount -l /.oldroot
		rmdir /.oldroot
		exec /usr/sbin/chroot . /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb CI=true \
			PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
	' sh "$ROOT" "$@"
}

log "adding git and ca-certificates"
in_root /bin/sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends git ca-certificates' \
	>"$LOGS/base-packages.log" 2>&1 || die "cannot install git in the root (see $LOGS/base-packages.log)"

# --- 2. the clone -----------------------------------------------------------
HEAD=$(git -C "$SRC" rev-parse HEAD)
git clone -q --no-local "$SRC" "$ROOT/root/src.git" --bare
in_root git clone -q /root/src.git /root/hostdev
rm -rf "$ROOT/root/src.git"
[ -d "$SRC/../shared" ] && cp -a "$SRC/../shared" "$ROOT/root/shared"
log "cloned $HEAD into $ROOT/root/hostdev"

# --- 3. the README's two commands ----------------------------------------------
awk '/^```sh$/ { n++; inb = 1; next } /^```$/ { inb = 0; next } inb && n <= 2 { print > (dir "/cmd" n ".sh") }' \
	dir="$ROOT/root" "$SRC/README.md"
[ -s "$ROOT/root/cmd1.sh" ] && [ -s "$ROOT/root/cmd2.sh" ] || die "README.md does not start with two sh blocks"

log "command 1: $(cat "$ROOT/root/cmd1.sh")"
T0=$(date +%s)
rc1=0
in_root /bin/bash -c 'cd /root/hostdev && bash /root/cmd1.sh' >"$LOGS/command1.log" 2>&1 || rc1=$?
T1=$(date +%s)
log "command 1 exit $rc1 in $((T1 - T0)) s (log $LOGS/command1.log)"
ok=1
if [ "$rc1" != 0 ] || ! grep -q 'computer' "$LOGS/command1.log"; then
	tail -n 30 "$LOGS/command1.log" >&2
	log "command 1 did not print the device tree"
	ok=0
fi
if [ "$ONLY_SETUP" = 1 ]; then
	[ "$ok" = 1 ] || exit 1
	exit 0
fi

log "command 2: $(cat "$ROOT/root/cmd2.sh")"
rc2=0
in_root /bin/bash -c 'cd /root/hostdev && bash /root/cmd2.sh' >"$LOGS/command2.log" 2>&1 || rc2=$?
T2=$(date +%s)
summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$LOGS/command2.log" | tail -n1 || true)
log "command 2 exit $rc2 in $((T2 - T1)) s: ${summary:-no summary line} (log $LOGS/command2.log)"
grep -E '^(FAIL|SKIP) ' "$LOGS/command2.log" >&2 || true
if [ "$rc2" != 0 ] || ! printf '%s\n' "$summary" | grep -qE '^[0-9]+ passed, 0 failed'; then
	tail -n 40 "$LOGS/command2.log" >&2
	ok=0
fi
if [ "$ok" = 1 ]; then
	echo "clean Debian 12 root: both README commands pass at $HEAD ($summary)"
	exit 0
fi
echo "clean Debian 12 root: FAILED at $HEAD"
exit 1
