#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Checks schemas/nodedev.rng and schemas/nodedev-list.rng.
#
#   tests/schema/run.sh [DIR|FILE ...]
#
#   0. both schemas compile (xmllint; jing too when it is installed);
#   1. libvirt's own node-device examples validate: every *.xml of
#      ../shared/reference/nodedevschemadata next to the checkout, except
#      *-invalid.xml and the files in SKIP_REFERENCE below (SKIP when the
#      directory is absent);
#   2. tests/schema/valid/*.xml validate and tests/schema/invalid/*.xml do
#      not (list-*.xml there are checked against nodedev-list.rng);
#   3. hostdevctl output over the fixture sysroots validates, each device
#      alone and the all-devices dump (SKIP when build/tools/hostdevctl has
#      not been built; HOSTDEVCTL=path overrides; SCHEMA_CASES="full ..."
#      picks the fixture cases);
#   4. every *.xml in each DIR argument (or each FILE argument) validates,
#      against nodedev-list.rng when its root is <devices>.
#
# Prints one "PASS name", "FAIL name" or "SKIP name (why)" line per check
# and exits 1 if anything failed, 77 (skipped) when xmllint is missing.

set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(git -C "$here" rev-parse --show-toplevel 2>/dev/null || (cd "$here/../.." && pwd))
schema=$root/schemas/nodedev.rng
list_schema=$root/schemas/nodedev-list.rng
refdir=$root/../shared/reference/nodedevschemadata
hostdevctl=${HOSTDEVCTL:-$root/build/tools/hostdevctl}
read -r -a case_list <<<"${SCHEMA_CASES:-full minimal broken hostile}"

# Reference files that use node-device types hostdev does not write.  They
# must not validate: the schema is closed to exactly what hostdev emits.
declare -A SKIP_REFERENCE=(
        [ap_07_0038.xml]="s390 AP queue (ap_queue): not emitted by hostdev"
        [ap_card07.xml]="s390 AP card (ap_card): not emitted by hostdev"
        [ap_matrix.xml]="s390 AP matrix (ap_matrix): not emitted by hostdev"
        [ap_matrix_mdev_types.xml]="s390 AP matrix (ap_matrix): not emitted by hostdev"
        [ccw_0_0_ff02_ccwgroup.xml]="s390 CCW device (ccw, ccwgroup_member): not emitted by hostdev"
        [ccw_0_0_ffff.xml]="s390 CCW device (ccw): not emitted by hostdev"
        [ccwgroup_0_0_bd00.xml]="s390 CCW group (ccwgroup, qeth_generic): not emitted by hostdev"
        [css_0_0_fffe_mdev_types.xml]="s390 subchannel (css): not emitted by hostdev"
        [css_0_0_fffe_mdev_types_channel_dev_addr.xml]="s390 subchannel (css): not emitted by hostdev"
        [css_0_0_ffff.xml]="s390 subchannel (css): not emitted by hostdev"
        [css_0_0_ffff_channel_dev_addr.xml]="s390 subchannel (css): not emitted by hostdev"
)
# Every other reference file validates, including the ones that keep
# pre-udev HAL names (pci_8086_27c5, DVD_GCC_4247N, ...): names are free
# tokens in the schema.  *-invalid.xml are libvirt parser failures
# (out-of-range s390 device numbers), all of them s390 types as well.

failed=0
npass=0
nfail=0
nskip=0

pass() { echo "PASS $1"; npass=$((npass + 1)); }
fail() { echo "FAIL $1"; nfail=$((nfail + 1)); failed=1; }
skip() { echo "SKIP $1 ($2)"; nskip=$((nskip + 1)); }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hostdev-schema.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

if ! command -v xmllint >/dev/null 2>&1; then
        skip "all" "xmllint not found: install libxml2-utils"
        exit 77
fi

# validate SCHEMA FILE: 0 valid, 1 invalid, 2 schema or parse trouble.
# Diagnostics go to $tmp/last.err.
validate() {
        local rc
        xmllint --noout --relaxng "$1" "$2" >"$tmp/last.out" 2>"$tmp/last.err"
        rc=$?
        case $rc in
        0) return 0 ;;
        3) return 1 ;;
        *) return 2 ;;
        esac
}

show_errors() {
        grep -v ' fails to validate$' "$tmp/last.err" | head -n 5 | sed 's/^/    /'
}

# schema for a document: the list schema when the root is <devices>
schema_for() {
        if [ "$(xmllint --xpath 'name(/*)' "$1" 2>/dev/null)" = devices ]; then
                echo "$list_schema"
        else
                echo "$schema"
        fi
}

expect_valid() { # LABEL SCHEMA FILE
        validate "$2" "$3"
        case $? in
        0) pass "$1" ;;
        *) fail "$1"; show_errors ;;
        esac
}

expect_invalid() { # LABEL SCHEMA FILE
        validate "$2" "$3"
        case $? in
        1) pass "$1" ;;
        0) fail "$1"; echo "    validates, but must not" ;;
        *) fail "$1"; echo "    not a validation failure:"; show_errors ;;
        esac
}

# ---- 0. the schemas themselves ----------------------------------------

echo '<device/>' >"$tmp/probe.xml"
for s in "$schema" "$list_schema"; do
        name=schema/$(basename "$s")
        if ! xmllint --noout "$s" 2>"$tmp/last.err"; then
                fail "$name"; show_errors; continue
        fi
        # 3: the probe is invalid (expected); 5: the schema does not compile
        xmllint --noout --relaxng "$s" "$tmp/probe.xml" >/dev/null 2>"$tmp/last.err"
        if [ $? -eq 3 ]; then
                pass "$name"
        else
                fail "$name"; show_errors
        fi
        if command -v jing >/dev/null 2>&1; then
                if jing "$s" >"$tmp/last.err" 2>&1; then
                        pass "$name (jing)"
                else
                        fail "$name (jing)"; show_errors
                fi
        fi
done

# ---- 1. libvirt's examples --------------------------------------------

if [ -d "$refdir" ]; then
        for f in "$refdir"/*.xml; do
                [ -e "$f" ] || continue
                b=$(basename "$f")
                if [[ $b == *-invalid.xml ]]; then
                        skip "reference/$b" "libvirt negative example (s390 device number out of range)"
                elif [ -n "${SKIP_REFERENCE[$b]:-}" ]; then
                        skip "reference/$b" "${SKIP_REFERENCE[$b]}"
                else
                        expect_valid "reference/$b" "$schema" "$f"
                fi
        done
else
        skip "reference" "$refdir not found"
fi

# ---- 2. our own examples ----------------------------------------------

for f in "$here"/valid/*.xml; do
        [ -e "$f" ] || continue
        expect_valid "valid/$(basename "$f")" "$(schema_for "$f")" "$f"
done
for f in "$here"/invalid/*.xml; do
        [ -e "$f" ] || continue
        b=$(basename "$f")
        s=$schema
        [[ $b == list-* ]] && s=$list_schema
        expect_invalid "invalid/$b" "$s" "$f"
done

# ---- 3. hostdevctl over the fixture sysroots --------------------------

if [ ! -x "$hostdevctl" ]; then
        skip "hostdevctl" "$hostdevctl not built"
elif ! command -v python3 >/dev/null 2>&1; then
        skip "hostdevctl" "python3 not found"
elif ! python3 "$root/tests/data/sysroots/build.py" "$tmp/fx" "${case_list[@]}" >"$tmp/build.log" 2>&1; then
        fail "hostdevctl/build-sysroots"
        tail -n 5 "$tmp/build.log" | sed 's/^/    /'
else
        for c in "${case_list[@]}"; do
                sysroot=$tmp/fx/$c
                if ! "$hostdevctl" --sysroot "$sysroot" nodedev-list >"$tmp/names" 2>"$tmp/last.err"; then
                        fail "hostdevctl/$c/nodedev-list"; show_errors; continue
                fi
                if [ ! -s "$tmp/names" ]; then
                        fail "hostdevctl/$c/nodedev-list"; echo "    no devices listed"; continue
                fi
                while IFS= read -r name; do
                        [ -n "$name" ] || continue
                        label="hostdevctl/$c/$name"
                        if ! "$hostdevctl" --sysroot "$sysroot" nodedev-dumpxml "$name" \
                                        >"$tmp/dev.xml" 2>"$tmp/last.err"; then
                                fail "$label"; echo "    nodedev-dumpxml failed:"; show_errors; continue
                        fi
                        expect_valid "$label" "$schema" "$tmp/dev.xml"
                done <"$tmp/names"
                if ! "$hostdevctl" --sysroot "$sysroot" nodedev-dumpxml --all \
                                >"$tmp/all.xml" 2>"$tmp/last.err"; then
                        fail "hostdevctl/$c/--all"; echo "    nodedev-dumpxml --all failed:"; show_errors
                else
                        expect_valid "hostdevctl/$c/--all" "$list_schema" "$tmp/all.xml"
                fi
        done
fi

# ---- 4. arguments -------------------------------------------------------

for arg in "$@"; do
        if [ -d "$arg" ]; then
                found=0
                for f in "$arg"/*.xml; do
                        [ -e "$f" ] || continue
                        found=1
                        expect_valid "$f" "$(schema_for "$f")" "$f"
                done
                [ $found = 1 ] || fail "$arg (no *.xml in it)"
        elif [ -f "$arg" ]; then
                expect_valid "$arg" "$(schema_for "$arg")" "$arg"
        else
                fail "$arg (no such file or directory)"
        fi
done

echo "# $npass passed, $nfail failed, $nskip skipped"
exit $failed
