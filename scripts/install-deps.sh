#!/usr/bin/env bash
# Install hostdev's build and test dependencies on Debian 12 (bookworm).
# Does nothing when everything is already installed.
set -eu
PKGS=(
        # build
        gcc meson ninja-build pkg-config
        libudev-dev libpci-dev pci.ids libxml2-dev libjson-c-dev libsmartcols-dev libdrm-dev
        libvirt-dev                          # libvirt's client API: domains (domain/libvirt.c)
        libsystemd-dev                       # sd-bus, sd-event: hostdevd (daemon/, meson option daemon)
        # tests
        python3 libxml2-utils jq valgrind util-linux
        bash-completion zsh                  # completion: install path (pkg-config), the zsh function's syntax check
        groff-base                           # the docs test: the man page is well-formed (groff -man -ww)
        libvirt-daemon libvirt-clients      # reference node-device driver + nodedev.rng
        pciutils time                        # lspci for the benchmark
        dbus-daemon dbus-bin systemd         # the daemon test: a private bus, dbus-send, busctl
        libglib2.0-bin                       # the daemon tests' a(ss) arguments (gdbus call; dbus-send cannot)
        qemu-system-x86 cpio xz-utils zstd   # the real-kernel guest (tests/vm)
        kmod iproute2 gcc-12 make            # guest modules.dep, ip for VF checks, out-of-tree mtty/netdevsim
        libacl1 libblkid1 libcap2 libkmod2 libselinux1  # libraries of the guest's udevadm (udev .deb), copied from here
        clang libclang-rt-14-dev             # fuzz/: libFuzzer with ASan+UBSan (build-fuzz)
        mmdebstrap uidmap e2fsprogs          # the Debian-root guest (tests/vm/build-debian-root.sh): root in a user namespace, mkfs.ext4 -d, debugfs
)
missing=()
for p in "${PKGS[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "install-deps: installing ${missing[*]}" >&2
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
