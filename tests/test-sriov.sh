#!/usr/bin/env bash
# SR-IOV: the library on a fake tree with the fake kernel, rtnetlink
# message units, and the CLI verbs (sriov list|set|vf, apply).
set -u
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/common.sh"
: "${TEST_SRIOV:=$SRCDIR/build/tests/test-sriov}"

# run a TAP-producing program, renumbering its tests into ours
sub_tap() {
        local line out rc
        out=$("$@" 2>"$TMP/sub.err"); rc=$?
        while IFS= read -r line; do
                case $line in
                "ok "*) ok "${line#ok * - }" ;;
                "not ok "*) fail "${line#not ok * - }" ;;
                esac
        done <<<"$out"
        [ $rc -eq 0 ] || diag "$1 exited $rc: $(tail -n 5 "$TMP/sub.err")"
}

build_fixtures full minimal

# --- library on a copy of "full"
cp -a "$TMP/fx/full" "$TMP/lib"
sub_tap "$TEST_SRIOV" lib "$TMP/lib" "$TMP/lib-state" "$TMP/lib-conf"

# --- rtnetlink: units, and the live socket on lo (in a network namespace of our own if we can)
if unshare -Urn true 2>/dev/null; then
        sub_tap env TEST_NETNS=1 unshare -Urn "$TEST_SRIOV" netlink
else
        sub_tap "$TEST_SRIOV" netlink
fi

# --- CLI
F=$TMP/fx/full
expect_exit() {
        local want=$1 name=$2; shift 2
        "$@" >"$TMP/out" 2>"$TMP/err"; local rc=$?
        [ $rc -eq "$want" ] && ok "$name" || fail "$name" "exit $rc, want $want: $(head -c 300 "$TMP/err")"
}
tree_sum() { (cd "$1" && find . -path ./.fake-kernel-natives -prune -o -print0 | sort -z | xargs -0 ls -ld --time-style=+ 2>/dev/null | md5sum); }
one_line_err() { [ "$(wc -l <"$TMP/err")" -eq 1 ] && grep -q "$1" "$TMP/err"; }

hd --sysroot "$F" sriov list >"$TMP/list"
grep -q '^0000:02:00.0  8086:10c9  driver igb  netdev enp2s0  VFs 2/7  autoprobe on$' "$TMP/list" \
        && grep -q '^  VF 0   0000:02:10.0  igbvf      enp2s16$' "$TMP/list" \
        && grep -q '^  VF 1   0000:02:10.2  vfio-pci   -$' "$TMP/list" \
        && grep -q '^0000:05:00.0  15b3:a2d6  driver mlx5_core  netdev enp5s0f0np0  VFs 0/16' "$TMP/list" \
        && ok "sriov list" || fail "sriov list" "$(cat "$TMP/list")"
hd --sysroot "$F" sriov list --json | python3 -c '
import json, sys
pfs = json.load(sys.stdin)
assert [p["address"] for p in pfs] == ["0000:02:00.0", "0000:05:00.0"], pfs
p = pfs[0]
assert (p["totalvfs"], p["numvfs"], p["driver"], p["netdev"], p["autoprobe"]) == (7, 2, "igb", "enp2s0", True), p
assert [(v["index"], v["address"], v["driver"], v["netdev"]) for v in p["vfs"]] == \
    [(0, "0000:02:10.0", "igbvf", "enp2s16"), (1, "0000:02:10.2", "vfio-pci", None)], p["vfs"]
assert all(v["mac"] is None and v["trust"] is None for v in p["vfs"])  # no netlink with --sysroot
' && ok "sriov list --json" || fail "sriov list --json"
hd --sysroot "$TMP/fx/minimal" sriov list | grep -q '^no SR-IOV physical functions$' && ok "sriov list without PFs" || fail "sriov list without PFs"

before=$(tree_sum "$F")
expect_exit 1 "set --numvfs above sriov_totalvfs fails" hd --sysroot "$F" --state-dir "$TMP/st" sriov set 02:00.0 --numvfs 8
one_line_err "supports at most 7 VFs (sriov_totalvfs), not 8; nothing changed" && ok "  ... with one clear line" || fail "  ... with one clear line" "$(cat "$TMP/err")"
expect_exit 2 "removing VFs while one is on vfio-pci is refused (exit 2)" hd --sysroot "$F" --state-dir "$TMP/st" sriov set 02:00.0 --numvfs 0
grep -q "VF 1 (0000:02:10.2) of 0000:02:00.0 is detached for a VM (bound to vfio-pci); use --force" "$TMP/err" \
        && ok "  ... naming the VF and --force" || fail "  ... naming the VF and --force" "$(cat "$TMP/err")"
expect_exit 0 "set --dry-run --force" hd --sysroot "$F" --state-dir "$TMP/st" sriov set 02:00.0 --numvfs 0 --force --dry-run
grep -q '^0000:02:00.0: sriov_numvfs 2 -> 0  would change$' "$TMP/out" && ok "  ... plans 2 -> 0" || fail "  ... plans 2 -> 0" "$(cat "$TMP/out")"
expect_exit 64 "--numvfs -1" hd --sysroot "$F" sriov set 02:00.0 --numvfs -1
expect_exit 64 "--numvfs abc" hd --sysroot "$F" sriov set 02:00.0 --numvfs abc
expect_exit 64 "set without --numvfs" hd --sysroot "$F" sriov set 02:00.0
expect_exit 64 "--driver nouveau" hd --sysroot "$F" sriov set 02:00.0 --numvfs 1 --driver nouveau
expect_exit 64 "--autoprobe maybe" hd --sysroot "$F" sriov set 02:00.0 --numvfs 1 --autoprobe maybe
expect_exit 64 "unknown subcommand" hd --sysroot "$F" sriov frob
expect_exit 1 "set on a device without SR-IOV" hd --sysroot "$F" sriov set 00:1f.6 --numvfs 1
one_line_err "is not an SR-IOV physical function" && ok "  ... says so" || fail "  ... says so" "$(cat "$TMP/err")"
expect_exit 64 "vf: invalid MAC" hd --sysroot "$F" sriov vf 02:00.0 0 --mac 02:00:00:00:00
one_line_err "invalid MAC address '02:00:00:00:00'" && ok "  ... one clear line" || fail "  ... one clear line" "$(cat "$TMP/err")"
expect_exit 64 "vf: multicast MAC" hd --sysroot "$F" sriov vf 02:00.0 0 --mac 01:00:5e:00:00:01
one_line_err "needs a unicast MAC" && ok "  ... one clear line" || fail "  ... one clear line" "$(cat "$TMP/err")"
expect_exit 64 "vf: --vlan 4096" hd --sysroot "$F" sriov vf 02:00.0 0 --vlan 4096
one_line_err "must be an integer 0..4095" && ok "  ... one clear line" || fail "  ... one clear line" "$(cat "$TMP/err")"
expect_exit 64 "vf: --trust maybe" hd --sysroot "$F" sriov vf 02:00.0 0 --trust maybe
expect_exit 64 "vf: INDEX abc" hd --sysroot "$F" sriov vf 02:00.0 abc --trust on
expect_exit 64 "vf: nothing to set" hd --sysroot "$F" sriov vf 02:00.0 0
expect_exit 64 "vf: --qos without --vlan" hd --sysroot "$F" sriov vf 02:00.0 0 --qos 3
expect_exit 1 "vf: INDEX >= numvfs" hd --sysroot "$F" sriov vf 02:00.0 2 --trust on
one_line_err "has 2 VFs: no VF 2" && ok "  ... one clear line" || fail "  ... one clear line" "$(cat "$TMP/err")"
expect_exit 1 "vf with --sysroot needs the live host" hd --sysroot "$F" sriov vf 02:00.0 0 --trust on
one_line_err "need the live host (rtnetlink)" && ok "  ... says so" || fail "  ... says so" "$(cat "$TMP/err")"
expect_exit 0 "vf --dry-run with --sysroot shows the plan" hd --sysroot "$F" sriov vf 02:00.0 1 --mac 02:11:22:33:44:55 --vlan 10 --trust on --spoofchk off --dry-run
[ "$(cat "$TMP/out")" = "pci_0000_02_00_0: VF 1: mac 02:11:22:33:44:55 vlan 10 qos 0 trust on spoofchk off  would change (not checked against the VF: no netlink with --sysroot)" ] \
        && ok "  ... exactly" || fail "  ... exactly" "$(cat "$TMP/out")"
expect_exit 1 "vf --dry-run with --sysroot still checks the index" hd --sysroot "$F" sriov vf 02:00.0 2 --trust on --dry-run
[ "$before" = "$(tree_sum "$F")" ] && [ ! -e "$F/etc/hostdev" ] && ok "refusals and errors changed nothing" || fail "refusals and errors changed nothing"

# --- state changes through the fake kernel (hostdevctl-fake: the CLI with tests/fake-kernel.c)
if [ -z "${HOSTDEVCTL_FAKE:-}" ] || [ ! -x "$HOSTDEVCTL_FAKE" ]; then
        skip "state-changing CLI runs" "no hostdevctl-fake (HOSTDEVCTL_FAKE)"
        finish
        exit
fi
fk() { "$HOSTDEVCTL_FAKE" --sysroot "$F" --state-dir "$TMP/st" "$@"; }
drv() { basename "$(readlink "$F/sys/bus/pci/devices/$1/driver" 2>/dev/null)" 2>/dev/null; }
expect_exit 0 "set --numvfs 0 --force" fk sriov set 02:00.0 --numvfs 0 --force
[ ! -e "$F/sys/bus/pci/devices/0000:02:10.0" ] && [ "$(cat "$F/sys/bus/pci/devices/0000:02:00.0/sriov_numvfs")" = 0 ] \
        && ok "  ... VFs gone" || fail "  ... VFs gone"
expect_exit 0 "set --numvfs 3 --driver vfio --persist" fk sriov set 02:00.0 --numvfs 3 --driver vfio --persist
[ "$(drv 0000:02:10.0)" = vfio-pci ] && [ "$(drv 0000:02:10.4)" = vfio-pci ] \
        && [ "$(cat "$F/sys/bus/pci/devices/0000:02:00.0/sriov_drivers_autoprobe")" = 0 ] \
        && ok "  ... 3 VFs on vfio-pci, autoprobe off" || fail "  ... 3 VFs on vfio-pci, autoprobe off" "$(cat "$TMP/out")"
grep -q "persisted in $F/etc/hostdev/sriov/0000:02:00.0.json" "$TMP/out" && [ -f "$F/etc/hostdev/sriov/0000:02:00.0.json" ] \
        && ok "  ... persisted under SYSROOT/etc/hostdev" || fail "  ... persisted under SYSROOT/etc/hostdev" "$(cat "$TMP/out")"
hd --sysroot "$F" sriov list | grep -q 'VFs 3/7  autoprobe off' && ok "  ... sriov list shows 3/7" || fail "  ... sriov list shows 3/7"
hd --sysroot "$F" nodedev-dumpxml pci_0000_02_10_4 | grep -q "<capability type='phys_function'>" \
        && ok "  ... new VF is a node device with phys_function" || fail "  ... new VF is a node device with phys_function"
expect_exit 0 "vf --persist with --sysroot records the settings" fk sriov vf 02:00.0 2 --mac 02:11:22:33:44:55 --vlan 10 --spoofchk off --persist
grep -q "VF 2 not applied (no netlink with --sysroot)" "$TMP/out" && ok "  ... says it was not applied" || fail "  ... says it was not applied" "$(cat "$TMP/out")"
python3 - "$F/etc/hostdev/sriov/0000:02:00.0.json" <<'PY' && ok "  ... config file content" || fail "  ... config file content"
import json, sys
c = json.load(open(sys.argv[1]))
assert c == {"address": "0000:02:00.0", "vendor": "0x8086", "device": "0x10c9", "serial": None, "numvfs": 3,
             "driver": "vfio-pci", "autoprobe": False,
             "vfs": [{"index": 2, "mac": "02:11:22:33:44:55", "vlan": 10, "spoofchk": False}]}, c
PY
expect_exit 0 "reboot stand-in: set --numvfs 0 --driver host --force" fk sriov set 02:00.0 --numvfs 0 --driver host --force
expect_exit 0 "apply --dry-run" fk apply --dry-run
grep -q '^0000:02:00.0: sriov_numvfs 0 -> 3  would change$' "$TMP/out" && [ ! -e "$F/sys/bus/pci/devices/0000:02:10.0" ] \
        && ok "  ... plans, changes nothing" || fail "  ... plans, changes nothing" "$(cat "$TMP/out")"
expect_exit 0 "apply" fk apply
grep -q '^0000:02:00.0: sriov_numvfs 0 -> 3  done$' "$TMP/out" && grep -q 'VF 2 0000:02:10.4: (none) -> vfio-pci  done' "$TMP/out" \
        && [ "$(drv 0000:02:10.2)" = vfio-pci ] && ok "  ... re-creates 3 VFs on vfio-pci" || fail "  ... re-creates 3 VFs on vfio-pci" "$(cat "$TMP/out")"
grep -q 'VF link settings of 1 VFs: need the live host (netlink)  skipped' "$TMP/out" && ok "  ... VF link settings skipped with --sysroot" || fail "  ... VF link settings skipped with --sysroot" "$(cat "$TMP/out")"
expect_exit 0 "apply again" fk apply
grep -q '^sriov: nothing changed$' "$TMP/out" && ! grep -q ' done$' "$TMP/out" && ok "  ... nothing changed" || fail "  ... nothing changed" "$(cat "$TMP/out")"
HOSTDEV_CONFIG_DIR=$TMP/other expect_exit 0 "HOSTDEV_CONFIG_DIR is honoured" fk sriov set 05:00.0 --numvfs 0 --persist
[ -f "$TMP/other/sriov/0000:05:00.0.json" ] && ok "  ... file in HOSTDEV_CONFIG_DIR" || fail "  ... file in HOSTDEV_CONFIG_DIR"

# malformed config: clear error, nothing changed, no partial files
printf '{"address": "0000:05:00.0",\n "vendor": "0x15b3",\n "numvfs": 2,,\n}\n' >"$F/etc/hostdev/sriov/0000:05:00.0.json"
cp "$F/etc/hostdev/sriov/0000:05:00.0.json" "$TMP/bad.json"
before=$(tree_sum "$F/sys")
expect_exit 1 "apply with a malformed config fails" fk apply
grep -q "0000:05:00.0.json: line 3: " "$TMP/err" && ok "  ... naming the file and line" || fail "  ... naming the file and line" "$(cat "$TMP/err")"
[ "$before" = "$(tree_sum "$F/sys")" ] && ok "  ... nothing changed" || fail "  ... nothing changed"
expect_exit 1 "set --persist over a malformed config" fk sriov set 05:00.0 --numvfs 0 --persist
grep -q "not persisted: the existing config is malformed" "$TMP/err" && cmp -s "$TMP/bad.json" "$F/etc/hostdev/sriov/0000:05:00.0.json" \
        && [ -z "$(ls "$F/etc/hostdev/sriov" | grep -v '\.json$')" ] \
        && ok "  ... file untouched, no partial files" || fail "  ... file untouched, no partial files" "$(cat "$TMP/err")"
# hardware moved: another device id at the address
printf '{"address":"0000:05:00.0","vendor":"0x15b3","device":"0x1017","numvfs":2}\n' >"$F/etc/hostdev/sriov/0000:05:00.0.json"
expect_exit 0 "apply skips a PF whose device id changed" fk apply
grep -q "0000:05:00.0: the device there is 15b3:a2d6, the config is for 15b3:1017 (hardware moved?); skipped" "$TMP/err" \
        && [ ! -e "$F/sys/bus/pci/devices/0000:05:00.0/virtfn0" ] && ok "  ... with a warning, nothing created" || fail "  ... with a warning, nothing created" "$(cat "$TMP/err")"

expect_exit 0 "apply --help" hd apply --help
grep -q "Idempotent" "$TMP/out" && ok "  ... documented" || fail "  ... documented"
finish
