# Minimal TAP producer for shell tests (sourced).
# ok NAME | fail NAME REASON | skip NAME REASON | check NAME CMD... | finish
_tap_n=0
_tap_failed=0
ok() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $1"; }
# a reason of several lines is folded into one, so it cannot break the stream
fail() {
        local why=${2:+: $2}
        _tap_n=$((_tap_n + 1)); _tap_failed=$((_tap_failed + 1))
        echo "not ok $_tap_n - $1${why//$'\n'/ | }"
}
skip() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $1 # SKIP ${2:-}"; }
check() {
        local name=$1; shift
        local out
        if out=$("$@" 2>&1); then ok "$name"; else fail "$name" "$(printf '%s' "$out" | tail -n 3 | tr '\n' ' ')"; fi
}
skip_all() { echo "1..0 # SKIP $1"; exit 0; }
finish() { echo "1..$_tap_n"; [ "$_tap_failed" -eq 0 ]; }
# diag goes to stderr so it never breaks the TAP stream
diag() { echo "# $*" >&2; }
