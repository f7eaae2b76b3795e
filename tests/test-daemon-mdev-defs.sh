#!/usr/bin/env bash
# hostdevd's watch on the mdev definitions (daemon/defs-watch.c) on a
# private bus (tests/daemon-bus.sh), hostdevd-fake on a fake tree: a
# definition another program writes or removes (`hostdevctl --direct mdev
# define`, a file renamed into place as mdevctl does, `mdev undefine`, the
# directory removed) sends no uevent, yet its defined mdev's node comes and
# goes within a second with DeviceAdded / DeviceRemoved, and ListDevices
# --all is then a fresh `nodedev-list --all --json`.  The tree starts
# without etc/mdevctl.d (waited for on its ancestor: etc/ made for another
# file re-reads nothing); a parent's directory
# created later is watched; the daemon's own MdevDefine rebuilds once.
# A change in a parent's directory re-reads only that parent's defined
# mdevs (the daemon's debug line "re-read defined mdevs of PARENT", no
# "tree rebuilt"): ListDevices, ListDevices --all and GetDeviceXML are
# still a fresh enumeration's, for a parent that is not in the tree too; the
# top directory's own changes and a node that cannot be placed in place
# (two parents' names that fold to one node name) enumerate the tree.
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
# listed_active NAME: ListDevices (the active devices) is a fresh nodedev-list --json
listed_active() {
        { call -- ListDevices s ""; echo; } > "$TMP/a"
        hd --sysroot "$F" nodedev-list --json > "$TMP/b"
        same "$1: ListDevices is nodedev-list --json ($(grep -c '"name"' "$TMP/b") devices)" "$TMP/a" "$TMP/b"
}
# xml NAME DEVICE: GetDeviceXML DEVICE is a fresh nodedev-dumpxml
xml() {
        call GetDeviceXML s "$2" > "$TMP/a"
        hd --sysroot "$F" nodedev-dumpxml "$2" > "$TMP/b"
        same "$1: GetDeviceXML $2 is nodedev-dumpxml" "$TMP/a" "$TMP/b"
}
# mark: the daemon's log so far; since: its lines after the mark
mark() { M=$(wc -l < "$TMP/daemon.log"); }
since() { tail -n +$((M + 1)) "$TMP/daemon.log"; }
# settled: wait (3 s at most) until the watch re-read something after the mark
settled() {
        for _ in $(seq 60); do
                since | grep -q "tree updated by mdev definitions\|tree rebuilt\|re-read defined mdevs" && break
                sleep 0.05
        done
        sleep 0.2
}
# partial NAME PARENT: since the mark the watch re-read PARENT's defined
# mdevs, no other parent's, and enumerated nothing
partial() {
        local got others
        got=$(since)
        others=$(grep "re-read defined mdevs of" <<< "$got" | grep -v "re-read defined mdevs of $2\$" | head -3 | tr '\n' '|')
        if ! grep -q "re-read defined mdevs of $2\$" <<< "$got"; then
                fail "$1: only $2's defined mdevs re-read" "$(grep -i "mdev\|tree" <<< "$got" | tail -5 | tr '\n' '|')"
        elif grep -q "tree rebuilt" <<< "$got"; then
                fail "$1: only $2's defined mdevs re-read, no enumeration" "$(grep "tree rebuilt\|every device" <<< "$got" | tr '\n' '|')"
        elif [ -n "$others" ]; then
                fail "$1: only $2's defined mdevs re-read" "also: $others"
        else
                ok "$1: only $2's defined mdevs re-read, no enumeration"
        fi
}

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

# a step towards the missing directory (etc/, made for another program's
# file) changes no definition: nothing is re-read (a re-read after the
# other program's write would race whatever the caller does next)
mark
mkdir "$F/etc" && echo x > "$F/etc/other.conf"
sleep 0.6
if since | grep -q "mdev definitions changed\|tree rebuilt\|re-read defined mdevs"; then
        fail "etc/ made without mdevctl.d: nothing re-read" "$(since | grep -i "mdev\|tree" | tail -3 | tr '\n' '|')"
else
        ok "etc/ made without mdevctl.d: nothing re-read"
fi
rm "$F/etc/other.conf"

# the first definition creates etc/mdevctl.d and its parent's directory
listen 1
hcd mdev define "$U1" --parent mtty --type mtty-1 > /dev/null 2> "$TMP/cli.err" \
        || fail "hostdevctl --direct mdev define" "$(cat "$TMP/cli.err")"
T1=$(date +%s%N)
saw "mdev define (etc/mdevctl.d created)" DeviceAdded "$(node $U1 mtty)"
listed "after mdev define"

# a parent's directory created after the start
mark
listen 1
hcd mdev define "$U2" --parent 0000:00:02.0 --type i915-GVTg_V5_4 > /dev/null 2> "$TMP/cli.err" \
        || fail "hostdevctl --direct mdev define (another parent)" "$(cat "$TMP/cli.err")"
T1=$(date +%s%N)
saw "mdev define (a new parent's directory)" DeviceAdded "$(node $U2 0000:00:02.0)"
partial "mdev define (a new parent's directory)" 0000:00:02.0
listed "after a second parent's definition"

# as mdevctl writes one: a temporary file, renamed into place
mark
listen 1
printf '{\n  "mdev_type": "mtty-2",\n  "start": "manual",\n  "attrs": []\n}' > "$D/mtty/.$U3.tmp"
mv "$D/mtty/.$U3.tmp" "$D/mtty/$U3"
T1=$(date +%s%N)
saw "a definition renamed into place" DeviceAdded "$(node $U3 mtty)"
partial "a definition renamed into place" mtty
listed "after a definition renamed into place"
listed_active "after a definition renamed into place"
xml "a definition renamed into place" "$(node $U3 mtty)"

# removed: by undefine, and by hand
mark
listen 1
hcd mdev undefine "$U1" > /dev/null 2> "$TMP/cli.err" || fail "hostdevctl --direct mdev undefine" "$(cat "$TMP/cli.err")"
T1=$(date +%s%N)
saw "mdev undefine" DeviceRemoved "$(node $U1 mtty)"
partial "mdev undefine" mtty
listed "after mdev undefine"
mark
listen 1
rm "$D/mtty/$U3"
T1=$(date +%s%N)
saw "a definition removed by hand" DeviceRemoved "$(node $U3 mtty)"
partial "a definition removed by hand" mtty
listed "after the removals"

# the daemon's own write: its rebuild reads the definition; the watch's
# events of it are taken by that rebuild, none follows
n0=$(rebuilds)
mark
listen 2 2
call MdevDefine 'ssssa(ss)t' "$U4" mtty mtty-1 "" 0 0 > "$TMP/a"
T1=$(date +%s%N)
wait "$WP"
got=$(grep '^Signal' "$TMP/w" | cut -d' ' -f2,3 | tr '\n' '|')
[ "$got" = "DeviceAdded $(node $U4 mtty)|" ] && ok "MdevDefine: one DeviceAdded, nothing after" \
        || fail "MdevDefine: one DeviceAdded, nothing after" "got '$got'"
[ "$(rebuilds)" = "$n0" ] && ok "MdevDefine: the watch adds no rebuild to the method's own" \
        || fail "MdevDefine: the watch adds no rebuild to the method's own" "$n0 -> $(rebuilds)"
since | grep -q "re-read defined mdevs" && fail "MdevDefine: the watch re-reads no parent after the method's rebuild" \
        "$(since | grep "re-read defined mdevs" | tr '\n' '|')" \
        || ok "MdevDefine: the watch re-reads no parent after the method's rebuild"

# a burst (several definitions at once, as mdevctl writes them): one
# rebuild after it settles
n0=$(rebuilds)
mark
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
partial "a burst of three definitions" mtty
listed "after a burst of three definitions"

# a running mdev's definition (another program defines it, modifies it):
# no signal (its properties are the same, as a full rebuild finds), and
# its XML shows the definition's start policy and attributes
RUN=3627463d-b7f0-4fea-b468-f1da537d301b
mark
listen 1 1
hcd mdev define "$RUN" --auto --attr foo=bar > /dev/null 2> "$TMP/cli.err" \
        || fail "hostdevctl --direct mdev define (a running mdev)" "$(cat "$TMP/cli.err")"
settled
wait "$WP"
[ -z "$(grep '^Signal' "$TMP/w")" ] && ok "a running mdev defined: no signal" \
        || fail "a running mdev defined: no signal" "$(grep '^Signal' "$TMP/w" | tr '\n' '|')"
partial "a running mdev defined" mtty
xml "a running mdev defined" "$(node $RUN mtty)"
grep -q "start type='auto'" "$TMP/a" && ok "a running mdev defined: its XML has the definition's start" \
        || fail "a running mdev defined: its XML has the definition's start" "$(tr '\n' ' ' < "$TMP/a")"
listed_active "a running mdev defined"
mark
hcd mdev modify "$RUN" --manual --clear-attrs > /dev/null 2> "$TMP/cli.err" \
        || fail "hostdevctl --direct mdev modify (a running mdev)" "$(cat "$TMP/cli.err")"
settled
partial "a running mdev's definition modified" mtty
xml "a running mdev's definition modified" "$(node $RUN mtty)"
mark
hcd mdev undefine "$RUN" > /dev/null 2> "$TMP/cli.err" \
        || fail "hostdevctl --direct mdev undefine (a running mdev)" "$(cat "$TMP/cli.err")"
settled
partial "a running mdev undefined" mtty
xml "a running mdev undefined (it runs on)" "$(node $RUN mtty)"
# a stopped mdev's definition modified: its node stays, its XML follows
mark
hcd mdev modify "$U2" --parent 0000:00:02.0 --type i915-GVTg_V5_8 --auto > /dev/null 2> "$TMP/cli.err" \
        || fail "hostdevctl --direct mdev modify (a defined mdev)" "$(cat "$TMP/cli.err")"
settled
partial "a defined mdev's definition modified" 0000:00:02.0
xml "a defined mdev's definition modified" "$(node $U2 0000:00:02.0)"
grep -q "i915-GVTg_V5_8" "$TMP/a" && ok "a defined mdev's definition modified: its XML has the new type" \
        || fail "a defined mdev's definition modified: its XML has the new type" "$(tr '\n' ' ' < "$TMP/a")"
listed "after the definitions were modified"

# a parent that is not in the tree: its defined mdev's node hangs on
# "computer", as nodedev-list shows it; removed with its directory
U5=91b7a6e5-4d8c-4eaf-9ac1-bcad9e8f7a65
NP=0000:7f:00.0
mark
listen 1
mkdir "$D/$NP"
printf '{\n  "mdev_type": "nvidia-35",\n  "start": "auto",\n  "attrs": []\n}' > "$D/$NP/$U5"
T1=$(date +%s%N)
saw "a definition for a parent not in the tree" DeviceAdded "$(node $U5 $NP)"
partial "a definition for a parent not in the tree" "$NP"
listed "after a definition for a parent not in the tree"
xml "a definition for a parent not in the tree" "$(node $U5 $NP)"
grep -q "<parent>computer</parent>" "$TMP/a" && ok "a parent not in the tree: the node's parent is computer" \
        || fail "a parent not in the tree: the node's parent is computer" "$(tr '\n' ' ' < "$TMP/a")"
mark
listen 1
rm -rf "${D:?}/$NP"
T1=$(date +%s%N)
saw "the absent parent's directory removed" DeviceRemoved "$(node $U5 $NP)"
partial "the absent parent's directory removed" "$NP"
listed "after the absent parent's directory was removed"
alive && ok "hostdevd serves after a parent not in the tree" || fail "hostdevd serves after a parent not in the tree" "$(tail -5 "$TMP/daemon.log")"

# a node the update cannot place in place: two parents' names that fold to
# one node name (x.y and x_y: mdev_UUID_x_y); the enumeration keeps the
# first parent's, as nodedev-list does
mark
listen 1
mkdir "$D/x.y" "$D/x_y"
printf '{\n  "mdev_type": "mtty-1",\n  "start": "manual",\n  "attrs": []\n}' > "$D/x.y/$U5"
T1=$(date +%s%N)
saw "a definition of parent x.y" DeviceAdded "$(node $U5 x.y)"
n0=$(grep -c "tree rebuilt" "$TMP/daemon.log")
mark
listen 1 1
printf '{\n  "mdev_type": "mtty-2",\n  "start": "manual",\n  "attrs": []\n}' > "$D/x_y/$U5"
settled
wait "$WP"
[ -z "$(grep '^Signal' "$TMP/w")" ] && ok "the same node name from parent x_y: no signal" \
        || fail "the same node name from parent x_y: no signal" "$(grep '^Signal' "$TMP/w" | tr '\n' '|')"
since | grep -q "defined mdevs of x_y: cannot be placed in the tree: re-reading every device" \
        && [ "$(grep -c "tree rebuilt" "$TMP/daemon.log")" -gt "$n0" ] \
        && ok "the same node name from parent x_y: the whole tree enumerated" \
        || fail "the same node name from parent x_y: the whole tree enumerated" "$(since | grep -i "mdev\|tree" | tr '\n' '|')"
listed "after the same node name from two parents"
xml "the same node name from two parents" "$(node $U5 x.y)"
listen 1
rm -rf "${D:?}/x.y" "${D:?}/x_y"
T1=$(date +%s%N)
saw "both parents' directories removed" DeviceRemoved "$(node $U5 x.y)"
listed "after both parents' directories were removed"

# a parent's directory that is a link to another's: one watch, both names
# re-read (the library reads through the link: the same definitions as
# the nodes of both parents)
ndefs=$(ls "$D/mtty" | wc -l)
mark
listen "$ndefs"
ln -s mtty "$D/lnk"
T1=$(date +%s%N)
wait "$WP"
[ "$(grep -c '^Signal DeviceAdded mdev_.*_lnk ' "$TMP/w")" = "$ndefs" ] \
        && ok "a link to mtty's directory: its $ndefs definitions as parent lnk's" \
        || fail "a link to mtty's directory: its $ndefs definitions as parent lnk's" "$(tr '\n' '|' < "$TMP/w")"
partial "a link to mtty's directory" lnk
U6=a2c8b7f6-5e9d-4fb0-8bd2-cdbeaf9a8b76
mark
listen 2
printf '{\n  "mdev_type": "mtty-1",\n  "start": "manual",\n  "attrs": []\n}' > "$D/mtty/$U6"
T1=$(date +%s%N)
wait "$WP"
got=$(grep '^Signal' "$TMP/w" | cut -d' ' -f2,3 | tr '\n' '|')
[ "$got" = "DeviceAdded $(node $U6 lnk)|DeviceAdded $(node $U6 mtty)|" ] \
        && ok "a definition in the linked directory: added for both names" \
        || fail "a definition in the linked directory: added for both names" "got '$got'"
since | grep -q "re-read defined mdevs of lnk$" && since | grep -q "re-read defined mdevs of mtty$" \
        && ! since | grep -q "tree rebuilt" \
        && ok "a definition in the linked directory: both names re-read, no enumeration" \
        || fail "a definition in the linked directory: both names re-read, no enumeration" "$(since | grep -i "mdev\|tree" | tr '\n' '|')"
listed "with a linked parent directory"
mark
listen $((ndefs + 2))
rm "$D/mtty/$U6" "$D/lnk"
T1=$(date +%s%N)
wait "$WP"
[ "$(grep -c '^Signal DeviceRemoved' "$TMP/w")" = $((ndefs + 2)) ] && ! since | grep -q "tree rebuilt" \
        && ok "the definition and the link removed: their nodes removed, no enumeration" \
        || fail "the definition and the link removed: their nodes removed, no enumeration" "$(tr '\n' '|' < "$TMP/w")"
listed "after the link was removed"

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
# its exit: 0 (under the sanitizers: no leak, no error after all the
# watch's re-reads)
kill -TERM "$DPID"
wait "$DPID"; rc=$?
[ $rc = 0 ] && ! grep -q "Sanitizer\|runtime error" "$TMP/daemon.log" && ok "SIGTERM: hostdevd exits 0, nothing reported" \
        || fail "SIGTERM: hostdevd exits 0, nothing reported" "exit $rc; $(grep -m3 "Sanitizer\|runtime error\|SUMMARY" "$TMP/daemon.log" | tr '\n' '|')"
finish
