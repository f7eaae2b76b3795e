#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The ABI of libhostdev.so against hostdev.sym (test suite 'abi'):
#  - every symbol the library exports is versioned HOSTDEV_1 and listed in
#    hostdev.sym;
#  - every symbol hostdev.sym lists is exported (a stale entry is an error);
#  - every function the sources mark _public_ is exported (one left out of
#    hostdev.sym is made local by its "local: *;" and would vanish);
#  - the library carries no test seam (no "HOSTDEV_TEST" string: failure
#    injection lives in tests/, docs/testing.md).
#
#   scripts/check-abi.sh LIBHOSTDEV.so HOSTDEV.sym SRCDIR
set -u
lib=$1 sym=$2 src=$3
n=0 bad=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); bad=1; echo "not ok $n - $1"; [ -n "${2:-}" ] && echo "$2" | sed 's/^/# /'; }

# names listed in the global: part of the version script
listed=$(sed -e 's,/\*.*\*/,,g' "$sym" | awk '
        /^[[:space:]]*\/\*/ { c = 1 } c { if (/\*\//) c = 0; next }
        /global:/ { g = 1; next } /local:/ { g = 0; next }
        g && /;/ { gsub(/[[:space:];]/, ""); if ($0 != "") print }' | sort)
# defined dynamic symbols as "NAME VERSION" (objdump -T: the version is the
# column before the name; the version-definition symbol itself is skipped)
exported=$(objdump -T "$lib" | awk '/ D[FO] / && !/\*UND\*/ {
        name = $NF; ver = $(NF-1); gsub(/[()]/, "", ver)
        if (name != ver) print name, ver }' | sort)
[ -n "$exported" ] && ok "libhostdev exports $(echo "$exported" | wc -l) symbols" || notok "libhostdev exports symbols" "objdump -T found none"

unversioned=$(echo "$exported" | awk '$2 != "HOSTDEV_1"')
[ -z "$unversioned" ] && ok "every exported symbol is versioned HOSTDEV_1" \
        || notok "every exported symbol is versioned HOSTDEV_1" "$unversioned"
unlisted=$(comm -23 <(echo "$exported" | awk '{print $1}' | sort -u) <(echo "$listed"))
[ -z "$unlisted" ] && ok "every exported symbol is listed in hostdev.sym" \
        || notok "every exported symbol is listed in hostdev.sym" "$unlisted"
stale=$(comm -13 <(echo "$exported" | awk '{print $1}' | sort -u) <(echo "$listed"))
[ -z "$stale" ] && ok "every symbol in hostdev.sym is exported" \
        || notok "every symbol in hostdev.sym is exported" "$stale"
dup=$(echo "$listed" | uniq -d)
[ -z "$dup" ] && ok "hostdev.sym names each symbol once" || notok "hostdev.sym names each symbol once" "$dup"
public=$(cd "$src" && grep -rhoE --include='*.c' '_public_ [^(]*[^a-zA-Z0-9_(]hd_[a-z0-9_]+\(' \
        util nodedev iommu vfio sriov mdev domain gpu boot | grep -oE 'hd_[a-z0-9_]+\($' | tr -d '(' | sort -u)
[ -n "$public" ] && ok "the sources mark $(echo "$public" | wc -l) functions _public_" || notok "the sources mark functions _public_"
missing=$(comm -23 <(echo "$public") <(echo "$exported" | awk '{print $1}' | sort -u))
[ -z "$missing" ] && ok "every _public_ function is exported (listed in hostdev.sym)" \
        || notok "every _public_ function is exported (listed in hostdev.sym)" "$missing"
# only hd_ names belong to the library's namespace
foreign=$(echo "$exported" | awk '$1 !~ /^hd_/ {print $1}')
[ -z "$foreign" ] && ok "every exported symbol has the hd_ prefix" \
        || notok "every exported symbol has the hd_ prefix" "$foreign"
seams=$(strings -a "$lib" | grep HOSTDEV_TEST)
[ -z "$seams" ] && ok "no HOSTDEV_TEST test seam in the shipped library" \
        || notok "no HOSTDEV_TEST test seam in the shipped library" "$seams"
echo "1..$n"
exit $bad
