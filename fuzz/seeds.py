#!/usr/bin/env python3
"""Seed corpora and the fake host tree of the fuzz harnesses.

    python3 fuzz/seeds.py OUTDIR [STAMP]

OUTDIR/tree/            a small fake host (tests/fakesys) that the tree
                        harnesses copy and write their input into
OUTDIR/tree-attrs.txt   the attribute files fuzz-sysfs-attrs writes, in order
OUTDIR/seeds/<harness>/ seed inputs, named by content hash: files of the
                        fixture sysroots (tests/data/sysroots/build.py), of
                        the real-kernel captures (tests/data/captures), the
                        golden XML (tests/data/golden) and the documents
                        the tests use
The output depends only on the repository; STAMP is touched at the end.
"""

import hashlib
import os
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(SRC, "tests", "fakesys"))
from fakesys import Sysroot, build_vpd  # noqa: E402

MTTY_UUID = "3627463d-b7f0-4fea-b468-f1da537d301b"
GVT_UUID = "4b20d080-1b54-4048-85b3-a6a62d165c01"


def build_tree(out):
    """One device of each kind whose attributes the library parses."""
    with Sysroot(out, write_manifest=False) as s:
        s.dmi()
        s.pci("0000:00:00.0", 0x8086, 0x3e30, 0x060000, pcie=False, iommu_group=0)
        s.pci("0000:00:01.0", 0x8086, 0x1901, 0x060400, driver="pcieport",
              iommu_group=1, link_cap=(3, 16), port=2)
        vpd = build_vpd("Fuzz NIC", ro_fields=[("PN", "PN-1"), ("SN", "SN-1"), ("V0", "v0")],
                        rw_fields=[("YA", "asset")])
        s.pci("0000:01:00.0", 0x8086, 0x10c9, 0x020000, driver="igb",
              parent="0000:00:01.0", iommu_group=2, link_cap=(1, 4), numa=0,
              sriov_total=2, sriov_vf_device=0x10ca, sriov_offset=0x80,
              sriov_stride=2, ari=False, vpd=vpd)
        s.net("0000:01:00.0", "enp1s0", "00:1b:21:4a:9c:10", 2, speed=1000)
        s.vf("0000:01:00.0", 0, driver="igbvf", iommu_group=3)
        s.pci("0000:00:02.0", 0x8086, 0x3e92, 0x030000, driver="i915",
              iommu_group=4)
        s.mdev_types("0000:00:02.0", [
            dict(id="i915-GVTg_V5_4", name="GVTg_V5_4", device_api="vfio-pci",
                 available=2, description="weight: 4"),
            dict(id="i915-GVTg_V5_8", name="GVTg_V5_8", device_api="vfio-pci",
                 available=4, description="weight: 2")])
        s.mdev("0000:00:02.0", GVT_UUID, "i915-GVTg_V5_4", iommu_group=20)
        s.drm("0000:00:02.0", card=0, render=128)
        s.pci("0000:00:14.0", 0x8086, 0xa36d, 0x0c0330, driver="xhci_hcd",
              pcie=False, iommu_group=5)
        s.usb_device("0000:00:14.0", 1, 1, 0x1d6b, 0x0002, cls=9, protocol=1,
                     manufacturer="Linux xhci-hcd", product_name="xHCI Host Controller",
                     maxchild=4)
        s.usb_interface("usb1", 0, 9, 0, 0, driver="hub")
        s.usb_device("usb1", 1, 2, 0x046d, 0xc31c, port=1, manufacturer="Logitech",
                     product_name="USB Keyboard")
        s.usb_interface("1-1", 0, 3, 1, 1, driver="usbhid")
        s.pci("0000:00:17.0", 0x8086, 0xa352, 0x010601, driver="ahci", pcie=False,
              iommu_group=6)
        s.scsi_host("0000:00:17.0", 0, via="ata1", proc_name="ahci", unique_id=1)
        s.scsi_disk(0, 0, 0, "sda", 0, 0, 195371568, vendor="ATA", model="Fuzz Disk",
                    serial="FZ1")
        s.scsi_host("0000:00:17.0", 1, via="ata2", proc_name="ahci")
        s.scsi_cdrom(1, 0, 0, "sr0", 0, 1, media=True, label="LABEL", media_size=24112)
        s.mtty(instances=[(MTTY_UUID, "mtty-1", 21)])


def tree_attrs(tree):
    """The attribute files fuzz-sysfs-attrs overwrites: DMI strings and
    UUID, PCI ids/class/NUMA/SR-IOV count, netdev MAC/state/speed, USB
    numbers/ids/strings, block size/model, SCSI type, mdev type data,
    then uevent files and udev database entries."""
    def dev(link):
        return os.path.relpath(os.path.realpath(os.path.join(tree, link)), tree)
    pci = dev("sys/bus/pci/devices/0000:01:00.0")
    net = dev("sys/class/net/enp1s0")
    usb = dev("sys/bus/usb/devices/1-1")
    usbif = dev("sys/bus/usb/devices/1-1:1.0")
    sda = dev("sys/class/block/sda")
    sr0 = dev("sys/class/block/sr0")
    host = dev("sys/class/scsi_host/host0")
    gvt = dev("sys/bus/pci/devices/0000:00:02.0") + "/mdev_supported_types/i915-GVTg_V5_4"
    mtty = dev("sys/devices/virtual/mtty/mtty") + "/mdev_supported_types/mtty-1"
    dmi = "sys/devices/virtual/dmi/id"
    attrs = [dmi + "/" + a for a in ("product_name", "sys_vendor", "product_version",
                                     "product_serial", "bios_vendor", "bios_version",
                                     "bios_date", "product_uuid")]
    attrs += [pci + "/" + a for a in ("class", "vendor", "device", "numa_node",
                                      "sriov_totalvfs", "sriov_numvfs")]
    attrs += [net + "/" + a for a in ("address", "operstate", "speed")]
    attrs += [usb + "/" + a for a in ("busnum", "devnum", "idVendor", "idProduct",
                                      "manufacturer", "product")]
    attrs += [usbif + "/" + a for a in ("bInterfaceNumber", "bInterfaceClass",
                                        "bInterfaceSubClass", "bInterfaceProtocol")]
    attrs += [sda + "/" + a for a in ("size", "queue/logical_block_size", "device/model",
                                      "device/vendor", "device/type")]
    attrs += [sr0 + "/size"]
    attrs += [host.replace("/scsi_host/host0", "") + "/scsi_host/host0/unique_id"]
    attrs += [gvt + "/" + a for a in ("available_instances", "name", "device_api", "description")]
    attrs += [mtty + "/" + a for a in ("available_instances", "name", "device_api")]
    # appended (the regression inputs are positional): uevent files and
    # udev database entries, which decide names, types and devnodes
    attrs += [d + "/uevent" for d in (pci, net, usb, sda, dev("sys/class/drm/card0"))]
    attrs += ["run/udev/data/" + i for i in ("b8:0", "n2", "c189:1")]
    missing = [a for a in attrs if not os.path.isfile(os.path.join(tree, a))]
    if missing:
        sys.exit("seeds.py: the fuzz tree lacks " + ", ".join(missing))
    return attrs


# hostdevd's replies (hd_result_from_json): the kind byte (enum
# hd_result_kind), then the document
RESULT_JSON = [
    (0, '{"status":"ok","reason":null,"devices":[{"address":"0000:01:00.0","from":"nouveau",'
        '"to":"vfio-pci","result":"done"},{"address":"0000:01:00.1","from":"","to":"vfio-pci",'
        '"result":"would move"}]}'),
    (0, '{"status":"refused","reason":"0000:00:1f.2 holds the root filesystem","devices":'
        '[{"address":"0000:00:1f.2","from":"ahci","to":"vfio-pci","result":"not attempted"}]}'),
    (1, '{"status":"ok","reason":null,"actions":[{"pf":"0000:02:00.0","action":"sriov_numvfs 2 -> 4",'
        '"result":"would change"}]}'),
    (2, '[{"uuid":"b0a3989b-1b2d-4d6e-9d8e-2f3c4d5e6f70","parent":"mtty","type":"mtty-1",'
        '"result":"FAILED","error":"No space left on device"}]'),
    (3, '{"status":"ok","reason":"a hint","devices":[{"device":"pci_0000_01_00_0","method":"flr",'
        '"result":"done"}]}'),
    (4, '{"status":"ok","reason":null,"mdevs":[{"uuid":null,"parent":"mtty","type":"mtty-1",'
        '"action":"create","result":"planned","error":null}]}'),
    (5, '{"status":"failed","reason":"r","steps":[{"step":"detach-group","device":"0000:01:00.0",'
        '"action":"detach group 12","domain":"vm1","from":null,"to":null,"xml":null,"result":"done",'
        '"error":null},{"step":"move","device":"0000:01:00.1","action":null,"domain":null,'
        '"from":"snd_hda_intel","to":"vfio-pci","xml":"<hostdev/>","result":"would move","error":"x"}]}'),
]


class Corpus:
    def __init__(self, out):
        self.out = out
        self.n = {}

    def add(self, harness, data, limit=400):
        if isinstance(data, str):
            data = data.encode()
        d = os.path.join(self.out, harness)
        os.makedirs(d, exist_ok=True)
        if self.n.get(harness, 0) >= limit:
            return
        p = os.path.join(d, hashlib.sha1(data).hexdigest())
        if not os.path.exists(p):
            with open(p, "wb") as f:
                f.write(data)
            self.n[harness] = self.n.get(harness, 0) + 1


def read(p):
    with open(p, "rb") as f:
        return f.read()


def from_sysroot(c, root):
    """uevent, udev database, config and vpd files of a host image."""
    for dirpath, dirnames, filenames in os.walk(os.path.join(root, "sys", "devices")):
        dirnames.sort()
        for fn in sorted(filenames):
            p = os.path.join(dirpath, fn)
            if os.path.islink(p) or not os.access(p, os.R_OK):
                continue
            if fn == "uevent":
                c.add("uevent", read(p))
            elif fn == "config":
                data = read(p)
                c.add("pci-config", b"\x01" + data)
                c.add("pci-config", b"\x00" + data[:64])
            elif fn == "vpd":
                c.add("vpd", read(p))
    db = os.path.join(root, "run", "udev", "data")
    if os.path.isdir(db):
        for fn in sorted(os.listdir(db)):
            p = os.path.join(db, fn)
            if os.path.isfile(p) and not os.path.islink(p):
                c.add("udev-db", read(p))


def nl_attr(t, payload):
    n = 4 + len(payload)
    return struct.pack("=HH", n, t) + payload + b"\0" * ((4 - n % 4) % 4)


def netlink_seeds(c):
    IFLA_NUM_VF, IFLA_VFINFO_LIST, IFLA_VF_INFO = 21, 22, 1
    VF_MAC, VF_VLAN, VF_SPOOFCHK, VF_LINK_STATE, VF_TRUST = 1, 2, 4, 5, 9
    RTM_NEWLINK, NLMSG_ERROR, NLMSG_DONE = 16, 2, 3

    def msg(typ, body, seq=42):
        return struct.pack("=IHHII", 16 + len(body), typ, 0, seq, 0) + body

    def vf(i, mac, vlan, qos, spoof, trust, state=2):
        return nl_attr(VF_INFO | 0x8000,
                       nl_attr(VF_MAC, struct.pack("=I32s", i, mac)) +
                       nl_attr(VF_VLAN, struct.pack("=III", i, vlan, qos)) +
                       nl_attr(VF_SPOOFCHK, struct.pack("=II", i, spoof)) +
                       nl_attr(VF_LINK_STATE, struct.pack("=II", i, state)) +
                       nl_attr(VF_TRUST, struct.pack("=II", i, trust)))
    VF_INFO = IFLA_VF_INFO
    ifi = struct.pack("=BxHiII", 0, 1, 7, 0x1043, 0)
    vfs = vf(1, b"\x02\x11\x22\x33\x44\x55", 10, 3, 0, 1) + vf(0, b"\0" * 6, 0, 0, 1, 0xffffffff)
    c.add("netlink", msg(RTM_NEWLINK, ifi + nl_attr(3, b"enp1s0\0") + nl_attr(IFLA_NUM_VF, struct.pack("=I", 2)) +
                         nl_attr(IFLA_VFINFO_LIST | 0x8000, vfs)))
    c.add("netlink", msg(RTM_NEWLINK, ifi + nl_attr(IFLA_NUM_VF, struct.pack("=I", 0))))
    c.add("netlink", msg(NLMSG_ERROR, struct.pack("=i", -95) + msg(19, b"")[:16]))
    c.add("netlink", msg(NLMSG_ERROR, struct.pack("=i", 0) + msg(19, b"")[:16]))
    c.add("netlink", msg(NLMSG_DONE, struct.pack("=i", 0)))
    c.add("netlink", msg(RTM_NEWLINK, ifi, seq=7) + msg(RTM_NEWLINK, ifi + nl_attr(IFLA_VFINFO_LIST, vfs)))
    # generic netlink: the devlink family (CTRL_ATTR_FAMILY_ID) and an
    # eswitch answer in switchdev mode (DEVLINK_ATTR_ESWITCH_MODE = 25)
    genl = struct.pack("=BBH", 1, 1, 0)
    c.add("netlink", msg(0x10, genl + nl_attr(2, b"devlink\0") + nl_attr(1, struct.pack("=H", 0x1c))))
    c.add("netlink", msg(0x1c, genl + nl_attr(1, b"pci\0") + nl_attr(2, b"0000:3b:00.0\0") +
                         nl_attr(25, struct.pack("=H", 1))))


MDEV_JSON = [
    '{\n  "mdev_type": "i915-GVTg_V5_8",\n  "start": "auto",\n  "attrs": [\n    {\n      "a": "b"\n    }\n  ]\n}',
    '{"mdev_type":"mtty-1","start":"manual","attrs":[]}',
    '{"mdev_type": "nvidia-63", "start": "auto", "attrs": [{"x": "1"}, {"y/z": "\\u00e9\\n"}]}',
    '{"mdev_type":"mtty-2","start":"manual"}',
    '{"mdev_type":"x","start":"auto","attrs":null}',
    '{"mdev_type": "mtty-1", "start": "auto", "attrs": [',
]

SRIOV_JSON = [
    '{\n  "address": "0000:02:00.0",\n  "vendor": "0x8086",\n  "device": "0x10c9",\n  "serial": null,\n'
    '  "numvfs": 3,\n  "driver": "vfio-pci",\n  "autoprobe": false,\n  "vfs": [\n'
    '    { "index": 2, "mac": "02:11:22:33:44:55", "vlan": 10, "spoofchk": false }\n  ]\n}\n',
    '{"address":"0000:05:00.0","vendor":"0x15b3","device":"0xa2d6","serial":"00-11-22-33-44-55-66-77",'
    '"numvfs":4,"driver":null,"autoprobe":true,"vfs":[{"index":0,"trust":true,"spoofchk":null},'
    '{"index":3,"vlan":4095,"qos":7,"mac":null}]}',
    '{"address":"0000:02:00.0","vendor":"0x8086","device":"0x10c9","numvfs":0}',
    '{"address":"0000:02:00.0","vendor":"0x8086","device":"0x10c9","numvfs":2,"driver":"pci-stub","vfs":[]}',
]

NODEDEV_XML = [
    "<device><parent>mtty_mtty</parent><capability type='mdev'><type id='mtty-1'/></capability></device>",
    "<device><parent>pci_0000_00_02_0</parent><capability type='mdev'><type id='i915-GVTg_V5_8'/>"
    "<uuid>9C4954D2-FA39-4973-9D66-D61C6C4D0100</uuid><attr name='a' value='b'/><start type='auto'/>"
    "</capability></device>",
    "<device>\n  <name>mdev_x</name>\n  <parent>mtty_mtty</parent>\n  <capability type='mdev'>\n"
    "    <type id='mtty-2'/>\n    <uuid>" + MTTY_UUID + "</uuid>\n    <attr name='k' value='v'/>\n"
    "    <iommuGroup number='3'/>\n  </capability>\n</device>\n",
    "<device><capability type='mdev'><type id='mtty-1'/><parent_addr>0000:00:02.0</parent_addr>"
    "<start type='manual'/></capability></device>",
    "<?xml version='1.0'?><!DOCTYPE device [<!ENTITY p 'mtty_mtty'>]>"
    "<device><parent>&p;</parent><capability type='mdev'><type id='mtty-1'/></capability></device>",
    "<device><parent>mtty_mtty</parent><capability type='pci'/></device>",
]


# hostdevd's ListDevices filter strings (docs/dbus.md), good and bad
NODEDEV_FILTERS = [
    "", "{}", "--cap pci", "--cap pci,net --driver=vfio-pci", "-s 00:02", "--slot=0000:00:02.0",
    "-d 8086:", "--id :1234", "--class 0x030000", "--inactive", "--all", "--persistent --cap mdev",
    "--transient", "--cap nosuch", "--inactive --all", "--tree", "--cap", "-s zz:zz", "--driver",
    "--cap=pci,,net", "  --cap   pci  ", "--cap pci --cap net",
]

def main():
    out = os.path.abspath(sys.argv[1])
    stamp = sys.argv[2] if len(sys.argv) > 2 else None
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    tree = os.path.join(out, "tree")
    build_tree(tree)
    attrs = tree_attrs(tree)
    with open(os.path.join(out, "tree-attrs.txt"), "w") as f:
        f.write("".join(a + "\n" for a in attrs))

    c = Corpus(os.path.join(out, "seeds"))
    c.add("sysfs-attrs", b"\0".join(read(os.path.join(tree, a)) for a in attrs))
    broken = {"class": b"0xZZ\n", "numa_node": b"garbage\n", "vendor": b"\n", "speed": b"fast\n",
              "size": b"lots\n", "devnum": b"two\n", "type": b"\n", "product_uuid": b"ffffffff-ffff-ffff-ffff-ffffffffffff\n",
              "available_instances": b"-1\n", "address": b"\xff\xfe\n"}
    c.add("sysfs-attrs", b"\0".join(broken.get(os.path.basename(a), read(os.path.join(tree, a))) for a in attrs))
    from_sysroot(c, tree)

    with tempfile.TemporaryDirectory(prefix="hostdev-seeds.") as tmp:
        subprocess.run([sys.executable, os.path.join(SRC, "tests", "data", "sysroots", "build.py"),
                        os.path.join(tmp, "sysroots")], check=True, stdout=subprocess.DEVNULL)
        for case in sorted(os.listdir(os.path.join(tmp, "sysroots"))):
            from_sysroot(c, os.path.join(tmp, "sysroots", case))
        capdir = os.path.join(SRC, "tests", "data", "captures")
        for fn in sorted(os.listdir(capdir)):
            if fn.endswith(".tgz"):
                d = os.path.join(tmp, "cap-" + fn)
                with tarfile.open(os.path.join(capdir, fn)) as t:
                    t.extractall(d, filter="data") if hasattr(tarfile, "data_filter") else t.extractall(d)
                for dirpath, dirnames, _ in os.walk(d):
                    if "sys" in dirnames and "run" in dirnames:
                        from_sysroot(c, dirpath)

    golden = os.path.join(SRC, "tests", "data", "golden")
    for dirpath, _, filenames in sorted(os.walk(golden)):
        for fn in sorted(filenames):
            if fn.startswith("mdev_") and fn.endswith(".xml"):
                c.add("nodedev-xml", read(os.path.join(dirpath, fn)))
    for x in NODEDEV_XML:
        c.add("nodedev-xml", x)
    for j in MDEV_JSON:
        c.add("mdev-json", j)
    for j in SRIOV_JSON:
        c.add("sriov-config", j)
    netlink_seeds(c)
    for kind, j in RESULT_JSON:
        c.add("result-json", bytes([kind]) + j.encode())
    for spec in NODEDEV_FILTERS:
        c.add("nodedev-filter", spec.encode())
    if stamp:
        with open(stamp, "w") as f:
            f.write("".join("%s %d\n" % (h, n) for h, n in sorted(c.n.items())))


if __name__ == "__main__":
    main()
