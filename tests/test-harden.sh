#!/usr/bin/env bash
# Issue 10 hardening: the ten holes through the CLI, unprivileged use of the
# write verbs, and kill -9 at every kernel step of every write path with the
# fake kernel (tests/fake-kernel.c: HOSTDEV_FAKE_KILL_AT).  Nothing here
# writes to this machine's /sys: runs without --sysroot are read-only verbs,
# or write verbs run as a real non-root uid (setpriv to nobody when the
# tests run as root; a user namespace is not enough: its files access still
# uses the real uid) on devices that do not exist.
set -u
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/common.sh"

build_fixtures full
F=$TMP/fx/full
FK=${HOSTDEVCTL_FAKE:-$SRCDIR/build/tests/hostdevctl-fake}
# CMD under a seccomp filter failing openat2 with ENOSYS (tests/no-openat2.c)
NO_OPENAT2=${NO_OPENAT2:-$SRCDIR/build/tests/no-openat2}

expect_exit() { # CODE NAME CMD...
        local code=$1 name=$2; shift 2
        "$@" > "$TMP/out" 2> "$TMP/err"
        local rc=$?
        [ $rc = "$code" ] && ok "$name" || fail "$name" "exit $rc, expected $code: $(head -3 "$TMP/err" | tr '\n' ' ')"
}
has() { # NAME FILE PATTERN: FILE holds the fixed string PATTERN
        grep -qF -- "$3" "$2" && ok "$1" || fail "$1" "$(head -3 "$2" | tr '\n' ' ')"
}
fresh() { rm -rf "$TMP/t" "$TMP/st"; cp -a "$F" "$TMP/t"; }
fk() { HOSTDEV_FAKE_BIND_TIMEOUT_MS=300 "$FK" --sysroot "$TMP/t" --state-dir "$TMP/st" "$@"; }
drv() { basename "$(readlink "$TMP/t/sys/bus/pci/devices/$1/driver" 2>/dev/null)" 2>/dev/null; }
# unpriv CMD...: CMD as a real unprivileged uid.  nobody may not reach the
# build tree (a clone under root's 0700 home, as in CI), so hostdevctl and
# hostdevctl-fake run from copies in $TMP (hostdevctl finds libhostdev.so
# through its RUNPATH, $ORIGIN/..).
UBIN=$TMP/ubin
mkdir -p "$UBIN/tools"
cp "$HOSTDEVCTL" "$UBIN/tools/hostdevctl"
cp -P "$(dirname "$(dirname "$HOSTDEVCTL")")"/libhostdev.so* "$UBIN/" 2>/dev/null
cp "$FK" "$UBIN/hostdevctl-fake"
chmod 711 "$TMP"
chmod -R a+rX "$UBIN"
unpriv() {
        local cmd=$1
        shift
        case $cmd in
        "$HOSTDEVCTL") cmd=$UBIN/tools/hostdevctl ;;
        "$FK") cmd=$UBIN/hostdevctl-fake ;;
        esac
        if [ "$(id -u)" = 0 ]; then
                setpriv --reuid=65534 --regid=65534 --clear-groups -- "$cmd" "$@"
        else
                "$cmd" "$@"
        fi
}
can_unpriv() { [ "$(id -u)" != 0 ] || { command -v setpriv > /dev/null && setpriv --reuid=65534 --regid=65534 --clear-groups -- true; }; }

# --- 1. nodedev-reset has the host-safety check
fresh
echo "22 1 8:2 / / rw,relatime shared:1 - ext4 /dev/sda2 rw" > "$TMP/t/proc/self/mountinfo"
echo pm > "$TMP/t/sys/bus/pci/devices/0000:00:17.0/reset_method"
: > "$TMP/t/sys/bus/pci/devices/0000:00:17.0/reset"
expect_exit 2 "1: nodedev-reset of the root filesystem's controller is refused (exit 2)" fk nodedev-reset 00:17.0
has "1: ... naming the mount" "$TMP/err" "sda2 backs the filesystem mounted on /"
! grep -q "reset (kernel method" "$TMP/out" && ok "1: ... and says no reset happened" || fail "1: ... and says no reset happened"
expect_exit 0 "1: --force resets it" fk nodedev-reset 00:17.0 --force

# --- 2. --sysroot "" / "/" / "/tmp/.." never mean the live host.  The write
# verb runs as nobody on a device that does not exist, so that even a
# regression cannot touch this host.
chmod 711 "$TMP" # nobody may follow $TMP/rootlink
for s in "" / /tmp/.. "$TMP/rootlink"; do
        [ "$s" = "$TMP/rootlink" ] && ln -sfn / "$TMP/rootlink"
        expect_exit 64 "2: --sysroot '$s' nodedev-list is a usage error" hd --sysroot "$s" nodedev-list
        grep -q "leave --sysroot out" "$TMP/err" && ok "2: ... saying how to mean this host" || fail "2: ... saying how to mean this host" "$(cat "$TMP/err")"
        if can_unpriv; then
                expect_exit 64 "2: --sysroot '$s' nodedev-detach is refused before anything" \
                        unpriv "$HOSTDEVCTL" --sysroot "$s" nodedev-detach 0000:7f:1f.7 --dry-run
        else
                skip "2: --sysroot '$s' nodedev-detach" "cannot run as nobody (no setpriv)"
        fi
done

# --- 3. (journal) see test-vfio and the kill tests below; through the CLI:
fresh
HOSTDEV_FAKE_KILL_AT=5 fk nodedev-detach 01:00.0 --group > /dev/null 2>&1
[ $? = 137 ] && [ "$(drv 0000:01:00.0)" = vfio-pci ] && [ -e "$TMP/st/transaction.json" ] \
        && ok "3: group detach killed after its first member" || fail "3: group detach killed after its first member"
expect_exit 0 "3: the next detach of another device" fk nodedev-detach 00:1f.6
has "3: ... says it recovers the interrupted transaction first" "$TMP/err" "holds an interrupted transaction: recovering it first"
[ "$(drv 0000:01:00.0)" = nouveau ] && [ "$(drv 0000:01:00.1)" = snd_hda_intel ] && [ ! -e "$TMP/st/transaction.json" ] \
        && ok "3: ... the group is whole again, the journal empty" || fail "3: ... the group is whole again, the journal empty"

# --- 4. output write errors
if [ -w /dev/full ]; then
        hd --sysroot "$F" nodedev-dumpxml --all > /dev/full 2> "$TMP/err"; rc=$?
        [ $rc = 1 ] && grep -q "cannot write the output: No space left on device" "$TMP/err" \
                && ok "4: ... exit 1, saying why" || fail "4: ... exit 1, saying why" "exit $rc $(cat "$TMP/err")"
        hd --sysroot "$F" nodedev-list --json > /dev/full 2>/dev/null; [ $? = 1 ] && ok "4: nodedev-list --json > /dev/full fails" || fail "4: nodedev-list --json > /dev/full fails"
else
        skip "4: /dev/full" "not writable here"
fi
# a pipe whose reader is gone before the first write (a FIFO opened
# read-write, then its read side closed): no race with a reader's exit,
# which could come after the whole output fit into the pipe's buffer
mkfifo "$TMP/fifo"
rc=$( (trap '' PIPE; exec 7<>"$TMP/fifo" 8>"$TMP/fifo"; exec 7<&-
       hd --sysroot "$F" nodedev-dumpxml --all 2> "$TMP/err" >&8; echo $?) )
[ "$rc" = 1 ] && grep -q "Broken pipe" "$TMP/err" && ok "4: SIGPIPE ignored: a closed pipe fails the run" \
        || fail "4: SIGPIPE ignored: a closed pipe fails the run" "exit $rc"

# --- 5. invalid UTF-8 in a sysfs attribute
fresh
printf 'HTS721010G9SA00\xff\xfe\n' > "$TMP/t/sys/block/sda/device/model"
hd --sysroot "$TMP/t" nodedev-dumpxml --all > "$TMP/all.xml"
xmllint --noout "$TMP/all.xml" 2>/dev/null && ok "5: XML with \\xff\\xfe in a model is well-formed" || fail "5: XML with \\xff\\xfe in a model is well-formed"
hd --sysroot "$TMP/t" nodedev-dumpxml block_sda_HTS721010G9SA00_MPCZ12Y0GNGWSE > "$TMP/sda.xml" 2>/dev/null \
        || hd --sysroot "$TMP/t" nodedev-list | grep '^block_sda' | head -1 | xargs hd --sysroot "$TMP/t" nodedev-dumpxml > "$TMP/sda.xml"
grep -q "<model>HTS721010G9SA00??</model>" "$TMP/sda.xml" && ok "5: ... the invalid bytes become '?'" || fail "5: ... the invalid bytes become '?'" "$(grep model "$TMP/sda.xml")"
n=$(hd --sysroot "$TMP/t" nodedev-list | grep '^block_sda' | head -1)
hd --sysroot "$TMP/t" show "$n" --json | python3 -c 'import json,sys; json.loads(sys.stdin.buffer.read().decode("utf-8"))' 2>/dev/null \
        && ok "5: JSON is valid UTF-8" || fail "5: JSON is valid UTF-8"

# --- 6. a capture has no proc/: safety facts unknown, never "would move"
hd --sysroot "$F" capture "$TMP/cap" 2>/dev/null
expect_exit 2 "6: capture: detach --dry-run of the root disk's controller is refused" \
        "$HOSTDEVCTL" --sysroot "$TMP/cap" --state-dir "$TMP/st6" nodedev-detach 00:17.0 --dry-run
has "6: ... saying the safety facts are unknown" "$TMP/err" "host-safety facts unknown"
! grep -q "would move" "$TMP/out" && ok "6: ... never 'would move'" || fail "6: ... never 'would move'" "$(cat "$TMP/out")"
expect_exit 2 "6: capture: nodedev-reset refused as well" "$HOSTDEVCTL" --sysroot "$TMP/cap" nodedev-reset 00:1f.6
expect_exit 0 "6: --dry-run --force still plans" "$HOSTDEVCTL" --sysroot "$TMP/cap" --state-dir "$TMP/st6" nodedev-detach 00:17.0 --dry-run --force

# --- 7. without openat2 (ENOSYS from a seccomp filter: no-openat2), absolute
# and .. links still resolve inside the sysroot
fresh
mkdir -p "$TMP/outside" "$TMP/t$TMP/outside"
echo 0xdead > "$TMP/outside/vendor"
echo 0x1234 > "$TMP/t$TMP/outside/vendor"
d=$(cd "$TMP/t/sys/bus/pci/devices/0000:00:1f.6" && pwd -P)
rm -f "$d/vendor"; ln -s "$TMP/outside/vendor" "$d/vendor"
rm -f "$d/device"; ln -s "../../../../../../../../../../../../../..$TMP/outside/vendor" "$d/device"
# ids come from the uevent's PCI_ID when it has one: drop it, so the vendor
# and device attributes (the links) are what is read
sed -i '/^PCI_ID=/d' "$d/uevent"
openat2_errno='import ctypes; c = ctypes.CDLL(None, use_errno=True); c.syscall(437, -100, b"/", None, 0); print(ctypes.get_errno())'
[ "$("$NO_OPENAT2" python3 -c "$openat2_errno")" = 38 ] && [ "$(python3 -c "$openat2_errno")" != 38 ] \
        && ok "7: no-openat2 fails openat2 with ENOSYS (and only under it)" || fail "7: no-openat2 fails openat2 with ENOSYS (and only under it)"
for mode in openat2 fallback; do
        $([ $mode = fallback ] && echo "$NO_OPENAT2") "$HOSTDEVCTL" --sysroot "$TMP/t" nodedev-dumpxml 00:1f.6 > "$TMP/x.xml" 2>&1
        grep -q "<vendor id='0x1234'" "$TMP/x.xml" && ! grep -q 0xdead "$TMP/x.xml" \
                && ok "7 ($mode): an absolute link resolves inside the sysroot" || fail "7 ($mode): an absolute link resolves inside the sysroot" "$(grep -E 'vendor|product' "$TMP/x.xml" | tr '\n' ' ')"
        grep -q "<product id='0x1234'" "$TMP/x.xml" \
                && ok "7 ($mode): a .. link stops at the sysroot" || fail "7 ($mode): a .. link stops at the sysroot" "$(grep product "$TMP/x.xml")"
done
ln -s loop-b "$d/loop-a"; ln -s loop-a "$d/loop-b"
"$NO_OPENAT2" "$HOSTDEVCTL" --sysroot "$TMP/t" nodedev-list > "$TMP/fb.names" 2>/dev/null \
        && cmp -s "$TMP/fb.names" <(hd --sysroot "$TMP/t" nodedev-list 2>/dev/null) \
        && ok "7: the fallback enumerates the same devices as openat2" || fail "7: the fallback enumerates the same devices as openat2"

# --- 8. iommu explain: chipset functions with 256-byte config space
hd --sysroot "$F" iommu explain 00:1f.6 > "$TMP/ex"
has "8: names the sibling functions" "$TMP/ex" "its sibling functions 0000:00:1f.0 0000:00:1f.3 0000:00:1f.4 share its group"
! grep -q "comes from the platform" "$TMP/ex" && ok "8: ... and does not blame the platform" || fail "8: ... and does not blame the platform"

# --- 9. a detach that waits for a bind says so, and says the driver did not bind
fresh
HOSTDEV_FAKE_FAIL_PROBE=0000:00:1f.6 expect_exit 1 "9: a bind that never happens fails" fk -v nodedev-detach 00:1f.6
has "9: ... -v says what it waits for" "$TMP/err" "0000:00:1f.6: waiting up to 300 ms for vfio-pci to bind to it"
has "9: ... and that the driver did not bind" "$TMP/err" "the vfio-pci driver did not bind to 0000:00:1f.6"
! grep -q "Connection timed out" "$TMP/err" && ok "9: ... not 'Connection timed out'" || fail "9: ... not 'Connection timed out'"
[ "$(drv 0000:00:1f.6)" = e1000e ] && ok "9: ... rolled back to e1000e" || fail "9: ... rolled back to e1000e"

# --- 10. one function of a group that is still not viable
fresh
expect_exit 0 "10: detach of one GPU function" fk nodedev-detach 01:00.0
has "10: ... says the group is not viable yet and suggests --group" "$TMP/err" \
        "note: IOMMU group 2 is not viable yet: 0000:01:00.1 is still bound to snd_hda_intel; detach the whole group with --group"
fk nodedev-detach 01:00.0 --json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["status"] == "ok" and "not viable yet" in d["reason"], d' && ok "10: ... and in the JSON reason" || fail "10: ... and in the JSON reason"

# --- unprivileged: every write verb on the live host needs root, fails
# before changing anything.  Run as nobody (setpriv when we are root) on
# devices that do not exist: even a regression could change nothing here.
if can_unpriv; then
        chmod 711 "$TMP"
        U=11111111-2222-4333-8444-555555555555
        while read -r args; do
                # shellcheck disable=SC2086
                unpriv "$HOSTDEVCTL" --state-dir "$TMP/unpriv-state" $args > "$TMP/out" 2> "$TMP/err"
                rc=$?
                if [ $rc = 1 ] && grep -q "needs root" "$TMP/err" && [ ! -e "$TMP/unpriv-state" ] && [ ! -s "$TMP/out" ]; then
                        ok "unprivileged: '$args' fails with 'needs root', nothing done"
                else
                        fail "unprivileged: '$args' fails with 'needs root', nothing done" "exit $rc: $(head -2 "$TMP/err" | tr '\n' ' ')"
                fi
        done <<EOF
nodedev-detach 0000:7f:1f.7
nodedev-detach 0000:7f:1f.7 --dry-run
nodedev-reattach 0000:7f:1f.7
nodedev-reset 0000:7f:1f.7
recover
apply
apply --dry-run
sriov set 0000:7f:1f.7 --numvfs 0
sriov vf 0000:7f:1f.7 0 --trust on
mdev create 0000:7f:1f.7 nope
mdev remove $U
mdev define $U --parent 0000:7f:1f.7 --type nope
mdev undefine $U
mdev start $U
mdev stop $U
mdev autostart $U
mdev modify $U --auto
nodedev-create /dev/null
nodedev-define /dev/null
nodedev-destroy $U
nodedev-undefine $U
nodedev-start $U
nodedev-autostart $U
EOF
        unpriv "$HOSTDEVCTL" nodedev-list > /dev/null 2>&1 && ok "unprivileged: read verbs still work" || fail "unprivileged: read verbs still work"
        # a fake tree and state dir the unprivileged user may write: works
        fresh
        chmod -R a+rwX "$TMP/t"; mkdir -p "$TMP/st"; chmod 777 "$TMP/st"
        unpriv "$FK" --sysroot "$TMP/t" --state-dir "$TMP/st" nodedev-detach 00:1f.6 > "$TMP/out" 2>&1 \
                && [ "$(drv 0000:00:1f.6)" = vfio-pci ] \
                && ok "unprivileged: --sysroot fake tree write verbs still work" || fail "unprivileged: --sysroot fake tree write verbs still work" "$(cat "$TMP/out")"
else
        skip "unprivileged write verbs" "cannot run as nobody (no setpriv)"
fi

# --- kill -9 at every step of every write path (fake kernel), then recover
# (or the next run): every device on exactly one driver, every config file
# complete or absent, the journal empty.
# the copies live on tmpfs when there is one: one fresh tree per kill
KT=$TMP
if [ -d /dev/shm ] && [ -w /dev/shm ] && KT=$(mktemp -d /dev/shm/hostdev-harden.XXXXXX 2>/dev/null); then
        trap 'rm -rf "$TMP" "$KT"' EXIT
else
        KT=$TMP
fi
BASE=$KT/base
cp -a "$F" "$BASE"
"$FK" --sysroot "$BASE" nodedev-list > /dev/null # the fake kernel notes the native drivers
K=$KT/k KS=$KT/ks
hk() { HOSTDEV_FAKE_BIND_TIMEOUT_MS=300 "$FK" --sysroot "$K" --state-dir "$KS" "$@"; }
consistent() {
        python3 - "$K" "$KS" "$BASE" <<'PY'
import glob, json, os, sys
root, state, base = sys.argv[1:4]
pt = ("vfio-pci", "pci-stub")
def drv(r, a):
    l = os.path.join(r, "sys/bus/pci/devices", a, "driver")
    return os.path.basename(os.readlink(l)) if os.path.islink(l) else ""
def override(a):
    try:
        return open(os.path.join(root, "sys/bus/pci/devices", a, "driver_override")).read().strip()
    except OSError:
        return ""
natives = dict(l.split() for l in open(os.path.join(base, ".fake-kernel-natives")))
driverless = {a for a in os.listdir(base + "/sys/bus/pci/devices") if not drv(base, a)}
drivers = os.listdir(root + "/sys/bus/pci/drivers")
errs = []
for a in sorted(os.listdir(root + "/sys/bus/pci/devices")):
    d = drv(root, a)
    on = [x for x in drivers if os.path.lexists(os.path.join(root, "sys/bus/pci/drivers", x, a))]
    if on != ([d] if d else []):
        errs.append("%s: driver link %r, listed by %s" % (a, d, on))
    if not d and a not in driverless:
        errs.append("%s has no driver" % a)
    rec = os.path.join(state, "devices", a + ".json")
    if os.path.exists(rec) and d not in pt:
        errs.append("%s: a record but on %r" % (a, d))
    if a in natives and d not in pt and d != natives[a]:
        errs.append("%s on %r, not its own %s" % (a, d, natives[a]))
    if a in natives and d in pt and not os.path.exists(rec):
        errs.append("%s on %s without a record" % (a, d))
    if d not in pt and override(a) in pt:
        errs.append("%s: on %r with driver_override %s left" % (a, d, override(a)))
if os.path.exists(os.path.join(state, "transaction.json")):
    errs.append("transaction.json left")
for f in glob.glob(os.path.join(state, "**"), recursive=True) + glob.glob(os.path.join(root, "etc", "**"), recursive=True):
    if f.endswith(".hostdev-tmp"):
        # killed between fsync and rename: readers ignore it, the next write replaces it
        if not os.environ.get("TMP_OK"):
            errs.append("partial file " + f)
    elif os.path.isfile(f) and (f.endswith(".json") or "/mdevctl.d/" in f):
        try:
            json.load(open(f))
        except ValueError as e:
            errs.append("%s: %s" % (f, e))
for e in errs:
    print(e)
sys.exit(1 if errs else 0)
PY
}
# killtest NAME SETUP NEXT CMD...: run CMD killed before its 1st, 2nd, ...
# kernel step until it completes; after each kill run recover and NEXT
# (the next run: "" for none) and check consistency.
killtest() {
        local name=$1 setup=$2 next=$3; shift 3
        local n=1 killed=0 bad="" rc=none
        while [ $n -lt 100 ]; do
                rm -rf "$K" "$KS"; cp -a "$BASE" "$K"
                [ -n "$setup" ] && { eval "$setup" > /dev/null 2>&1 || { bad="setup failed"; break; }; }
                HOSTDEV_FAKE_KILL_AT=$n "$@" > "$TMP/kout" 2>&1; rc=$?
                [ $rc = 137 ] || break
                killed=$((killed + 1))
                hk recover > "$TMP/krec" 2>&1 || bad="$bad; recover after step $n: $(tail -1 "$TMP/krec")"
                [ -n "$next" ] && { eval "$next" > "$TMP/knext" 2>&1 || bad="$bad; next run after step $n: $(tail -1 "$TMP/knext")"; }
                consistent > "$TMP/kcons" || bad="$bad; after step $n: $(head -3 "$TMP/kcons" | tr '\n' ' ')"
                n=$((n + 1))
        done
        [ "$rc" = 0 ] || bad="$bad; the uninterrupted run exited $rc: $(tail -2 "$TMP/kout" | tr '\n' ' ')"
        # the same between each file's fsync and rename (journal, records, configs)
        local m=1 fkilled=0
        while [ $m -lt 100 ]; do
                rm -rf "$K" "$KS"; cp -a "$BASE" "$K"
                [ -n "$setup" ] && { eval "$setup" > /dev/null 2>&1 || { bad="$bad; setup failed"; break; }; }
                HOSTDEV_TEST_KILL_AT_FILE=$m "$@" > "$TMP/kout" 2>&1; rc=$?
                [ $rc = 137 ] || break
                fkilled=$((fkilled + 1))
                hk recover > "$TMP/krec" 2>&1 || bad="$bad; recover after file $m: $(tail -1 "$TMP/krec")"
                [ -n "$next" ] && { eval "$next" > "$TMP/knext" 2>&1 || bad="$bad; next run after file $m: $(tail -1 "$TMP/knext")"; }
                TMP_OK=1 consistent > "$TMP/kcons" || bad="$bad; after file $m: $(head -3 "$TMP/kcons" | tr '\n' ' ')"
                m=$((m + 1))
        done
        killed="$killed kernel steps and $fkilled file writes"
        consistent > "$TMP/kcons" || bad="$bad; after the uninterrupted run: $(head -3 "$TMP/kcons" | tr '\n' ' ')"
        if [ -z "$bad" ] && [ "${killed%% *}" -ge "${MIN_STEPS:-1}" ]; then
                ok "kill -9 at each of the $killed of '$name': consistent after recover"
        else
                fail "kill -9 at each step of '$name' ($killed steps)" "${bad:-too few steps}"
        fi
}
killtest "nodedev-detach" "" "" hk nodedev-detach 00:1f.6
killtest "nodedev-detach --group" "" "" hk nodedev-detach 01:00.0 --group
killtest "nodedev-detach --group --driver stub (module load)" "" "" hk nodedev-detach 01:00.0 --group --driver stub
killtest "nodedev-reattach" "hk nodedev-detach 00:1f.6" "" hk nodedev-reattach 00:1f.6
killtest "nodedev-reattach --group" "hk nodedev-detach 01:00.0 --group" "" hk nodedev-reattach 01:00.0 --group
killtest "sriov set --numvfs 3 --driver vfio --persist --force" "" \
        "hk sriov set 02:00.0 --numvfs 3 --driver vfio --persist --force" hk sriov set 02:00.0 --numvfs 3 --driver vfio --persist --force
killtest "sriov set --numvfs 0 --force" "" "hk sriov set 02:00.0 --numvfs 0 --force" hk sriov set 02:00.0 --numvfs 0 --force
MIN_STEPS=0 killtest "sriov vf --persist (no kernel step with --sysroot)" "" "" \
        hk sriov vf 02:00.0 1 --mac 02:11:22:33:44:55 --persist
killtest "apply (VFs and mdevs)" \
        "hk sriov set 02:00.0 --numvfs 3 --driver vfio --persist --force && hk sriov set 02:00.0 --numvfs 0 --driver host --force && hk mdev define 9c4954d2-fa39-4973-9d66-d61c6c4d0100 --parent mtty --type mtty-1 --auto" \
        "hk apply" hk apply
killtest "mdev create" "" "" hk mdev create mtty mtty-2 --uuid 11111111-2222-4333-8444-555555555555
MIN_STEPS=0 killtest "mdev define (config file only)" "" "" hk mdev define 9c4954d2-fa39-4973-9d66-d61c6c4d0100 --parent mtty --type mtty-1
killtest "mdev start" "hk mdev define 9c4954d2-fa39-4973-9d66-d61c6c4d0100 --parent mtty --type mtty-1" \
        "hk mdev start 9c4954d2-fa39-4973-9d66-d61c6c4d0100 || hk mdev list | grep -q 9c4954d2" \
        hk mdev start 9c4954d2-fa39-4973-9d66-d61c6c4d0100
finish
