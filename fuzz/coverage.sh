#!/usr/bin/env bash
# Source-based line coverage of each parser over what the fuzzers found:
# the corpus of fuzz/run.sh, the seeds and the regression inputs.
#
#   fuzz/coverage.sh            needs build-fuzz (for the seeds and tree)
#
# Builds the library and harnesses once more with
# -fprofile-instr-generate -fcoverage-mapping (no sanitizers) in
# $HOSTDEV_FUZZ_COV_BUILD (build-fuzz-cov), replays every input once and
# prints, per harness, the line and branch coverage of its parser
# functions (llvm-cov).  Numbers go to docs/reliability.md.
set -eu
cd "$(dirname "$0")/.."
SRC=$PWD
out=${HOSTDEV_FUZZ_COV_BUILD:-build-fuzz-cov}
dir=${HOSTDEV_FUZZ_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/hostdev-fuzz}
data=$SRC/build-fuzz/fuzz/data
[ -d "$data/seeds" ] || { echo "coverage.sh: build build-fuzz first (fuzz/README.md)" >&2; exit 1; }
mkdir -p "$out/obj"
deps="libudev libpci json-c libxml-2.0"
cflags=(-std=gnu11 -O1 -g -D_GNU_SOURCE -fprofile-instr-generate -fcoverage-mapping -Iinclude -I.
        $(pkg-config --cflags $deps))
libs=$(pkg-config --libs $deps)
srcs=$(sed -n '/^libhostdev_sources = files(/,/)/p' meson.build | grep -o "'[^']*\.c'" | tr -d "'")
objs=()
for s in $srcs; do
        o=$out/obj/$(tr / _ <<< "${s%.c}").o
        [ "$o" -nt "$s" ] || clang "${cflags[@]}" -fsanitize=fuzzer-no-link -c "$s" -o "$o"
        objs+=("$o")
done

# harness: the functions whose coverage is reported
declare -A funcs=(
        [udev-db]="hd_udev_db_parse hd_udev_db_path"
        [uevent]="hd_uevent_parse"
        [pci-config]="hd_pci_config_find_cap hd_pci_config_find_ext_cap hd_pci_config_add_pcie"
        [vpd]="vpd_parse vpd_string add_vpd_fields"
        [sysfs-attrs]="build_system build_usb_dev build_usb_if build_net build_storage build_scsi clean uuid_valid hd_pci_build_caps pf_fill add_mdev_types"
        [mdev-json]="hd_mdev_parse_json hd_mdev_format_json"
        [sriov-config]="hd_sriov_config_parse parse_config parse_vf"
        [nodedev-xml]="hd_mdev_parse_xml parse_mdev_cap"
        [netlink]="hd_nl_parse_reply parse_newlink parse_vf_info"
)
harnesses=$(sed -n "/^fuzz_harnesses = \[/,/\]/p" fuzz/meson.build | grep -o "'[a-z-]*'" | tr -d "'")
for h in $harnesses; do
        bin=$out/fuzz-$h
        [ "$bin" -nt "fuzz/fuzz-$h.c" ] && [ "$bin" -nt "${objs[0]}" ] ||
                clang "${cflags[@]}" -fsanitize=fuzzer -DFUZZ_DATA_DIR="\"$data\"" "fuzz/fuzz-$h.c" "${objs[@]}" $libs -o "$bin"
        inputs=("$data/seeds/$h")
        [ -d "$dir/corpus/$h" ] && inputs+=("$dir/corpus/$h")
        [ -d "fuzz/regressions/$h" ] && inputs+=("fuzz/regressions/$h")
        rm -f "$out/$h.profraw"
        LLVM_PROFILE_FILE=$out/$h.profraw "$bin" -runs=0 "${inputs[@]}" > "$out/$h.log" 2>&1
        llvm-profdata merge -sparse "$out/$h.profraw" -o "$out/$h.profdata"
        printf '%s (%s inputs):' "$h" "$(find "${inputs[@]}" -type f | wc -l)"
        llvm-cov report -show-functions "$bin" -instr-profile="$out/$h.profdata" $srcs 2>/dev/null |
                awk -v want=" ${funcs[$h]} " '
                        { name = $1; sub(/.*:/, "", name) }
                        NF >= 10 && index(want, " " name " ") && !seen[name]++ {
                                printf " %s: lines %d/%d, branches %d/%d;", name, $5 - $6, $5, $8 - $9, $8 }
                        END { print "" }'
done
