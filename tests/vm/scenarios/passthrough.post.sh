#!/usr/bin/env bash
# Host side of passthrough.sh: every hostdev-xml output the guest exported
# must validate against libvirt's domain.rng inside a minimal domain.
# Prints PASS/FAIL/SKIP lines like the guest.
set -u
dir=$1
rng=/usr/share/libvirt/schemas/domain.rng
if [ ! -f "$rng" ] || ! command -v xmllint >/dev/null; then
        echo "SKIP passthrough/hostdev-xml-valid libvirt's domain.rng or xmllint not installed"
        exit 0
fi
n=0
for f in "$dir"/hostdev-*.xml; do
        [ -e "$f" ] || continue
        n=$((n + 1))
        name=$(basename "$f" .xml)
        doc=$(mktemp)
        { echo "<domain type='kvm'><name>t</name><memory>1048576</memory><os><type>hvm</type></os><devices>"
          cat "$f"
          echo "</devices></domain>"; } > "$doc"
        if out=$(xmllint --noout --relaxng "$rng" "$doc" 2>&1); then
                echo "PASS passthrough/$name-valid"
        else
                echo "FAIL passthrough/$name-valid $(echo "$out" | head -2 | tr '\n' ' ')"
        fi
        rm -f "$doc"
done
[ "$n" -ge 5 ] && echo "PASS passthrough/hostdev-xml-exported" || echo "FAIL passthrough/hostdev-xml-exported only $n files"
