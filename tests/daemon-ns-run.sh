# Sourced (after tap.sh and common.sh) by the tests that run a helper of
# tests/daemon-*-ns.sh: hostdevd on "the live host" in private user, mount
# and network namespaces over a copy of the `full` fixture.
#
#   ns_run HELPER   runs tests/HELPER under `unshare -Urmn`; its KEY=VALUE
#                   lines in $TMP/ns/out, its stderr in $TMP/ns/err.  The
#                   whole test says SKIP (skip_all) without dbus-daemon,
#                   busctl, ip, hostdevd or user namespaces, or when the
#                   kernel takes no uevents from user space.
#   check KEY=VALUE DESCRIPTION
#                   ok when the helper printed that line; else a failure
#                   with all its lines and the tail of its stderr.
: "${HOSTDEVD:=$SRCDIR/build/daemon/hostdevd}"
: "${DAEMON_CLIENT:=$SRCDIR/build/tests/daemon-client}"

ns_run() {
        for t in dbus-daemon busctl ip; do
                command -v $t >/dev/null || skip_all "no $t"
        done
        [ -x "$HOSTDEVD" ] || skip_all "hostdevd was not built (meson: libsystemd not found)"
        unshare -Urmn true 2>/dev/null || skip_all "no user namespaces (unshare -Urmn)"
        trap 'rm -rf "$TMP"' EXIT
        build_fixtures full
        mkdir -p "$TMP/ns"
        cp -a "$TMP/fx/full" "$TMP/ns/tree"
        SRCDIR=$SRCDIR HOSTDEVD=$HOSTDEVD HOSTDEVCTL=$HOSTDEVCTL DAEMON_CLIENT=$DAEMON_CLIENT \
                unshare -Urmn bash "$SRCDIR/tests/$1" "$TMP/ns/tree" "$TMP/ns" > "$TMP/ns/out" 2> "$TMP/ns/err"
        grep -qx "inject=unsupported" "$TMP/ns/out" && skip_all "this kernel takes no uevents from user space (Linux < 4.18)"
        return 0
}

check() {
        grep -qx "$1" "$TMP/ns/out" && ok "$2" || fail "$2" "$(tr '\n' ' ' < "$TMP/ns/out"; tail -5 "$TMP/ns/err")"
}
