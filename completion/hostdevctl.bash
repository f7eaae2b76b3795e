# bash completion for hostdevctl                          -*- shell-script -*-
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Verbs and options come from the program's own --help, device names from
# 'nodedev-list', UUIDs from 'mdev list --all', parents and types from
# 'mdev types', columns from 'nodedev-list --list-columns': the completion
# follows the program it completes (the command as typed, with the
# --sysroot given on the line).  Needs nothing from the bash-completion
# package.

# _hostdevctl_run ARGS...: the program on this line, with its --sysroot
_hostdevctl_run() {
        local prog=${COMP_WORDS[0]} i
        local -a pre=()
        for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do
                case ${COMP_WORDS[i]} in
                --sysroot|--state-dir) pre+=("${COMP_WORDS[i]}" "${COMP_WORDS[i + 1]}"); ((i++)) ;;
                --sysroot=*|--state-dir=*) pre+=("${COMP_WORDS[i]}") ;;
                -*) ;;
                *) break ;;
                esac
        done
        # a ~ typed on the line is the user's home
        [ ${#pre[@]} -gt 1 ] && pre[1]=${pre[1]/#\~/$HOME}
        "$prog" "${pre[@]}" -q "$@" 2>/dev/null
}

_hostdevctl_verbs() { _hostdevctl_run --help | sed -n '/^Verbs:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p'; }
_hostdevctl_options() { # VERB [SUB]
        if [ -n "${2:-}" ]; then
                _hostdevctl_run "$1" --help | grep -E "^  $1 $2( |$)" | grep -oE -- '--[a-z][a-z-]*'
        else
                _hostdevctl_run "$1" --help | grep -oE -- '--[a-z][a-z-]*'
        fi | grep -vx -e --sysroot -e --help | sort -u
}
_hostdevctl_devices() { _hostdevctl_run nodedev-list "$@"; }
_hostdevctl_uuids() { _hostdevctl_run mdev list --all | awk '{ print $1 }'; }
_hostdevctl_parents() { _hostdevctl_run mdev types | grep -v '^ ' | grep -v '^no '; }
_hostdevctl_types() { _hostdevctl_run mdev types ${1:+"$1"} | sed -n 's/^  \([^ ]*\)$/\1/p'; }
_hostdevctl_columns() { _hostdevctl_run nodedev-list --list-columns | awk '{ print $1 }'; }
_hostdevctl_caps=$'system\npci\nusb_device\nusb\nnet\nscsi_host\nscsi_target\nscsi\nstorage\nfc_host\nvports\nscsi_generic\ndrm\nmdev_types\nmdev\nvdpa\nvpd\nphys_function\nvirt_functions\nccw\ncss\nap_card\nap_queue\nap_matrix\nccwgroup'

_hostdevctl_compgen() { # WORDS: set COMPREPLY to those matching $cur
        local IFS=$'\n'
        COMPREPLY=($(compgen -W "$1" -- "$cur"))
}

# a comma list (--cap pci,net / -o NAME,DRIVER): complete the last element
_hostdevctl_list() { # CANDIDATES
        local head= last=$cur IFS=$'\n'
        case $cur in *,*) head=${cur%,*},; last=${cur##*,} ;; esac
        COMPREPLY=($(compgen -W "$1" -- "$last"))
        COMPREPLY=("${COMPREPLY[@]/#/$head}")
        compopt -o nospace 2>/dev/null
}

_hostdevctl() {
        local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
        local i verb= sub= vi=0 nargs=0
        COMPREPLY=()

        # the verb: the first word that is no global option or its argument
        for ((i = 1; i < COMP_CWORD; i++)); do
                case ${COMP_WORDS[i]} in
                --sysroot|--state-dir) ((i++)) ;;
                -*) ;;
                *) verb=${COMP_WORDS[i]}; vi=$i; break ;;
                esac
        done
        if [ -z "$verb" ]; then
                case $prev in
                --sysroot|--state-dir) COMPREPLY=($(compgen -d -- "$cur")); return ;;
                esac
                case $cur in
                -*) _hostdevctl_compgen $'--sysroot\n--state-dir\n--verbose\n--quiet\n--help\n--version' ;;
                *) _hostdevctl_compgen "$(_hostdevctl_verbs)" ;;
                esac
                return
        fi
        # sub-verbs, and how many arguments the verb has so far
        for ((i = vi + 1; i < COMP_CWORD; i++)); do
                case ${COMP_WORDS[i]} in
                --output|-o|--cap|-c|--slot|-s|--id|-d|--class|--driver|--width|-w|--xpath|--uuid|-u|--attr|--addattr|--delattr|--parent|-p|--type|-t|--jsonfile|--numvfs|--autoprobe|--mac|--vlan|--qos|--trust|--spoofchk)
                        ((i++)) ;;
                -*) ;;
                *) if [ -z "$sub" ] && { [ "$verb" = mdev ] || [ "$verb" = sriov ] || { [ "$verb" = iommu ] && [ "${COMP_WORDS[i]}" = explain ]; }; }; then
                           sub=${COMP_WORDS[i]}
                   else
                           ((nargs++))
                   fi ;;
                esac
        done

        # option arguments
        case $prev in
        --cap|-c) _hostdevctl_list "$_hostdevctl_caps"; return ;;
        --output|-o) _hostdevctl_list "$(_hostdevctl_columns)"; return ;;
        --driver|-d)
                case $verb in
                nodedev-detach) _hostdevctl_compgen $'vfio\nstub' ;;
                sriov) _hostdevctl_compgen $'vfio\nstub\nhost' ;;
                nodedev-list) [ "$prev" = --driver ] && _hostdevctl_compgen "$(_hostdevctl_run nodedev-list -o DRIVER --noheadings | grep -v '^-$' | sort -u)" ;;
                esac
                return ;;
        --parent|-p) _hostdevctl_compgen "$(_hostdevctl_parents)"; return ;;
        --type|-t) _hostdevctl_compgen "$(_hostdevctl_types)"; return ;;
        --uuid|-u) _hostdevctl_compgen "$(_hostdevctl_uuids)"; return ;;
        --autoprobe|--trust|--spoofchk) _hostdevctl_compgen $'on\noff'; return ;;
        --jsonfile) COMPREPLY=($(compgen -f -- "$cur")); return ;;
        --slot|-s|--id|--class|--width|-w|--xpath|--attr|--addattr|--delattr|--numvfs|--mac|--vlan|--qos) return ;;
        esac

        if [[ $cur == -* ]]; then
                _hostdevctl_compgen "$(_hostdevctl_options "$verb" "$sub")"
                return
        fi
        case $verb in
        mdev)
                case $sub in
                "") _hostdevctl_compgen $'types\nlist\ncreate\nremove\nstop\ndefine\nundefine\nstart\nautostart\nmodify\napply' ;;
                types) [ $nargs = 0 ] && _hostdevctl_compgen "$(_hostdevctl_parents)" ;;
                create)
                        if [ $nargs = 0 ]; then _hostdevctl_compgen "$(_hostdevctl_parents)"
                        elif [ $nargs = 1 ]; then
                                local parent
                                for ((i = COMP_CWORD - 1; i > vi; i--)); do
                                        case ${COMP_WORDS[i - 1]} in --uuid|-u|--attr) continue ;; esac
                                        case ${COMP_WORDS[i]} in -*|create) ;; *) parent=${COMP_WORDS[i]}; break ;; esac
                                done
                                _hostdevctl_compgen "$(_hostdevctl_types "$parent")"
                        fi ;;
                remove|stop|define|undefine|start|autostart|modify) [ $nargs = 0 ] && _hostdevctl_compgen "$(_hostdevctl_uuids)" ;;
                esac ;;
        sriov)
                case $sub in
                "") _hostdevctl_compgen $'list\nset\nvf' ;;
                set|vf) [ $nargs = 0 ] && _hostdevctl_compgen "$(_hostdevctl_devices --cap virt_functions)" ;;
                esac ;;
        iommu)
                if [ -z "$sub" ]; then _hostdevctl_compgen explain
                elif [ $nargs = 0 ]; then _hostdevctl_compgen "$(_hostdevctl_devices --cap pci)"; fi ;;
        nodedev-detach|nodedev-reattach)
                _hostdevctl_compgen "$(_hostdevctl_devices --cap pci)" ;;
        nodedev-dumpxml|nodedev-info|show|hostdev-xml)
                [ $nargs = 0 ] && _hostdevctl_compgen "$(_hostdevctl_devices --all)" ;;
        nodedev-reset)
                [ $nargs = 0 ] && _hostdevctl_compgen "$(_hostdevctl_devices --cap pci)" ;;
        nodedev-destroy|nodedev-undefine|nodedev-start|nodedev-autostart)
                [ $nargs = 0 ] && _hostdevctl_compgen "$(_hostdevctl_devices --all --cap mdev)" ;;
        nodedev-create|nodedev-define)
                [ $nargs = 0 ] && COMPREPLY=($(compgen -f -- "$cur")) ;;
        capture)
                [ $nargs = 0 ] && COMPREPLY=($(compgen -d -- "$cur")) ;;
        help)
                [ $nargs = 0 ] && _hostdevctl_compgen "$(_hostdevctl_verbs)" ;;
        esac
}

complete -F _hostdevctl hostdevctl
