# shellcheck shell=sh
# Guest-side helpers for VM scenarios (busybox sh). Scenarios start with
#   . /hdtest/lib.sh
# and report results on the console as "HDTEST: PASS|FAIL|SKIP name [reason]",
# finishing with done_tests ("HDTEST: DONE"). The host (run-guest.sh) parses
# these lines; a run without DONE counts as a failure.

HDTEST_NPASS=0
HDTEST_NFAIL=0
HDTEST_NSKIP=0

# Result lines go straight to the console (even if the scenario redirected
# stdout); init lowers the console loglevel so kernel lines do not interleave.
_hdtest_emit() { printf 'HDTEST: %s\n' "$*" >/dev/console 2>/dev/null || printf 'HDTEST: %s\n' "$*"; }

# Progress/diagnostic output (not parsed).
note() { printf '# %s\n' "$*"; }
# diag TEXT: a measurement for the record (timings); run-guest.sh prints it
# beside the results as "DIAG scenario: TEXT" (not a check)
diag() { printf 'HDTEST-DIAG: %s\n' "$*" >/dev/console 2>/dev/null || printf 'HDTEST-DIAG: %s\n' "$*"; }

pass() { HDTEST_NPASS=$((HDTEST_NPASS + 1)); _hdtest_emit "PASS $1"; }
fail() {
	_n=$1; shift
	HDTEST_NFAIL=$((HDTEST_NFAIL + 1))
	_hdtest_emit "FAIL $_n ${*:-failed}"
}
skip() {
	_n=$1; shift
	HDTEST_NSKIP=$((HDTEST_NSKIP + 1))
	_hdtest_emit "SKIP $_n ${*:-skipped}"
}

# check NAME CMD...: PASS if CMD exits 0, else FAIL with its (last) output.
check() {
	_n=$1; shift
	if _out=$("$@" 2>&1); then
		pass "$_n"
	else
		_rc=$?
		fail "$_n" "rc=$_rc: $* :: $(printf '%s' "$_out" | tail -n 3 | tr '\n' ' ')"
	fi
}

# check_eq NAME EXPECTED CMD...: PASS if CMD's stdout equals EXPECTED.
check_eq() {
	_n=$1 _exp=$2; shift 2
	_out=$("$@" 2>&1)
	if [ "$_out" = "$_exp" ]; then pass "$_n"; else fail "$_n" "expected '$_exp', got '$(printf '%s' "$_out" | tr '\n' ' ')'"; fi
}

# wait_for SECONDS CMD...: retry CMD every 0.2 s until it succeeds.
wait_for() {
	_t=$(($1 * 5)); shift
	while [ "$_t" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
		_t=$((_t - 1))
	done
	"$@" >/dev/null 2>&1
}

# --- sysfs helpers ---------------------------------------------------------
# pci_devs VENDOR:DEVICE -> BDFs (one per line) of matching PCI functions.
pci_devs() {
	_v=0x${1%%:*} _d=0x${1##*:}
	for _p in /sys/bus/pci/devices/*; do
		[ "$(cat "$_p/vendor")" = "$_v" ] && [ "$(cat "$_p/device")" = "$_d" ] &&
			basename "$_p"
	done
	return 0
}
pci_driver() { # BDF -> bound driver name or "-"
	if [ -e "/sys/bus/pci/devices/$1/driver" ]; then
		basename "$(readlink "/sys/bus/pci/devices/$1/driver")"
	else
		echo -
	fi
}
pci_group() { # BDF -> iommu group number or "-"
	if [ -e "/sys/bus/pci/devices/$1/iommu_group" ]; then
		basename "$(readlink "/sys/bus/pci/devices/$1/iommu_group")"
	else
		echo -
	fi
}

# lspci_nn: an "lspci -nn"-like listing from sysfs (busybox has no lspci).
# BDF class vendor:device [subsys] driver=... group=...
lspci_nn() {
	for _p in /sys/bus/pci/devices/*; do
		_b=$(basename "$_p")
		_c=$(cat "$_p/class")
		printf '%s [%s] [%s:%s] rev %s subsys %s:%s driver=%s iommu_group=%s\n' \
			"$_b" "${_c#0x}" "$(sed 's/^0x//' "$_p/vendor")" "$(sed 's/^0x//' "$_p/device")" \
			"$(sed 's/^0x//' "$_p/revision" 2>/dev/null)" \
			"$(sed 's/^0x//' "$_p/subsystem_vendor")" "$(sed 's/^0x//' "$_p/subsystem_device")" \
			"$(pci_driver "$_b")" "$(pci_group "$_b")"
	done
}

# done_tests: print the summary marker; exit status reflects failures.
done_tests() {
	note "summary: $HDTEST_NPASS passed, $HDTEST_NFAIL failed, $HDTEST_NSKIP skipped"
	_hdtest_emit "DONE"
	[ "$HDTEST_NFAIL" -eq 0 ]
}

# qmp COMMAND [key=value... | JSON]: ask the host to run a QMP command (needs
# "# hdtest: qmp" in the scenario, which makes run-guest.sh start
# "qmp.py SOCK serve-console LOG"). Fire and forget: poll sysfs for the effect.
# e.g. qmp device_add driver=e1000e id=hp0 bus=rp8 ; qmp device_del id=hp0
qmp() { printf 'HDTEST-QMP: %s\n' "$*" >/dev/console 2>/dev/null || printf 'HDTEST-QMP: %s\n' "$*"; }

# export_file PATH [NAME]: send a guest file to the host over the console
# (base64); run-guest.sh --export-dir DIR writes it to DIR/NAME. Meant for
# small files (captures, logs): the serial line moves roughly 100 KB/s.
export_file() {
	_n=$(basename "${2:-$1}")
	{
		echo "HDTEST-FILE-BEGIN $_n"
		base64 "$1" | sed 's/^/HDTEST-FILE: /'
		echo "HDTEST-FILE-END $_n"
	} >/dev/console 2>/dev/null
}

# start_system_bus: the guest's system bus (needs "# hdtest: dbus", which
# copies dbus-daemon, dbus-send and the bus configuration); 1 when there is
# none. Policy files: /usr/share/dbus-1/system.d.
start_system_bus() {
	command -v dbus-daemon >/dev/null 2>&1 && [ -f /etc/dbus-1/hdtest-system.conf ] || return 1
	mkdir -p /run/dbus
	[ -s /etc/machine-id ] || echo 6864746573746775657374000000000a | cut -c1-32 >/etc/machine-id
	dbus-daemon --config-file=/etc/dbus-1/hdtest-system.conf --fork --nopidfile &&
		wait_for 10 test -S /run/dbus/system_bus_socket
}
