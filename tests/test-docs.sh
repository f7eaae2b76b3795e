#!/usr/bin/env bash
# The documentation matches the program: docs/hostdevctl.1 against every
# verb's --help, both ways (tests/check-man.py), and every JSON document
# of docs/json.md against the real output on the fixture tree
# (tests/check-json-docs.py).  Each failure says which verb, option or
# example is missing where.
set -u
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/common.sh"

build_fixtures full minimal
# the GPU tree, for the examples of gpu, gpu rom and vgpu (--sysroot /tmp/fxdoc/gpu)
python3 "$SRCDIR/tests/data/sysroots/gpu.py" "$TMP/fx/gpu" || fail "build the GPU fixture tree"
# the boot fixture with a Debian configuration root inside it, for boot, override and doctor (--sysroot /tmp/fxdoc/boot ... --root root-debian)
python3 "$SRCDIR/tests/data/sysroots/build.py" "$TMP/fx" boot > /dev/null && cp -a "$SRCDIR/tests/data/boot-roots/debian" "$TMP/fx/boot/root-debian" \
        || fail "build the boot fixture tree"
# check-*.py print TAP; fold their lines into this stream
relay() {
        while IFS= read -r l; do
                case "$l" in
                "ok "*) ok "${l#ok * - }" ;;
                "not ok "*) fail "${l#not ok * - }" ;;
                "# "*) diag "${l#\# }" ;;
                esac
        done
}
# (process substitution: relay must run in this shell, which counts the tests)
relay < <(python3 "$SRCDIR/tests/check-man.py" "$SRCDIR/docs/hostdevctl.1" "$HOSTDEVCTL" 2>&1)
if [ -x "${HOSTDEVCTL_FAKE:-}" ]; then
        mkdir -p "$TMP/json"
        relay < <(python3 "$SRCDIR/tests/check-json-docs.py" "$SRCDIR/docs/json.md" "$HOSTDEVCTL_FAKE" "$TMP/fx" "$TMP/json" 2>&1)
else
        skip "docs/json.md examples" "no hostdevctl-fake"
fi
# the man page is well-formed for groff
if command -v groff > /dev/null; then
        out=$(groff -man -ww -z "$SRCDIR/docs/hostdevctl.1" 2>&1)
        [ -z "$out" ] && ok "groff -man -ww: no warnings" || fail "groff -man -ww: no warnings" "$out"
else
        skip "groff -man -ww: no warnings" "no groff"
fi
finish
