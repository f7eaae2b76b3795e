#!/usr/bin/env bash
# hostdevd's watch on the mdev definitions (daemon/defs-watch.c) on a
# private bus (tests/daemon-bus.sh), hostdevd-fake on a fake tree: a
# definition another program writes or removes (`hostdevctl --direct mdev
# define`, a file renamed into place as mdevctl does, `mdev undefine`, the
# directory removed) sends no uevent, yet its defined mdev's node comes and
# goes within a second with DeviceAdded / DeviceRemoved, and ListDevices
# --all is then a fresh `nodedev-list --all --json`.  The tree starts
# without etc/mdevctl.d (waited for on its ancestor); a parent's directory
# created later is watched; the daemon's own MdevDefine rebuilds once.
set -u
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/common.sh"
unset HOSTDEV_MDEVCTL_DIR HOSTDEV_CONFIG_DIR

: "${HOSTDEVCTL_FAKE:=$SRCDIR/build/tests/hostdevctl-fake}"
: "${HOSTDEVD_FAKE:=$SRCDIR/build/tests/hostdevd-fake}"
: "${DAEMON_CLIENT:=$SRCDIR/build/tests/daemon-client}"

for t in dbus-daemon dbus-send busctl; do
        command -v $t >/dev/null || skip_all "no $t (Debian: apt install dbus-daemon dbus-bin systemd)"
done
[ -x "$HOSTDEVD_FAKE" ] || skip_all "hostdevd was not built (meson: libsystemd not found)"

. "$(dirname "$0")/daemon-bus.sh"

build_fixtures full
F=$TMP/fx/full
S=$TMP/state
D=$F/etc/mdevctl.d
# another program: hostdevctl on the same tree, not through the daemon
hcd() { "$HOSTDEVCTL_FAKE" --direct --sysroot "$F" --state-dir "$TMP/cli-st" "$@"; }
# mdev_UUID_PARENT as the node is named
node() { echo "mdev_${1//-/_}_$(echo "$2" | tr ':.' '__')"; }

# listen N: the next N manager signals (5 s at most) into $TMP/w
listen() {
        "$DAEMON_CLIENT" "$A" watch "$1" "${2:-5}" > "$TMP/w" 2>&1 &
        WP=$!
        for _ in $(seq 100); do
                grep -q '^ready$' "$TMP/w" && return 0
                sleep 0.05
        done
}
# saw NAME MEMBER DEVICE: the signals after listen, after the change
# (ended at $T1 ns): exactly MEMBER DEVICE, within a second of the change
saw() {
        wait "$WP"
        local got ts
        got=$(grep '^Signal' "$TMP/w" | cut -d' ' -f2,3 | tr '\n' '|')
        ts=$(grep '^Signal' "$TMP/w" | head -1 | cut -d' ' -f4)
        if [ "$got" != "$2 $3|" ]; then
                fail "$1: $2 $3" "got '$got' $(tail -3 "$TMP/daemon.log" | tr '\n' '|')"
        elif [ $(((ts - T1) / 1000000)) -ge 1000 ]; then
                fail "$1: $2 $3 within a second" "after $(((ts - T1) / 1000000)) ms"
        else
                ok "$1: $2 $3 within a second ($(((ts - T1) / 1000000)) ms)"
        fi
}
# listed NAME: ListDevices --all is a fresh nodedev-list --all --json
listed() {
        { call -- ListDevices s "--all"; echo; } > "$TMP/a"
        hd --sysroot "$F" nodedev-list --all --json > "$TMP/b"
        same "$1: ListDevices --all is nodedev-list --all --json ($(grep -c '"name"' "$TMP/b") devices)" "$TMP/a" "$TMP/b"
}
rebuilds() { grep -c "mdev definitions changed" "$TMP/daemon.log"; }

U1=5d3c2a1b-0f4e-4a6b-9c8d-7e6f5a4b3c21
U2=6e4d3b2c-1a5f-4b7c-8d9e-8f7a6b5c4d32
U3=7f5e4c3d-2b6a-4c8d-9eaf-9a8b7c6d5e43
U4=80a6f5d4-3c7b-4d9e-8fb0-ab9c8d7e6f54

[ ! -e "$F/etc" ] || fail "the fixture has no etc/ (the top directory is waited for)" "$(ls "$F/etc")"
if ! start_bus; then
        fail "a private dbus-daemon starts" "$(cat "$TMP/bus.err")"
        finish
        exit
fi
if ! start_daemon "$HOSTDEVD_FAKE" -v -v --sysroot "$F" --state-dir "$S"; then
        fail "hostdevd-fake takes its name on the bus" "$(cat "$TMP/daemon.log")"
        finish
        exit
fi
grep -q "watching the mdev definitions in $D (not there yet)" "$TMP/daemon.log" \
        && ok "the definitions' directory is watched before it exists" \
        || fail "the definitions' directory is watched before it exists" "$(grep -i mdev "$TMP/daemon.log" | head -3)"
listed "at the start"

# the first definition creates etc/, etc/mdevctl.d and its parent's directory
listen 1
hcd mdev define "$U1" --parent mtty --type mtty-1 > /dev/null 2> "$TMP/cli.err" \
        || fail "hostdevctl --direct mdev define" "$(cat "$TMP/cli.err")"
T1=$(date +%s%N)
saw "mdev define (etc/mdevctl.d created)" DeviceAdded "$(node $U1 mtty)"
listed "after mdev define"

# a parent's directory created after the start
listen 1
hcd mdev define "$U2" --parent 0000:00:02.0 --type i915-GVTg_V5_4 > /dev/null 2> "$TMP/cli.err" \
        || fail "hostdevctl --direct mdev define (another parent)" "$(cat "$TMP/cli.err")"
T1=$(date +%s%N)
saw "mdev define (a new parent's directory)" DeviceAdded "$(node $U2 0000:00:02.0)"
listed "after a second parent's definition"

# as mdevctl writes one: a temporary file, renamed into place
listen 1
printf '{\n  "mdev_type": "mtty-2",\n  "start": "manual",\n  "attrs": []\n}' > "$D/mtty/.$U3.tmp"
mv "$D/mtty/.$U3.tmp" "$D/mtty/$U3"
T1=$(date +%s%N)
saw "a definition renamed into place" DeviceAdded "$(node $U3 mtty)"

# removed: by undefine, and by hand
listen 1
hcd mdev undefine "$U1" > /dev/null 2> "$TMP/cli.err" || fail "hostdevctl --direct mdev undefine" "$(cat "$TMP/cli.err")"
T1=$(date +%s%N)
saw "mdev undefine" DeviceRemoved "$(node $U1 mtty)"
listen 1
rm "$D/mtty/$U3"
T1=$(date +%s%N)
saw "a definition removed by hand" DeviceRemoved "$(node $U3 mtty)"
listed "after the removals"

# the daemon's own write: its rebuild reads the definition; the watch's
# events of it are taken by that rebuild, none follows
n0=$(rebuilds)
listen 2 2
call MdevDefine 'ssssa(ss)t' "$U4" mtty mtty-1 "" 0 0 > "$TMP/a"
T1=$(date +%s%N)
wait "$WP"
got=$(grep '^Signal' "$TMP/w" | cut -d' ' -f2,3 | tr '\n' '|')
[ "$got" = "DeviceAdded $(node $U4 mtty)|" ] && ok "MdevDefine: one DeviceAdded, nothing after" \
        || fail "MdevDefine: one DeviceAdded, nothing after" "got '$got'"
[ "$(rebuilds)" = "$n0" ] && ok "MdevDefine: the watch adds no rebuild to the method's own" \
        || fail "MdevDefine: the watch adds no rebuild to the method's own" "$n0 -> $(rebuilds)"

# a burst (several definitions at once, as mdevctl writes them): one
# rebuild after it settles
n0=$(rebuilds)
listen 3
for u in 11111111-0000-4000-8000-00000000000{1,2,3}; do
        printf '{\n  "mdev_type": "mtty-1",\n  "start": "manual",\n  "attrs": []\n}' > "$D/mtty/.$u.tmp"
        mv "$D/mtty/.$u.tmp" "$D/mtty/$u"
done
T1=$(date +%s%N)
wait "$WP"
[ "$(grep -c '^Signal DeviceAdded' "$TMP/w")" = 3 ] && ok "a burst of three definitions: three DeviceAdded" \
        || fail "a burst of three definitions: three DeviceAdded" "$(tr '\n' '|' < "$TMP/w")"
[ $(($(rebuilds) - n0)) -le 2 ] && ok "a burst of three definitions: rebuilt at most twice ($(($(rebuilds) - n0)))" \
        || fail "a burst of three definitions: rebuilt at most twice" "$(($(rebuilds) - n0))"

# the whole directory removed, then one written again: watched anew
listen 5
rm -rf "$D"
T1=$(date +%s%N)
wait "$WP"
[ "$(grep -c '^Signal DeviceRemoved' "$TMP/w")" = 5 ] && ok "etc/mdevctl.d removed: every defined node removed" \
        || fail "etc/mdevctl.d removed: every defined node removed" "$(tr '\n' '|' < "$TMP/w")"
listed "after etc/mdevctl.d was removed"
listen 1
hcd mdev define "$U1" --parent mtty --type mtty-1 > /dev/null 2> "$TMP/cli.err" \
        || fail "hostdevctl --direct mdev define (again)" "$(cat "$TMP/cli.err")"
T1=$(date +%s%N)
saw "mdev define after etc/mdevctl.d came back" DeviceAdded "$(node $U1 mtty)"
listed "at the end"
alive && ok "hostdevd still serves" || fail "hostdevd still serves" "$(tail -5 "$TMP/daemon.log")"
finish
