#!/bin/sh
# Smoke test: build the tiny tree, run libvirt over it, check names/parents.
# Exit 0 pass, 77 skip (propagated from libvirt-nodedev.sh), 1 fail.
set -u
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/libvirt-selftest.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
"$here/mk-tiny-sysroot.sh" "$tmp/root" || exit 1
"$here/libvirt-nodedev.sh" "$tmp/root" "$tmp/out" --time
rc=$?
[ $rc -eq 0 ] || exit $rc
cat > "$tmp/expect" <<'X'
computer -
net_eth0_52_54_00_12_34_56 pci_0000_00_00_0
net_eth1_52_54_00_ab_cd_ef pci_0000_00_01_0
pci_0000_00_00_0 computer
pci_0000_00_01_0 computer
X
diff -u "$tmp/expect" "$tmp/out/parents.txt" || { echo "FAIL: parents differ" >&2; exit 1; }
grep -q '<product id=.0x1237.>440FX' "$tmp/out/xml/pci_0000_00_00_0.xml" || { echo "FAIL: pci xml" >&2; exit 1; }
grep -q '<uuid>6f8a3c62-1b2d-4e5f-9a0b-1c2d3e4f5a6b</uuid>' "$tmp/out/xml/computer.xml" || { echo "FAIL: computer xml" >&2; exit 1; }
if grep -q feature "$tmp/out/xml/net_eth0_52_54_00_12_34_56.xml"; then
    echo "FAIL: host ethtool features leaked into a fake netdev" >&2; exit 1
fi
grep -q '^first_nodedev_list [0-9]*\.[0-9][0-9][0-9]$' "$tmp/out/time.txt" || { echo "FAIL: time.txt" >&2; exit 1; }
echo "PASS ($(tr '\n' ' ' < "$tmp/out/time.txt"))"
