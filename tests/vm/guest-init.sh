#!/bin/sh
# /init of the hostdev VM test guest (busybox sh). Copied into the base
# initramfs by build-guest.sh; changes here need a rebuild (automatic).
export PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=dumb

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm /run /tmp /var/run /var/tmp
mount -t devpts devpts /dev/pts
# /run and /tmp stay on the (writable) initramfs rootfs so that --binary and
# --file payloads placed there are not hidden.
mount -t tmpfs tmpfs /dev/shm
mount -t configfs configfs /sys/kernel/config 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
hostname -F /etc/hostname 2>/dev/null

up() { cut -d' ' -f1 /proc/uptime; }
echo "HDTEST-BOOT: init started ($(uname -r)) at $(up)s"
cmdline=$(cat /proc/cmdline)
case " $cmdline " in *" hdtest.probe=1 "*)
	echo "HDTEST-BOOT: probe ok"
	poweroff -f
	;;
esac

# Load the drivers for the emulated hardware (deps via modules.dep).
while read -r m; do
	[ -n "$m" ] || continue
	modprobe "$m" 2>/dev/null || echo "HDTEST-BOOT: modprobe $m failed"
done </etc/hdtest-modules
ip link set lo up
echo "HDTEST-BOOT: modules loaded at $(up)s"

if [ -e /etc/hdtest-udev ]; then
	case " $cmdline " in *" hdtest.udev=1 "*)
		mkdir -p /run/udev
		/lib/systemd/systemd-udevd --daemon --resolve-names=never
		/bin/udevadm trigger --type=subsystems --action=add
		/bin/udevadm trigger --type=devices --action=add
		/bin/udevadm settle --timeout=60 || echo "HDTEST-BOOT: udevadm settle timed out"
		echo "HDTEST-BOOT: udev started at $(up)s"
		;;
	esac
fi

# Keep kernel chatter off the console while the scenario runs (it is still in
# dmesg); hdtest.verbose=1 on the command line leaves it on.
case " $cmdline " in *" hdtest.verbose=1 "*) ;; *) dmesg -n 1 ;; esac

if [ -x /hdtest/setup.sh ]; then
	/hdtest/setup.sh
fi

echo "HDTEST-BOOT: running scenario at $(up)s"
rc=0
if [ -f /scenario.sh ]; then
	cd /root && /bin/sh /scenario.sh </dev/null
	rc=$?
else
	echo "HDTEST: FAIL harness no /scenario.sh in initramfs"
	rc=1
fi
echo "HDTEST-BOOT: scenario exited rc=$rc at $(up)s"
case " $cmdline " in *" hdtest.shell=1 "*)
	echo "HDTEST-BOOT: debug shell (exit to power off)"
	setsid cttyhack /bin/sh
	;;
esac
sync
poweroff -f
