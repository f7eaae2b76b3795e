#!/bin/sh
# Build a tiny fake host root (SYSROOT/sys + SYSROOT/run/udev/data) for
# smoke-testing libvirt-nodedev.sh.  Usage: mk-tiny-sysroot.sh SYSROOT
#
# Layout:
#   pci0000:00/0000:00:00.0          Intel host bridge (class 0x060000)
#   pci0000:00/0000:00:00.0/net/eth0 net device (a child of the bridge, as
#                                    asked; unrealistic but exercises parents)
#   pci0000:00/0000:00:01.0          e1000 NIC (class 0x020000)
#   pci0000:00/0000:00:01.0/net/eth1 its net device (+ a udev db entry)
#   virtual/dmi/id                   DMI data for libvirt's "computer"
set -eu
[ $# -eq 1 ] || { echo "usage: $0 SYSROOT" >&2; exit 2; }
R=$1
rm -rf "$R"
S=$R/sys
mkdir -p "$S/bus/pci/devices" "$S/bus/pci/drivers" "$S/class/net" \
         "$S/devices/pci0000:00" "$S/devices/virtual/net" "$R/run/udev/data"
echo > "$S/devices/pci0000:00/uevent"

# emit one byte given as a number (any printf-%d syntax)
byte() { printf "\\$(printf '%03o' "$(( $1 & 255 ))")"; }
# pciconfig VENDOR DEVICE CLASS SUBVEN SUBDEV: 256-byte type-0 config space
# without a capability list (libvirt reads the header type when privileged
# and drops a PCI device whose config it cannot read).
pciconfig() {
    byte $(($1)); byte $(($1 >> 8)); byte $(($2)); byte $(($2 >> 8))
    byte 6; byte 0; byte 0; byte 0            # command, status (no caps)
    byte 0                                    # revision
    byte $(($3)); byte $(($3 >> 8)); byte $(($3 >> 16))  # prog-if, sub, class
    byte 0; byte 0; byte 0; byte 0            # cacheline, latency, hdr, bist
    i=16; while [ $i -lt 44 ]; do byte 0; i=$((i + 1)); done
    byte $(($4)); byte $(($4 >> 8)); byte $(($5)); byte $(($5 >> 8))
    i=48; while [ $i -lt 256 ]; do byte 0; i=$((i + 1)); done
}

# pcidev BDF VENDOR DEVICE CLASS SUBVEN SUBDEV
pcidev() {
    d=$S/devices/pci0000:00/$1
    mkdir -p "$d"
    ln -s ../../../bus/pci "$d/subsystem"
    ln -s "../../../devices/pci0000:00/$1" "$S/bus/pci/devices/$1"
    printf '%s\n' "$2" > "$d/vendor"
    printf '%s\n' "$3" > "$d/device"
    printf '%s\n' "$4" > "$d/class"
    printf '%s\n' "$5" > "$d/subsystem_vendor"
    printf '%s\n' "$6" > "$d/subsystem_device"
    echo 0 > "$d/revision"
    echo -1 > "$d/numa_node"
    echo 1 > "$d/enable"
    pciconfig "$2" "$3" "$4" "$5" "$6" > "$d/config"
    ven=$(echo "$2" | sed 's/^0x//' | tr a-f A-F)
    dev=$(echo "$3" | sed 's/^0x//' | tr a-f A-F)
    sven=$(echo "$5" | sed 's/^0x//' | tr a-f A-F)
    sdev=$(echo "$6" | sed 's/^0x//' | tr a-f A-F)
    cls=$(printf '%X' "$4")
    printf 'PCI_CLASS=%s\nPCI_ID=%s:%s\nPCI_SUBSYS_ID=%s:%s\nPCI_SLOT_NAME=%s\nMODALIAS=pci:v0000%sd0000%ssv0000%ssd0000%sbc%sc%si%s\n' \
        "$cls" "$ven" "$dev" "$sven" "$sdev" "$1" "$ven" "$dev" "$sven" "$sdev" \
        "$(echo "$cls" | cut -c1-2)" "$(echo "$cls" | cut -c3-4)" "$(echo "$cls" | cut -c5-6)" \
        > "$d/uevent"
}

# netdev PCIBDF IFNAME IFINDEX MAC
netdev() {
    d=$S/devices/pci0000:00/$1/net/$2
    mkdir -p "$d"
    ln -s ../../../../../class/net "$d/subsystem"
    ln -s ../../.. "$d/device"
    ln -s "../../devices/pci0000:00/$1/net/$2" "$S/class/net/$2"
    printf 'INTERFACE=%s\nIFINDEX=%s\n' "$2" "$3" > "$d/uevent"
    echo "$4" > "$d/address"
    echo "$3" > "$d/ifindex"
    echo 1 > "$d/type"
    echo 1500 > "$d/mtu"
    echo up > "$d/operstate"
    echo 1000 > "$d/speed"
    echo full > "$d/duplex"
}

pcidev 0000:00:00.0 0x8086 0x1237 0x060000 0x1af4 0x1100
netdev 0000:00:00.0 eth0 2 52:54:00:12:34:56
pcidev 0000:00:01.0 0x8086 0x100e 0x020000 0x1af4 0x1100
netdev 0000:00:01.0 eth1 3 52:54:00:ab:cd:ef

# DMI (libvirt's "computer" device reads these)
d=$S/devices/virtual/dmi/id
mkdir -p "$d" "$S/class/dmi"
ln -s ../../../../class/dmi "$d/subsystem"
ln -s ../../devices/virtual/dmi/id "$S/class/dmi/id"
echo 'MODALIAS=dmi:bvnSeaBIOS:bvr1.16.2:' > "$d/uevent"
echo QEMU > "$d/sys_vendor"
echo 'Standard PC (i440FX + PIIX, 1996)' > "$d/product_name"
echo pc-i440fx-8.0 > "$d/product_version"
echo 0123456789 > "$d/product_serial"
echo 6f8a3c62-1b2d-4e5f-9a0b-1c2d3e4f5a6b > "$d/product_uuid"
echo SeaBIOS > "$d/bios_vendor"
echo 1.16.2-debian-1.16.2-1 > "$d/bios_version"
echo 04/01/2014 > "$d/bios_date"

# udev db entries (libvirt reads ID_VENDOR_FROM_DATABASE etc. from here)
printf 'E:ID_VENDOR_FROM_DATABASE=Intel Corporation\nE:ID_MODEL_FROM_DATABASE=82540EM Gigabit Ethernet Controller\nE:ID_PCI_CLASS_FROM_DATABASE=Network controller\n' \
    > "$R/run/udev/data/+pci:0000:00:01.0"
printf 'I:1\nE:ID_NET_NAME_PATH=enp0s1\n' > "$R/run/udev/data/n3"
