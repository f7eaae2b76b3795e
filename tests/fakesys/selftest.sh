#!/bin/sh
# Build every fixture case and a small benchmark tree, then check each one
# against real libudev (check_udev.py) and pciutils (lspci).
# Exit: 0 pass, 77 skip (no unshare/user namespaces or no libudev), 1 fail.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fakesys-selftest.XXXXXX") || exit 1
trap 'chmod -R u+rwX "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT

python3 "$top/tests/data/sysroots/build.py" "$tmp" >/dev/null || { echo "FAIL: build.py" >&2; exit 1; }
python3 "$top/bench/gen-tree.py" --pci 200 "$tmp/bench" >/dev/null || { echo "FAIL: gen-tree.py" >&2; exit 1; }

# determinism
python3 "$top/tests/data/sysroots/build.py" "$tmp/again" full >/dev/null || exit 1
diff -r --no-dereference "$tmp/full" "$tmp/again/full" >/dev/null || { echo "FAIL: full is not deterministic" >&2; exit 1; }

if ! unshare -Urm true 2>/dev/null; then
    echo "SKIP: unshare -Urm (user namespaces) not permitted" >&2; exit 77
fi
python3 -c 'import ctypes; ctypes.CDLL("libudev.so.1")' 2>/dev/null || { echo "SKIP: no libudev.so.1" >&2; exit 77; }

rc=0
for c in full minimal broken hostile bench; do
    out=$(python3 "$here/check_udev.py" "$tmp/$c" 2>&1) || { echo "$out" >&2; echo "FAIL: libudev check of $c" >&2; rc=1; }
done

if command -v lspci >/dev/null 2>&1; then
    n=$(lspci -A linux-sysfs -O "sysfs.path=$tmp/full/sys/bus/pci" -n 2>/dev/null | wc -l)
    [ "$n" -eq 25 ] || { echo "FAIL: lspci sees $n functions in full, want 25" >&2; rc=1; }
    lspci -A linux-sysfs -O "sysfs.path=$tmp/full/sys/bus/pci" -vvv -s 05:00.0 2>/dev/null |
        grep -q 'checksum good' || { echo "FAIL: lspci VPD checksum" >&2; rc=1; }
    n=$(lspci -A linux-sysfs -O "sysfs.path=$tmp/bench/sys/bus/pci" -n 2>/dev/null | wc -l)
    [ "$n" -eq 200 ] || { echo "FAIL: lspci sees $n functions in bench, want 200" >&2; rc=1; }
fi
[ $rc -eq 0 ] && echo PASS
exit $rc
