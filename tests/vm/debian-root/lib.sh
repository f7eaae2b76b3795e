# Sourced by the boot steps inside the debian-root guest (/hdtest/lib.sh).
# The init's `udevadm settle --timeout=60` can run out under TCG on a loaded
# machine (coldplug loads modules for a minute or more), and the checks
# would then race udev's workers; wait for the queue to drain first.
udevadm settle --timeout=600 || echo "HDTEST: udev queue still busy after 600 s"
HD() { LD_LIBRARY_PATH=/hdtest /hdtest/hostdevctl "$@"; }
check() { # NAME COMMAND...
	_name=$1; shift
	if "$@" >/tmp/check.out 2>&1; then echo "HDTEST: PASS $_name"
	else echo "HDTEST: FAIL $_name: $(tail -n 3 /tmp/check.out | tr '\n' ' ')"; fi
}
drv() { d=$(readlink "/sys/bus/pci/devices/$1/driver" 2>/dev/null) && echo "${d##*/}"; }
is_drv() { [ "$(drv "$1")" = "$2" ] || { echo "$1 is on '$(drv "$1")', not $2"; return 1; }; }
has() { grep -q -- "$2" "$1" || { echo "'$2' not in $1:"; tail -n 20 "$1"; return 1; }; }
hasnt() { ! grep -q -- "$2" "$1" || { echo "'$2' is in $1:"; grep -- "$2" "$1"; return 1; }; }
