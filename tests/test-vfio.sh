#!/usr/bin/env bash
# Passthrough transactions on a fresh copy of the "full" fixture, with the
# in-process fake kernel (tests/fake-kernel.c).
set -u
. "$(dirname "$0")/common.sh"
build_fixtures full
exec "$TEST_VFIO" "$TMP/fx/full" "$TMP/state"
