#!/usr/bin/env bash
# Shell completion: drive bash's completion function (_hostdevctl) as
# readline would (COMP_WORDS, COMP_CWORD) and check COMPREPLY; check that
# the zsh function at least parses.
set -u
. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/common.sh"

build_fixtures full
F=$TMP/fx/full
. "$SRCDIR/completion/hostdevctl.bash"
complete -p hostdevctl > /dev/null 2>&1 && ok "the script registers _hostdevctl for hostdevctl" || fail "the script registers _hostdevctl for hostdevctl"

# comp EXPECTED NAME WORD...: complete the last WORD; COMPREPLY sorted,
# space-joined, must be EXPECTED
comp() {
        local want=$1 name=$2; shift 2
        COMP_WORDS=("$HOSTDEVCTL" "$@")
        COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
        COMPREPLY=()
        _hostdevctl
        local got
        got=$(printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//')
        [ "$got" = "$want" ] && ok "$name" || fail "$name" "got '$got', want '$want'"
}
# comp_has WORD NAME WORDS...: WORD is among the completions
comp_has() {
        local want=$1 name=$2; shift 2
        COMP_WORDS=("$HOSTDEVCTL" "$@")
        COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
        COMPREPLY=()
        _hostdevctl
        printf '%s\n' "${COMPREPLY[@]}" | grep -qxF -- "$want" && ok "$name" || fail "$name" "'$want' not in: ${COMPREPLY[*]}"
}

# verbs: every verb of --help, and only those
verbs=$(hd --help | sed -n '/^Verbs:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p' | sort | tr '\n' ' ' | sed 's/ $//')
comp "$verbs" "verbs: every verb of --help" ""
comp "nodedev-define nodedev-destroy nodedev-detach nodedev-dumpxml" "verbs: nodedev-d" nodedev-d
comp "nodedev-list" "verbs: a virsh short form is no completion" nodedev-li
comp "$(printf '%s\n' --help --quiet --sysroot --state-dir --verbose --version | sort | tr '\n' ' ' | sed 's/ $//')" "global options" --
comp "nodedev-list" "verbs after --sysroot DIR" --sysroot "$F" nodedev-l

# options of a verb, from its --help
comp_has --output "nodedev-list options: --output" nodedev-list --
comp_has --list-columns "nodedev-list options: --list-columns" nodedev-list --
comp "--noheadings" "nodedev-list --noh" nodedev-list --noh
comp "--driver --dry-run" "nodedev-detach --dr" nodedev-detach 01:00.0 --dr
comp "--wrap" "nodedev-dumpxml --wr" nodedev-dumpxml pci_0000_00_02_0 --wr
comp "--dry-run" "mdev create --d: the sub-verb's options" mdev create --d
comp "--disable" "mdev autostart --d" mdev autostart --d

# option arguments
comp "pci phys_function" "--cap p" nodedev-list --cap p
comp "net,scsi net,scsi_generic net,scsi_host net,scsi_target" "--cap net,scs: the last of a comma list" nodedev-list --cap net,scs
comp "DEVNODE DRIVER" "-o D" nodedev-list -o D
comp "NAME,VENDOR NAME,VIABLE" "-o NAME,V" nodedev-list -o NAME,V
comp "stub vfio" "nodedev-detach --driver" nodedev-detach --driver ""
comp "off on" "sriov set --autoprobe" sriov set --autoprobe ""
comp "vfio-pci vfio_mdev" "nodedev-list --driver vf (drivers on the host)" --sysroot "$F" nodedev-list --driver vf

# device names from nodedev-list, on the --sysroot of the line
comp "pci_0000_01_00_0 pci_0000_01_00_1" "device names: pci_0000_01" --sysroot "$F" nodedev-dumpxml pci_0000_01
comp "pci_0000_01_00_0 pci_0000_01_00_1" "nodedev-detach: several devices" --sysroot "$F" nodedev-detach pci_0000_01_00_0 pci_0000_01
comp "net_eno1_98_fa_9b_11_22_33" "device names: net_en" --sysroot "$F" show net_eno
comp "" "nodedev-info takes one device" --sysroot "$F" nodedev-info pci_0000_01_00_0 pci_0000_01
comp "pci_0000_02_00_0" "sriov set: PFs" --sysroot "$F" sriov set pci_0000_02
comp "mdev_3627463d_b7f0_4fea_b468_f1da537d301b_mtty mdev_4b20d080_1b54_4048_85b3_a6a62d165c01_0000_00_02_0" \
        "nodedev-destroy: mdevs" --sysroot "$F" nodedev-destroy ""
comp "explain" "iommu: explain" --sysroot "$F" iommu ex

# mdev: sub-verbs, UUIDs, parents, types
comp "start stop" "mdev sub-verbs: st" mdev st
comp "3627463d-b7f0-4fea-b468-f1da537d301b" "mdev remove: UUIDs" --sysroot "$F" mdev remove 36
comp "0000:00:02.0 mtty" "mdev create: parents" --sysroot "$F" mdev create ""
comp "mtty-1 mtty-2" "mdev create PARENT: its types" --sysroot "$F" mdev create mtty ""
comp "mtty-1 mtty-2" "mdev define --parent mtty --type" --sysroot "$F" mdev define --parent mtty --type mtty
comp "list set vf" "sriov sub-verbs" sriov ""

# zsh: the function parses
if command -v zsh > /dev/null; then
        zsh -n "$SRCDIR/completion/_hostdevctl" && ok "zsh: _hostdevctl parses" || fail "zsh: _hostdevctl parses"
else
        skip "zsh: _hostdevctl parses" "no zsh"
fi
grep -q '^#compdef hostdevctl' "$SRCDIR/completion/_hostdevctl" && ok "zsh: #compdef hostdevctl" || fail "zsh: #compdef hostdevctl"
# meson installs both: bash's under bash-completion's completionsdir, zsh's under site-functions
if [ -f "${BUILDDIR:-}/meson-info/intro-installed.json" ]; then
        python3 - "$BUILDDIR/meson-info/intro-installed.json" <<'PY' && ok "meson installs the bash and zsh completion" || fail "meson installs the bash and zsh completion"
import json, sys
inst = json.load(open(sys.argv[1]))
dests = {src.rsplit("/", 1)[-1]: dst for src, dst in inst.items()}
assert dests["hostdevctl.bash"].endswith("/bash-completion/completions/hostdevctl"), dests.get("hostdevctl.bash")
assert dests["_hostdevctl"].endswith("/zsh/site-functions/_hostdevctl"), dests.get("_hostdevctl")
PY
else
        skip "meson installs the bash and zsh completion" "no build directory"
fi
finish
