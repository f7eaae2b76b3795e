#!/bin/bash
# Helper of bench/run.sh: run a command on the LIVE path over a generated
# tree.  Must run inside `unshare -Urm` (a private user + mount namespace):
# binds TREE/sys over /sys, TREE/run/udev over /run/udev and TREE/dev over
# /dev, exactly as tests/test-udev.sh does, then execs the command, which
# then sees the tree as the host (hostdevctl without --sysroot, lspci
# without -O).  Nothing outside the namespace is touched.
#
#   unshare -Urm bench/ns.sh TREE COMMAND [ARGS...]
set -eu
T=$1; shift
mount --bind "$T/sys" /sys
mount -t tmpfs tmpfs /run
mkdir -p /run/udev
mount --bind "$T/run/udev" /run/udev
[ -d "$T/dev" ] && mount --bind "$T/dev" /dev
export SYSTEMD_DEVICE_VERIFY_SYSFS=0
exec "$@"
