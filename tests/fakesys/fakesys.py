"""fakesys - build realistic fake Linux sysfs trees ("sysroots").

A sysroot DIR mirrors a live host:

    DIR/sys/...             what the kernel shows under /sys
    DIR/run/udev/data/<id>  the udev database (systemd 252 format)
    DIR/run/udev/tags/...   udev tag index
    DIR/dev/...             stand-ins (empty regular files) for device nodes
    DIR/expected.json       manifest of every device created (not part of
                            the host image; for test assertions)

Everything is laid out the way the kernel does it so that both our C code
(reading DIR/sys with openat) and real libudev / libvirt (with DIR/sys
bind-mounted over /sys and DIR/run/udev over /run/udev, run with
SYSTEMD_DEVICE_VERIFY_SYSFS=0) see the same devices:

  * devices are directories under sys/devices/ with a `uevent` file,
    a relative `subsystem` symlink and, when bound, a relative `driver`
    symlink;
  * bus devices are linked from sys/bus/<bus>/devices/<name>, class
    devices from sys/class/<class>/<name>, disks from sys/block/<name>,
    device nodes from sys/dev/{char,block}/<maj>:<min>;
  * all symlinks are relative.

Usage:

    from fakesys import Sysroot
    with Sysroot("/tmp/root") as s:         # finish() runs on exit
        s.dmi(sys_vendor="LENOVO", ...)
        rp = s.pci("0000:00:1c.0", 0x8086, 0xa338, 0x060400, driver="pcieport")
        nic = s.pci("0000:01:00.0", 0x8086, 0x10d3, 0x020000, driver="e1000e",
                    parent=rp, iommu_group=7)
        s.net(nic, "enp1s0", "52:54:00:12:34:56", ifindex=2)

PCI config space, sriov_numvfs, bridge bus numbers and the multifunction bit
are computed and written by finish(); call it (or use the context manager).

Python standard library only.
"""

import json
import os
import struct

__all__ = ["Sysroot", "build_vpd", "build_pci_config", "sanitize_name", "udev_safe",
           "PCIE_TYPE_ENDPOINT", "PCIE_TYPE_LEGACY_ENDPOINT",
           "PCIE_TYPE_ROOT_PORT", "PCIE_TYPE_UPSTREAM", "PCIE_TYPE_DOWNSTREAM",
           "PCIE_TYPE_PCIE_TO_PCI", "PCIE_TYPE_RCIEP", "PCIE_TYPE_RC_EC"]

# PCI Express device/port types (PCIe capability register, bits 7:4)
PCIE_TYPE_ENDPOINT = 0x0
PCIE_TYPE_LEGACY_ENDPOINT = 0x1
PCIE_TYPE_ROOT_PORT = 0x4
PCIE_TYPE_UPSTREAM = 0x5
PCIE_TYPE_DOWNSTREAM = 0x6
PCIE_TYPE_PCIE_TO_PCI = 0x7
PCIE_TYPE_RCIEP = 0x9
PCIE_TYPE_RC_EC = 0xa

PCIE_SPEED_STR = {
    0: "Unknown", 1: "2.5 GT/s PCIe", 2: "5.0 GT/s PCIe", 3: "8.0 GT/s PCIe",
    4: "16.0 GT/s PCIe", 5: "32.0 GT/s PCIe", 6: "64.0 GT/s PCIe",
}

# Device numbers the kernel uses (dynamic majors: typical values).
MAJOR_SD = 8
MAJOR_SR = 11
MAJOR_SG = 21
MAJOR_USB_DEVICE = 189
MAJOR_DRM = 226
MAJOR_BLKEXT = 259
MAJOR_NVME_CHAR = 240      # dynamic
MAJOR_VHOST_VDPA = 236     # dynamic

# Names the udev hwdb would give (ID_PCI_CLASS_FROM_DATABASE ...)
PCI_CLASS_NAMES = {
    0x01: "Mass storage controller", 0x02: "Network controller",
    0x03: "Display controller", 0x04: "Multimedia controller",
    0x06: "Bridge", 0x07: "Communication controller",
    0x08: "Generic system peripheral", 0x0c: "Serial bus controller",
    0x0d: "Wireless controller", 0x12: "Processing accelerators",
}
PCI_SUBCLASS_NAMES = {
    0x0101: "IDE interface", 0x0104: "RAID bus controller",
    0x0106: "SATA controller", 0x0107: "Serial Attached SCSI controller",
    0x0108: "Non-Volatile memory controller",
    0x0200: "Ethernet controller", 0x0280: "Network controller",
    0x0207: "Infiniband controller",
    0x0300: "VGA compatible controller", 0x0302: "3D controller",
    0x0380: "Display controller",
    0x0401: "Multimedia audio controller", 0x0403: "Audio device",
    0x0600: "Host bridge", 0x0601: "ISA bridge", 0x0604: "PCI bridge",
    0x0607: "CardBus bridge", 0x0780: "Communication controller",
    0x0c03: "USB controller", 0x0c04: "Fibre Channel",
    0x0c05: "SMBus", 0x0c80: "Serial bus controller",
}
PCI_PROGIF_NAMES = {
    0x010601: "AHCI 1.0", 0x010802: "NVM Express", 0x030000: "VGA controller",
    0x060400: "Normal decode", 0x060401: "Subtractive decode",
    0x0c0330: "XHCI", 0x0c0320: "EHCI",
}


# drivers that are built into Debian's kernel: no `module` link
BUILTIN_DRIVERS = {"pcieport", "usb", "hub", "usbfs", "skl_uncore", "xhci_hcd",
                   "ehci-pci", "ahci", "sd", "sr", "e1000e"}
# driver name -> module name where they differ
DRIVER_MODULES = {"sd": "sd_mod", "sr": "sr_mod", "vfio-pci": "vfio_pci",
                  "usb-storage": "usb_storage", "xhci_hcd": "xhci_pci",
                  "i801_smbus": "i2c_i801", "vfio_mdev": "vfio_mdev",
                  "snd_hda_intel": "snd_hda_intel", "yenta_cardbus": "yenta_socket"}


def sanitize_name(s):
    """libvirt's udevGenerateDeviceName(): non-alnum -> '_'."""
    return "".join(c if c.isascii() and c.isalnum() else "_" for c in s)


def udev_safe(s):
    """udev's replace_whitespace + replace_chars for ID_MODEL/ID_SERIAL:
    whitespace -> '_', anything outside [0-9A-Za-z#+-.:=@_] -> '_'."""
    s = "_".join(s.split())
    return "".join(c if (c.isascii() and c.isalnum()) or c in "#+-.:=@_" else "_"
                   for c in s)


def _u8(b, off, v):
    b[off] = v & 0xff


def _u16(b, off, v):
    struct.pack_into("<H", b, off, v & 0xffff)


def _u32(b, off, v):
    struct.pack_into("<I", b, off, v & 0xffffffff)


def build_vpd(name, ro_fields=(), rw_fields=(), rw_spare=8, rv_reserved=2,
              bad_checksum=False):
    """Return a PCI VPD image (bytes).

    name:      identifier string (large resource tag 0x82)
    ro_fields: [(keyword, value)] for VPD-R (0x90), e.g. ("PN", "X520-DA2");
               the RV (checksum) keyword is appended automatically
    rw_fields: [(keyword, value)] for VPD-W (0x91), e.g. ("YA", "asset");
               an RW keyword with rw_spare zero bytes is appended
    The checksum byte of RV makes the sum of all bytes from offset 0 up to
    and including itself zero (PCI Local Bus spec, I.3.1.1).
    """
    def fields(items):
        out = bytearray()
        for kw, val in items:
            vb = val if isinstance(val, (bytes, bytearray)) else str(val).encode()
            kb = kw.encode()
            assert len(kb) == 2 and len(vb) < 256, (kw, val)
            out += kb + bytes([len(vb)]) + vb
        return out

    out = bytearray()
    nb = name.encode()
    out += b"\x82" + struct.pack("<H", len(nb)) + nb
    ro = fields(ro_fields)
    rv_len = 1 + rv_reserved
    out += b"\x90" + struct.pack("<H", len(ro) + 3 + rv_len) + ro + b"RV" + bytes([rv_len])
    csum_at = len(out)
    out += bytes(rv_len)
    out[csum_at] = (-sum(out[:csum_at])) & 0xff
    if bad_checksum:
        out[csum_at] = (out[csum_at] + 1) & 0xff
    if rw_fields or rw_spare:
        rw = fields(rw_fields)
        if rw_spare:
            rw += b"RW" + bytes([rw_spare]) + bytes(rw_spare)
        out += b"\x91" + struct.pack("<H", len(rw)) + rw
    out += b"\x78"
    return bytes(out)


def build_pci_config(vendor, device, cls, revision=0, header_type=0,
                     multifunction=False, subsys=(0, 0), size=256,
                     pcie_type=None, link_cap=(3, 4), link_sta=(3, 4),
                     port=0, flr=True, pm=True, msi=True, msix=False,
                     vpd=False, sriov=None, acs=False, aer=True,
                     primary=0, secondary=0, subordinate=0, irq_pin=1,
                     irq_line=11, slot_implemented=False, ari=False):
    """Return a bytearray holding a type 0/1/2 PCI config header with a
    capability list (PM 0x01, MSI 0x05, MSI-X 0x11, PCIe 0x10, VPD 0x03)
    and, for size 4096, extended capabilities (AER, ACS, ARI, SR-IOV).

    sriov: None or dict(total, initial, num, offset, stride, vf_device)
    link_cap/link_sta: (gen, width); gen 1..5 = 2.5..32 GT/s
    """
    b = bytearray(size)
    _u16(b, 0x00, vendor)
    _u16(b, 0x02, device)
    _u16(b, 0x04, 0x0406 if header_type == 0 else 0x0407)  # mem, master, (io)
    _u16(b, 0x06, 0x0010)                                    # capabilities list
    _u8(b, 0x08, revision)
    _u8(b, 0x09, cls & 0xff)
    _u8(b, 0x0a, (cls >> 8) & 0xff)
    _u8(b, 0x0b, (cls >> 16) & 0xff)
    _u8(b, 0x0c, 0x10)
    _u8(b, 0x0e, header_type | (0x80 if multifunction else 0))
    if header_type == 0:
        _u32(b, 0x10, 0xf7000000 | ((device & 0xff) << 12) | 0x4)  # 64-bit mem BAR
        _u32(b, 0x14, 0)
        _u16(b, 0x2c, subsys[0])
        _u16(b, 0x2e, subsys[1])
        cap_ptr_off = 0x34
    elif header_type == 1:
        _u8(b, 0x18, primary)
        _u8(b, 0x19, secondary)
        _u8(b, 0x1a, subordinate)
        _u8(b, 0x1c, 0xf0)                 # I/O base > limit: window closed
        _u8(b, 0x1d, 0x00)
        _u16(b, 0x20, 0xf000 | 0)          # mem window
        _u16(b, 0x22, 0xf010)
        _u16(b, 0x24, 0xfff1)              # prefetchable (64-bit) closed
        _u16(b, 0x26, 0x0001)
        _u16(b, 0x3e, 0x0010)              # bridge control: ISA off, SERR
        cap_ptr_off = 0x34
    else:  # 2: CardBus
        _u8(b, 0x18, primary)
        _u8(b, 0x19, secondary)
        _u8(b, 0x1a, subordinate)
        _u8(b, 0x1b, 0xb0)                 # cardbus latency timer
        _u16(b, 0x40, subsys[0])
        _u16(b, 0x42, subsys[1])
        _u16(b, 0x3e, 0x0580)
        cap_ptr_off = 0x14
    _u8(b, 0x3c, irq_line if irq_pin else 0xff)
    _u8(b, 0x3d, irq_pin)

    caps = []  # (id, length, filler)
    if pm:
        def f_pm(off):
            _u16(b, off + 2, 0x0003 | (0x1 << 9) | (0x1f << 11) if header_type != 2 else 0xfe12)
            _u16(b, off + 4, 0x0008)            # D0, No_Soft_Reset
        caps.append((0x01, 8, f_pm))
    if msi:
        def f_msi(off):
            _u16(b, off + 2, 0x0080 | (0x3 << 1))  # 64-bit, 8 vectors requested
        caps.append((0x05, 0x18, f_msi))
    if pcie_type is not None:
        def f_pcie(off):
            flags = 0x2 | (pcie_type << 4)
            if slot_implemented:
                flags |= 0x100
            _u16(b, off + 2, flags)
            devcap = 0x2 | (0x7 << 6) | (0x7 << 9) | 0x8000  # 512B MPS, L0s/L1 lat, RBER
            if flr and pcie_type in (PCIE_TYPE_ENDPOINT, PCIE_TYPE_LEGACY_ENDPOINT,
                                     PCIE_TYPE_RCIEP):
                devcap |= 1 << 28
            _u32(b, off + 4, devcap)
            _u16(b, off + 8, 0x2810 | (0x1 << 5))  # DevCtl: MRRS 512, MPS 256, RO
            has_link = pcie_type not in (PCIE_TYPE_RCIEP, PCIE_TYPE_RC_EC)
            if has_link:
                cgen, cwid = link_cap
                sgen, swid = link_sta
                lnkcap = (cgen & 0xf) | ((cwid & 0x3f) << 4) | (0x3 << 10) | (0x2 << 12) \
                    | (0x6 << 15) | ((port & 0xff) << 24)
                if pcie_type in (PCIE_TYPE_ROOT_PORT, PCIE_TYPE_DOWNSTREAM):
                    lnkcap |= (1 << 20) | (1 << 21)   # DLLLA reporting, bw notification
                _u32(b, off + 0x0c, lnkcap)
                _u16(b, off + 0x10, 0x0040)           # LnkCtl: common clock
                lnksta = (sgen & 0xf) | ((swid & 0x3f) << 4) | 0x1000
                if pcie_type in (PCIE_TYPE_ROOT_PORT, PCIE_TYPE_DOWNSTREAM) and swid:
                    lnksta |= 0x2000                  # DL link active
                _u16(b, off + 0x12, lnksta)
                _u32(b, off + 0x2c, ((1 << (cgen + 1)) - 2) & 0xfe)  # LnkCap2 speeds
                _u16(b, off + 0x30, cgen & 0xf)                    # LnkCtl2 target
            if slot_implemented:
                _u32(b, off + 0x14, (port & 0x1fff) << 19 | 0x60)   # SltCap: slot nr
                _u16(b, off + 0x1a, 0x0040)                        # presence detect
            if pcie_type == PCIE_TYPE_ROOT_PORT:
                _u16(b, off + 0x1e, 0x0001)                        # RootCap CRS vis
            _u32(b, off + 0x24, 0x00070c1f | (0x20 if ari else 0))  # DevCap2
        caps.append((0x10, 0x3c, f_pcie))
    if msix:
        def f_msix(off):
            _u16(b, off + 2, 0x0009)      # 10 entries
            _u32(b, off + 4, 0x3)         # table in BAR3
            _u32(b, off + 8, 0x2003)      # PBA in BAR3 @0x2000
        caps.append((0x11, 0x0c, f_msix))
    if vpd:
        caps.append((0x03, 0x08, None))

    off = 0x40 if header_type != 2 else 0x80
    prev = cap_ptr_off
    for cid, length, fill in caps:
        off = (off + 3) & ~3
        if off + length > 0x100:
            break
        b[prev] = off
        b[off] = cid
        b[off + 1] = 0
        if fill:
            fill(off)
        prev = off + 1
        off += length
    if not caps:
        _u16(b, 0x06, 0)
        b[cap_ptr_off] = 0

    if size >= 4096 and pcie_type is not None:
        ext = []
        if aer:
            ext.append((0x0001, 2, 0x48, None))
        if acs:
            def f_acs(o):
                _u16(b, o + 4, 0x005f)     # SV RR CR UF TB DT... capable
                _u16(b, o + 6, 0x001d)
            ext.append((0x000d, 1, 0x08, f_acs))
        if ari:
            ext.append((0x000e, 1, 0x08, None))
        if sriov:
            def f_sriov(o, s=sriov):
                _u32(b, o + 4, 0x0000_0002)         # ARI capable hierarchy preserved
                ctrl = 0
                if s.get("num"):
                    ctrl |= 0x1 | 0x8               # VF enable, VF MSE
                if ari:
                    ctrl |= 0x10
                _u16(b, o + 0x08, ctrl)
                _u16(b, o + 0x0c, s.get("initial", s["total"]))
                _u16(b, o + 0x0e, s["total"])
                _u16(b, o + 0x10, s.get("num", 0))
                _u16(b, o + 0x14, s.get("offset", 0x80))
                _u16(b, o + 0x16, s.get("stride", 2))
                _u16(b, o + 0x1a, s.get("vf_device", device))
                _u32(b, o + 0x1c, 0x553)            # supported page sizes
                _u32(b, o + 0x20, 0x1)              # 4K
                _u32(b, o + 0x24, 0xf0000004)       # VF BAR0 64-bit
            ext.append((0x0010, 1, 0x40, f_sriov))
        o = 0x100
        for i, (cid, ver, length, fill) in enumerate(ext):
            nxt = (o + length + 3) & ~3 if i + 1 < len(ext) else 0
            _u32(b, o, cid | (ver << 16) | (nxt << 20))
            if fill:
                fill(o)
            o = nxt
    return b


class _Pci(object):
    __slots__ = ("addr", "path", "vendor", "device", "cls", "revision",
                 "header_type", "pcie_type", "cfg_size", "subsys", "link_cap",
                 "link_sta", "port", "flr", "pm", "msi", "msix", "vpd", "sriov",
                 "acs", "vfs", "parent", "secondary", "subordinate", "is_vf",
                 "multifunction", "ari", "slot_implemented")


class Sysroot(object):
    """A fake host image rooted at `path` (created if missing)."""

    def __init__(self, path, usec_start=4200000, write_manifest=True,
                 udev_version=1, driver_files=True, iommu_unit="dmar0"):
        """iommu_unit: name of the IOMMU device under devices/virtual/iommu
        that PCI group members link to with `iommu` (None: no such links)."""
        self.path = os.path.abspath(path)
        self.sys = os.path.join(self.path, "sys")
        self.udev = os.path.join(self.path, "run", "udev")
        self.devdir = os.path.join(self.path, "dev")
        self._usec = usec_start
        self._mkdirs = set()
        self._known_subsys = set()
        self._known_drivers = set()
        self.devices = []          # manifest entries (dicts), in creation order
        self._bypath = {}          # abs path -> manifest entry
        self.pcis = {}             # addr -> _Pci
        self.usbs = {}             # sysname -> abs path
        self.scsi_hosts = {}       # host number -> abs path
        self.groups = {}           # iommu group -> [abs device paths]
        self.write_manifest = write_manifest
        self.iommu_unit = iommu_unit
        self.driver_files = driver_files
        self._finished = False
        self._damage = []
        for d in ("sys/devices", "sys/bus", "sys/class", "sys/block",
                  "sys/dev/char", "sys/dev/block", "sys/kernel/iommu_groups",
                  "sys/firmware", "sys/module", "run/udev/data", "run/udev/tags",
                  "dev"):
            self._mkdir(os.path.join(self.path, d))

    # ------------------------------------------------------------ context
    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.finish()
        return False

    # ------------------------------------------------------------ low level
    def _mkdir(self, p):
        if p not in self._mkdirs:
            os.makedirs(p, exist_ok=True)
            self._mkdirs.add(p)

    def _write(self, p, data, mode=None):
        """Write one attribute. str gets a trailing newline (as the kernel
        prints); bytes are written verbatim."""
        if isinstance(data, str):
            data = (data + "\n").encode()
        elif not isinstance(data, (bytes, bytearray)):
            data = (str(data) + "\n").encode()
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            if data:
                os.write(fd, data)
            if mode is not None:
                os.fchmod(fd, mode)
        finally:
            os.close(fd)

    def write_attr(self, devpath, name, value, mode=None):
        """Write attribute `name` (may contain '/') of device dir devpath."""
        p = os.path.join(devpath, name)
        if "/" in name:
            self._mkdir(os.path.dirname(p))
        self._write(p, value, mode)

    def attrs(self, devpath, attrs):
        """Write a dict of attributes; None values are skipped."""
        for k, v in attrs.items():
            if v is not None:
                self.write_attr(devpath, k, v)

    def symlink(self, linkpath, target):
        """Create linkpath -> target (both absolute host paths inside the
        sysroot); the stored link is relative, as in sysfs."""
        rel = os.path.relpath(target, os.path.dirname(linkpath))
        try:
            os.symlink(rel, linkpath)
        except FileExistsError:
            os.unlink(linkpath)
            os.symlink(rel, linkpath)

    def s(self, rel):
        """Absolute path of sysfs-relative path `rel` ('devices/...')."""
        return os.path.join(self.sys, rel)

    def _ensure_subsys(self, subsystem, bus):
        key = (subsystem, bus)
        if key in self._known_subsys:
            return
        self._known_subsys.add(key)
        if bus:
            base = self.s("bus/" + subsystem)
            self._mkdir(base + "/devices")
            self._mkdir(base + "/drivers")
            self._write(base + "/drivers_autoprobe", "1")
            self._write(base + "/drivers_probe", b"", 0o200)
            self._write(base + "/uevent", b"", 0o200)
            if subsystem == "pci":
                self._write(base + "/rescan", b"", 0o200)
                self._write(base + "/resource_alignment", "")
                self._mkdir(base + "/slots")
        else:
            self._mkdir(self.s("class/" + subsystem))

    def ensure_driver(self, bus, driver, module=None):
        """sys/bus/<bus>/drivers/<driver> with bind/unbind/new_id files and,
        unless the driver is built in (BUILTIN_DRIVERS) or module is False,
        a `module` link to sys/module/<module>."""
        key = (bus, driver)
        d = self.s("bus/%s/drivers/%s" % (bus, driver))
        if key in self._known_drivers:
            return d
        self._ensure_subsys(bus, True)
        self._known_drivers.add(key)
        self._mkdir(d)
        if self.driver_files:
            for f in ("bind", "unbind", "uevent"):
                self._write(d + "/" + f, b"", 0o200)
            if bus == "pci":
                self._write(d + "/new_id", b"", 0o200)
                self._write(d + "/remove_id", b"", 0o200)
            if module is None and driver not in BUILTIN_DRIVERS:
                module = DRIVER_MODULES.get(driver, driver.replace("-", "_"))
            if module:
                mdir = self.s("module/" + module)
                self._mkdir(mdir + "/drivers")
                self.symlink(d + "/module", mdir)
                self.symlink(mdir + "/drivers/%s:%s" % (bus, driver), d)
        return d

    def _next_usec(self):
        self._usec += 1373
        return self._usec

    def udev_db(self, dbid, props=None, links=(), tags=(), usec=None,
                current_tags=None, priority=0):
        """Write run/udev/data/<dbid> as systemd-udevd 252 does
        (device_update_db): S: devlinks (relative to /dev), L: priority,
        I: usec initialized, E: properties, G: tags, Q: current tags, V:1.
        Also touches run/udev/tags/<tag>/<dbid>."""
        if usec is None:
            usec = self._next_usec()
        lines = []
        for l in links:
            lines.append("S:" + (l[5:] if l.startswith("/dev/") else l))
        if priority:
            lines.append("L:%d" % priority)
        if usec:
            lines.append("I:%d" % usec)
        for k, v in (props or {}).items():
            lines.append("E:%s=%s" % (k, v))
        for t in tags:
            lines.append("G:" + t)
        for t in (tags if current_tags is None else current_tags):
            lines.append("Q:" + t)
        lines.append("V:1")
        self._write(os.path.join(self.udev, "data", dbid), "\n".join(lines))
        for t in tags:
            td = os.path.join(self.udev, "tags", t)
            self._mkdir(td)
            self._write(os.path.join(td, dbid), b"")

    def device(self, path, subsystem, uevent=(), bus=True, driver=None,
               driver_bus=None, devnode=None, major=None, minor=None,
               block=False, devtype=None, db=None, links=(), tags=(),
               register=True, attrs=None, nodedev=None, kind=None, name=None):
        """Create a generic device directory.

        path:      absolute path of the device directory (under sys/devices)
        subsystem: bus or class name ('subsystem' link target)
        bus:       True -> sys/bus/<subsystem>, False -> sys/class/<subsystem>
        uevent:    list of (key, value) after MAJOR/MINOR/DEVNAME/DEVTYPE/DRIVER
        devnode:   DEVNAME (relative to /dev) with major/minor
        db:        dict of udev properties -> run/udev/data/<id> is written
                   (devices with a devnode or ifindex always get a db entry:
                   libudev's enumerator skips them otherwise)
        nodedev:   libvirt-style name recorded in expected.json (or None)
        """
        name = name or os.path.basename(path)
        self._mkdir(path)
        self._ensure_subsys(subsystem, bus)
        ue = []
        if devnode is not None:
            ue += [("MAJOR", major), ("MINOR", minor), ("DEVNAME", devnode)]
        if devtype:
            ue.append(("DEVTYPE", devtype))
        if driver:
            ue.append(("DRIVER", driver))
        ue += list(uevent)
        self._write(path + "/uevent",
                    "".join("%s=%s\n" % kv for kv in ue).encode())
        if bus:
            sub_target = self.s("bus/" + subsystem)
        else:
            sub_target = self.s("class/" + subsystem)
        self.symlink(path + "/subsystem", sub_target)
        if register:
            if bus:
                self.symlink(self.s("bus/%s/devices/%s" % (subsystem, name)), path)
            else:
                self.symlink(self.s("class/%s/%s" % (subsystem, name)), path)
        if driver:
            dbus = driver_bus or subsystem
            ddir = self.ensure_driver(dbus, driver)
            self.symlink(path + "/driver", ddir)
            self.symlink(ddir + "/" + name, path)
        if devnode is not None:
            kindc = "block" if block else "char"
            self._write(path + "/dev", "%d:%d" % (major, minor))
            self.symlink(self.s("dev/%s/%d:%d" % (kindc, major, minor)), path)
            dn = os.path.join(self.devdir, devnode)
            self._mkdir(os.path.dirname(dn))
            self._write(dn, b"")
        if attrs:
            self.attrs(path, attrs)
        ifindex = dict(ue).get("IFINDEX")
        if devnode is not None:
            dbid = "%s%d:%d" % ("b" if block else "c", major, minor)
        elif ifindex is not None:
            dbid = "n%s" % ifindex
        else:
            dbid = "+%s:%s" % (subsystem, name)
        if db is not None or devnode is not None or ifindex is not None:
            self.udev_db(dbid, db or {}, links, tags)
        entry = {
            "syspath": "/sys/" + os.path.relpath(path, self.sys),
            "sysname": name,
            "subsystem": subsystem,
            "devtype": devtype,
            "driver": driver,
            "devnode": ("/dev/" + devnode) if devnode is not None else None,
            "udev_db": dbid if (db is not None or devnode is not None or ifindex is not None) else None,
            "uevent": dict((k, str(v)) for k, v in ue),
            "props": dict((k, str(v)) for k, v in (db or {}).items()),
            "devlinks": ["/dev/" + l if not l.startswith("/dev/") else l for l in links],
            "tags": list(tags),
            "kind": kind,
            "nodedev": nodedev,
        }
        self.devices.append(entry)
        self._bypath[path] = entry
        return path

    def plain_dir(self, path, uevent=True):
        """A device-ish directory without subsystem (e.g. ata1, pci0000:00)."""
        self._mkdir(path)
        if uevent:
            self._write(path + "/uevent", b"")
        return path

    # ------------------------------------------------------------ DMI
    def dmi(self, sys_vendor="LENOVO", product_name="30BFS07500",
            product_version="ThinkStation P330", product_serial="S4AB1234",
            product_uuid="4c4c4544-0053-3410-8056-b4c04f4e3032",
            product_family="ThinkStation P330", product_sku="LENOVO_MT_30BF",
            bios_vendor="LENOVO", bios_version="M21KT49A", bios_date="11/10/2021",
            bios_release="1.49", board_vendor="LENOVO", board_name="3136",
            board_version="SDK0J40697 WIN 3305271621543",
            board_serial="L1HF9AB01XY", board_asset_tag="", chassis_vendor="LENOVO",
            chassis_type="3", chassis_version="None", chassis_serial="S4AB1234",
            chassis_asset_tag="No Asset Tag", **extra):
        """sys/devices/virtual/dmi/id + sys/class/dmi/id link. Serial/UUID
        files are mode 0400 like the kernel's."""
        p = self.s("devices/virtual/dmi/id")
        self._mkdir(self.s("devices/virtual/dmi"))
        modalias = ("dmi:bvn%s:bvr%s:bd%s:br%s:svn%s:pn%s:pvr%s:rvn%s:rn%s:rvr%s:"
                    "cvn%s:ct%s:cvr%s:sku%s:" % (
                        bios_vendor, bios_version, bios_date, bios_release,
                        sys_vendor, product_name, product_version, board_vendor,
                        board_name, board_version, chassis_vendor, chassis_type,
                        chassis_version, product_sku)).replace(" ", "")
        self.device(p, "dmi", bus=False, uevent=[("MODALIAS", modalias)],
                    kind="dmi", nodedev=None)
        vals = dict(sys_vendor=sys_vendor, product_name=product_name,
                    product_version=product_version, product_family=product_family,
                    product_sku=product_sku, bios_vendor=bios_vendor,
                    bios_version=bios_version, bios_date=bios_date,
                    bios_release=bios_release, board_vendor=board_vendor,
                    board_name=board_name, board_version=board_version,
                    board_asset_tag=board_asset_tag, chassis_vendor=chassis_vendor,
                    chassis_type=chassis_type, chassis_version=chassis_version,
                    chassis_asset_tag=chassis_asset_tag, modalias=modalias)
        vals.update(extra)
        self.attrs(p, vals)
        for k, v in (("product_serial", product_serial), ("product_uuid", product_uuid),
                     ("board_serial", board_serial), ("chassis_serial", chassis_serial)):
            if v is not None:
                self._write(p + "/" + k, v, 0o400)
        self._mkdir(p + "/power")
        self._write(p + "/power/control", "auto")
        # the synthetic libvirt 'computer' device
        self.devices.insert(0, {"syspath": None, "sysname": "computer",
                                "subsystem": None, "kind": "system",
                                "nodedev": "computer", "dmi": {
                                    "sys_vendor": sys_vendor, "product_name": product_name,
                                    "product_version": product_version,
                                    "product_serial": product_serial,
                                    "product_uuid": product_uuid,
                                    "bios_vendor": bios_vendor, "bios_version": bios_version,
                                    "bios_date": bios_date}})
        return p

    # ------------------------------------------------------------ PCI
    def _pci_root(self, domain, bus):
        name = "pci%04x:%02x" % (domain, bus)
        p = self.s("devices/" + name)
        if p not in self._mkdirs:
            self.plain_dir(p)
            self._mkdir(p + "/power")
            self._write(p + "/power/control", "auto")
            pb = p + "/pci_bus/%04x:%02x" % (domain, bus)
            self.device(pb, "pci_bus", bus=False, kind="pci_bus")
            self.attrs(pb, {"cpuaffinity": "ffff", "cpulistaffinity": "0-15",
                            "rescan": None})
            self._write(pb + "/rescan", b"", 0o200)
        return p

    def pci_path(self, addr):
        return self.pcis[addr].path

    def pci(self, addr, vendor, device, cls, driver=None, parent=None,
            iommu_group=None, pcie=True, pcie_type=None, header_type=None,
            multifunction=None, numa=-1, revision=None, subsys=None,
            link_cap=(3, 4), link_sta=None, port=0, flr=True, pm=True,
            msi=True, msix=None, vpd=None, sriov_total=None,
            sriov_vf_device=None, sriov_offset=0x80, sriov_stride=2,
            acs=None, cfg_size=None, secondary=None, subordinate=None,
            names=None, db=None, attrs=None, reset_method=None,
            driver_override="(null)", irq=None, slot_implemented=None,
            ari=False, module=None, _vf=False):
        """Create a PCI function at `addr` ("DDDD:BB:SS.F").

        parent:      address of the upstream bridge / root port, or None for
                     a device on the root bus (sys/devices/pciDDDD:BB/)
        cls:         24-bit class code (0x020000)
        header_type: default from class: 0x0604xx -> 1, 0x0607xx -> 2, else 0
        pcie:        give it a PCI Express capability (config 4096 bytes);
                     pcie_type defaults to root port (4) for bridges on a root
                     bus, downstream port (6) for bridges below an upstream
                     port, upstream port (5) for bridges below a root port,
                     otherwise endpoint (0). Use PCIE_TYPE_RCIEP for
                     integrated endpoints (no link).
        link_cap/link_sta: (gen, width); link_sta defaults to link_cap
        port:        port number in LNKCAP
        vpd:         bytes (see build_vpd) -> `vpd` attribute + VPD capability
        sriov_total: makes it an SR-IOV PF (sriov_* attrs, SR-IOV ext cap);
                     add VFs with vf()
        names:       (vendor name, model name) for udev ID_*_FROM_DATABASE
        db:          extra udev properties
        attrs:       extra/override sysfs attributes
        Returns addr.
        """
        dom = int(addr[0:4], 16)
        busn = int(addr[5:7], 16)
        slot = int(addr[8:10], 16)
        fn = int(addr[11], 16)
        if parent is None:
            base = self._pci_root(dom, busn)
        else:
            base = self.pcis[parent].path
        path = base + "/" + addr
        subclass = cls >> 8
        if header_type is None:
            header_type = 1 if subclass == 0x0604 or subclass == 0x0609 else (
                2 if subclass == 0x0607 else 0)
        if pcie and pcie_type is None:
            if header_type == 1:
                ptype = self.pcis[parent].pcie_type if parent else None
                if parent is None:
                    pcie_type = PCIE_TYPE_ROOT_PORT
                elif ptype in (PCIE_TYPE_ROOT_PORT, PCIE_TYPE_DOWNSTREAM):
                    pcie_type = PCIE_TYPE_UPSTREAM
                elif ptype == PCIE_TYPE_UPSTREAM:
                    pcie_type = PCIE_TYPE_DOWNSTREAM
                else:
                    pcie_type = PCIE_TYPE_PCIE_TO_PCI
            else:
                pcie_type = PCIE_TYPE_ENDPOINT
        if not pcie:
            pcie_type = None
        if subsys is None:
            subsys = (0, 0) if header_type == 1 else (vendor, device)
        if revision is None:
            revision = 0x01
        if link_sta is None:
            link_sta = link_cap
        if acs is None:
            acs = pcie_type in (PCIE_TYPE_ROOT_PORT, PCIE_TYPE_DOWNSTREAM)
        if slot_implemented is None:
            slot_implemented = pcie_type in (PCIE_TYPE_ROOT_PORT, PCIE_TYPE_DOWNSTREAM)
        if msix is None:
            msix = header_type == 0 and pcie_type is not None
        info = _Pci()
        info.addr, info.path, info.vendor, info.device, info.cls = addr, path, vendor, device, cls
        info.revision, info.header_type, info.pcie_type = revision, header_type, pcie_type
        info.cfg_size = cfg_size or (4096 if pcie_type is not None else 256)
        info.subsys, info.link_cap, info.link_sta, info.port = subsys, link_cap, link_sta, port
        info.flr, info.pm, info.msi, info.msix, info.vpd = flr, pm, msi, msix, vpd
        info.sriov = None
        if sriov_total is not None:
            info.sriov = {"total": sriov_total, "offset": sriov_offset,
                          "stride": sriov_stride,
                          "vf_device": sriov_vf_device or device}
        info.acs, info.vfs, info.parent, info.is_vf = acs, [], parent, _vf
        info.secondary, info.subordinate = secondary, subordinate
        info.multifunction = multifunction
        info.ari, info.slot_implemented = ari, slot_implemented
        self.pcis[addr] = info

        vname, mname = names or (None, None)
        props = {}
        ccode = cls >> 16
        if ccode in PCI_CLASS_NAMES:
            props["ID_PCI_CLASS_FROM_DATABASE"] = PCI_CLASS_NAMES[ccode]
        if subclass in PCI_SUBCLASS_NAMES:
            props["ID_PCI_SUBCLASS_FROM_DATABASE"] = PCI_SUBCLASS_NAMES[subclass]
        if cls in PCI_PROGIF_NAMES:
            props["ID_PCI_INTERFACE_FROM_DATABASE"] = PCI_PROGIF_NAMES[cls]
        if vname:
            props["ID_VENDOR_FROM_DATABASE"] = vname
        if mname:
            props["ID_MODEL_FROM_DATABASE"] = mname
        if db:
            props.update(db)
        modalias = "pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X" % (
            vendor, device, subsys[0], subsys[1], cls >> 16, (cls >> 8) & 0xff, cls & 0xff)
        if driver:
            self.ensure_driver("pci", driver, module)
        self.device(path, "pci", uevent=[
            ("PCI_CLASS", "%X" % cls), ("PCI_ID", "%04X:%04X" % (vendor, device)),
            ("PCI_SUBSYS_ID", "%04X:%04X" % subsys), ("PCI_SLOT_NAME", addr),
            ("MODALIAS", modalias)], driver=driver, db=props or None, kind="pci",
            nodedev=sanitize_name("pci_" + addr))
        self._bypath[path]["pci"] = {
            "class": "0x%06x" % cls, "vendor": "0x%04x" % vendor,
            "device": "0x%04x" % device, "header_type": header_type,
            "pcie_type": pcie_type, "numa_node": numa,
            "link_cap": list(link_cap) if pcie_type is not None else None,
            "link_sta": list(link_sta) if pcie_type is not None else None,
            "port": port, "iommu_group": iommu_group}
        if irq is None:
            if _vf:
                irq = 0
            else:
                irq = 16 + (slot + fn) % 8 if header_type != 1 else 120 + slot
        local = "0-15" if numa in (-1, 0) else "%d-%d" % (16 * numa, 16 * numa + 15)
        a = {
            "vendor": "0x%04x" % vendor, "device": "0x%04x" % device,
            "subsystem_vendor": "0x%04x" % subsys[0],
            "subsystem_device": "0x%04x" % subsys[1],
            "class": "0x%06x" % cls, "revision": "0x%02x" % revision,
            "numa_node": str(numa), "irq": str(irq), "enable": "1" if driver else "0",
            "local_cpus": "ffff", "local_cpulist": local,
            "broken_parity_status": "0", "msi_bus": "1",
            "d3cold_allowed": "1", "power_state": "D0",
            "consistent_dma_mask_bits": "64", "dma_mask_bits": "64",
            "driver_override": driver_override, "modalias": modalias,
            "ari_enabled": "0",
        }
        res = ["0x00000000f7000000 0x00000000f701ffff 0x0000000000140204"
               if header_type == 0 else "0x0000000000000000 0x0000000000000000 0x0000000000000000"]
        res += ["0x0000000000000000 0x0000000000000000 0x0000000000000000"] * 12
        a["resource"] = "\n".join(res)
        if header_type == 0:
            a["resource0"] = None
        if reset_method is None:
            methods = []
            if flr and pcie_type in (PCIE_TYPE_ENDPOINT, PCIE_TYPE_LEGACY_ENDPOINT,
                                     PCIE_TYPE_RCIEP):
                methods.append("flr")
            elif pm and header_type == 0 and not _vf:
                methods.append("pm")
            if parent is not None and header_type == 0 and not _vf:
                methods.append("bus")
            reset_method = " ".join(methods) if methods else None
        if reset_method:
            a["reset_method"] = reset_method
        if pcie_type is not None and pcie_type not in (PCIE_TYPE_RCIEP, PCIE_TYPE_RC_EC):
            a["max_link_speed"] = PCIE_SPEED_STR.get(link_cap[0], "Unknown")
            a["max_link_width"] = str(link_cap[1])
            a["current_link_speed"] = PCIE_SPEED_STR.get(link_sta[0], "Unknown")
            a["current_link_width"] = str(link_sta[1])
        if subclass == 0x0300:
            a["boot_vga"] = "0"
        if pcie_type in (PCIE_TYPE_ENDPOINT, PCIE_TYPE_LEGACY_ENDPOINT, PCIE_TYPE_UPSTREAM) \
                and parent is not None and not _vf and self.pcis[parent].slot_implemented:
            slotdir = self.s("bus/pci/slots/%d" % self.pcis[parent].port)
            if not os.path.isdir(slotdir):
                self._ensure_subsys("pci", True)
                self._mkdir(slotdir)
                self._write(slotdir + "/address", addr[:10])
                self._write(slotdir + "/max_bus_speed", PCIE_SPEED_STR.get(
                    self.pcis[parent].link_cap[0], "Unknown"))
                self._write(slotdir + "/cur_bus_speed", PCIE_SPEED_STR.get(
                    self.pcis[parent].link_sta[0], "Unknown"))
        if attrs:
            a.update(attrs)
        self.attrs(path, a)
        for w in ("remove", "rescan", "reset") if header_type == 0 else ("remove", "rescan"):
            self._write(path + "/" + w, b"", 0o200)
        self._mkdir(path + "/power")
        self._write(path + "/power/control", "on")
        self._write(path + "/power/runtime_status", "active")
        if vpd is not None:
            self._write(path + "/vpd", vpd, 0o600)
        if info.sriov:
            self.attrs(path, {"sriov_totalvfs": str(sriov_total),
                              "sriov_drivers_autoprobe": "1",
                              "sriov_offset": str(sriov_offset),
                              "sriov_stride": str(sriov_stride),
                              "sriov_vf_device": "%04x" % (sriov_vf_device or device)})
        if iommu_group is not None:
            self.iommu_group(iommu_group, [addr])
        return addr

    def vf(self, pf, index, addr=None, driver=None, iommu_group=None,
           device=None, numa=None, **kw):
        """Create VF number `index` of PF `pf`. The address defaults to the
        one the SR-IOV offset/stride give. VFs are siblings of the PF (same
        parent bridge), get `physfn`, and the PF gets `virtfn<index>`."""
        p = self.pcis[pf]
        s = p.sriov
        if s is None:
            raise ValueError("%s is not an SR-IOV PF" % pf)
        if addr is None:
            dom = int(pf[0:4], 16)
            bus = int(pf[5:7], 16)
            rid = (int(pf[8:10], 16) << 3 | int(pf[11], 16)) + s["offset"] + index * s["stride"]
            bus += rid >> 8
            addr = "%04x:%02x:%02x.%x" % (dom, bus, (rid >> 3) & 0x1f, rid & 7)
        pnode = self._bypath[p.path]["pci"]["numa_node"]
        kw.setdefault("link_cap", p.link_cap)
        kw.setdefault("link_sta", (0, 0))
        kw.setdefault("pm", False)
        kw.setdefault("subsys", p.subsys)
        kw.setdefault("revision", p.revision)
        self.pci(addr, p.vendor, device or s["vf_device"], p.cls, driver=driver,
                 parent=p.parent, iommu_group=iommu_group,
                 numa=pnode if numa is None else numa, _vf=True,
                 pcie=p.pcie_type is not None, pcie_type=PCIE_TYPE_ENDPOINT, **kw)
        vpath = self.pcis[addr].path
        self.symlink(vpath + "/physfn", p.path)
        self.symlink(p.path + "/virtfn%d" % index, vpath)
        p.vfs.append((index, addr))
        self._bypath[vpath]["pci"]["physfn"] = pf
        return addr

    def iommu_group(self, n, members, type_="DMA"):
        """Put PCI addresses (or absolute device paths) in IOMMU group n:
        `iommu_group` link on each device and
        sys/kernel/iommu_groups/<n>/devices/<name> back links."""
        g = self.s("kernel/iommu_groups/%d" % n)
        unit = None
        if self.iommu_unit:
            unit = self.s("devices/virtual/iommu/" + self.iommu_unit)
            if unit not in self._bypath:
                self._mkdir(os.path.dirname(unit))
                self.device(unit, "iommu", bus=False, kind="iommu")
                self.attrs(unit, {"intel-iommu/version": "1:0", "intel-iommu/cap": "d2008c40660462",
                                  "intel-iommu/ecap": "f050da", "intel-iommu/address": "fed91000"})
                self._mkdir(unit + "/devices")
        if n not in self.groups:
            self._mkdir(g + "/devices")
            self._write(g + "/type", type_)
            self._write(g + "/reserved_regions",
                        "0x00000000fee00000 0x00000000feefffff msi")
            self.groups[n] = []
        for m in members:
            path = self.pcis[m].path if m in self.pcis else m
            self.symlink(path + "/iommu_group", g)
            self.symlink(g + "/devices/" + os.path.basename(path), path)
            self.groups[n].append(path)
            if unit and m in self.pcis:
                self.symlink(path + "/iommu", unit)
                self.symlink(unit + "/devices/" + m, path)
            e = self._bypath.get(path)
            if e is not None and "pci" in e:
                e["pci"]["iommu_group"] = n
            elif e is not None:
                e["iommu_group"] = n
        return g

    # ------------------------------------------------------------ mdev
    def mdev_types(self, parent, types, register_bus=True):
        """Add mdev_supported_types/<id>/{name,device_api,available_instances,
        description,create,devices/} to `parent` (PCI address or absolute
        path) and link it from sys/class/mdev_bus/.
        types: [dict(id=, name=, device_api='vfio-pci', available=, description=)]"""
        path = self.pcis[parent].path if parent in self.pcis else parent
        for t in types:
            d = path + "/mdev_supported_types/" + t["id"]
            self._mkdir(d + "/devices")
            if t.get("name") is not None:
                self._write(d + "/name", t["name"])
            self._write(d + "/device_api", t.get("device_api", "vfio-pci"))
            self._write(d + "/available_instances", str(t.get("available", 1)))
            if t.get("description") is not None:
                self._write(d + "/description", t["description"])
            self._write(d + "/create", b"", 0o200)
        if register_bus:
            self._ensure_subsys("mdev_bus", False)
            self.symlink(self.s("class/mdev_bus/" + os.path.basename(path)), path)
        e = self._bypath.get(path)
        if e is not None:
            e["mdev_types"] = [t["id"] for t in types]
        return path

    def mdev(self, parent, uuid, type_id, iommu_group=None, driver="vfio_mdev"):
        """Create mdev instance <parent>/<uuid> of type `type_id` (which must
        exist in the parent's mdev_supported_types)."""
        ppath = self.pcis[parent].path if parent in self.pcis else parent
        path = ppath + "/" + uuid
        tdir = ppath + "/mdev_supported_types/" + type_id
        self.device(path, "mdev", uevent=[("MDEV_TYPE", type_id)], driver=driver,
                    kind="mdev", nodedev=sanitize_name(
                        "mdev_%s_%s" % (uuid, os.path.basename(ppath))))
        self.symlink(path + "/mdev_type", tdir)
        self.symlink(tdir + "/devices/" + uuid, path)
        self._write(path + "/remove", b"", 0o200)
        self._mkdir(path + "/power")
        # available_instances drops by one
        ai = tdir + "/available_instances"
        try:
            with open(ai) as f:
                n = int(f.read().strip())
            self._write(ai, str(max(n - 1, 0)))
        except (OSError, ValueError):
            pass
        e = self._bypath[path]
        e["mdev"] = {"type": type_id, "uuid": uuid, "parent_addr": os.path.basename(ppath)}
        if iommu_group is not None:
            self.iommu_group(iommu_group, [path])
        return path

    def mtty(self, types=None, instances=()):
        """The mtty sample driver: sys/devices/virtual/mtty/mtty (class mtty)
        as a generic mdev parent with types mtty-1 and mtty-2.
        instances: [(uuid, type_id, iommu_group)]"""
        path = self.s("devices/virtual/mtty/mtty")
        self._mkdir(os.path.dirname(path))
        self.device(path, "mtty", bus=False, kind="mdev_parent",
                    nodedev="mtty_mtty")
        self._mkdir(path + "/power")
        self._write(path + "/power/control", "auto")
        self.mdev_types(path, types or [
            dict(id="mtty-1", name="Single port serial", available=24,
                 device_api="vfio-pci"),
            dict(id="mtty-2", name="Dual port serial", available=12,
                 device_api="vfio-pci")])
        for uuid, t, g in instances:
            self.mdev(path, uuid, t, iommu_group=g)
        return path

    # ------------------------------------------------------------ vdpa
    def vdpa(self, parent=None, name="vdpa0", index=0, driver="vhost_vdpa",
             major=MAJOR_VHOST_VDPA, device_id=1, vendor_id=0x1af4):
        """vDPA device on bus vdpa (sys/devices/<name> without parent, else
        under `parent`) with a vhost-vdpa-<index> char device child."""
        if parent is None:
            ppath = self.s("devices")
        else:
            ppath = self.pcis[parent].path if parent in self.pcis else parent
        path = ppath + "/" + name
        self.device(path, "vdpa", driver=driver, kind="vdpa",
                    uevent=[("MODALIAS", "vdpa:d%08Xv%08X" % (device_id, vendor_id))],
                    nodedev=sanitize_name("vdpa_" + name))
        self.attrs(path, {"driver_override": "(null)"})
        self._mkdir(path + "/power")
        cname = "vhost-vdpa-%d" % index
        self.device(path + "/" + cname, "vhost-vdpa", bus=False, devnode=cname,
                    major=major, minor=index, db={}, kind="vhost-vdpa")
        self._bypath[path]["chardev"] = "/dev/" + cname
        return path

    # ------------------------------------------------------------ net
    def net(self, parent, ifname, mac, ifindex, wireless=False, speed=1000,
            operstate="up", mtu=1500, driver=None, phys_port_id=None,
            phys_port_name=None, phys_switch_id=None, duplex="full",
            db=None, type_=1, addr_assign_type=0, path_name=None, phy=0):
        """Network interface <parent>/net/<ifname> (parent: PCI address,
        absolute path, or None for sys/devices/virtual/net/<ifname>).
        speed None -> attribute absent (wireless / virtual devices return
        EINVAL on read in reality); down links show -1."""
        if parent is None:
            ppath = None
            base = self.s("devices/virtual/net")
        else:
            ppath = self.pcis[parent].path if parent in self.pcis else parent
            base = ppath + "/net"
        path = base + "/" + ifname
        ue = [("INTERFACE", ifname), ("IFINDEX", ifindex)]
        props = {}
        if parent is not None and parent in self.pcis:
            pinfo = self.pcis[parent]
            b_ = int(parent[5:7], 16)
            sl = int(parent[8:10], 16)
            fn = int(parent[11], 16)
            pn = "%sp%ds%d%s" % ("wl" if wireless else "en", b_, sl,
                                 "f%d" % fn if (fn or pinfo.multifunction) else "")
            if phys_port_name:
                pn += "n" + phys_port_name
            props["ID_NET_NAMING_SCHEME"] = "v252"
            props["ID_NET_NAME_MAC"] = ("wlx" if wireless else "enx") + mac.replace(":", "")
            props["ID_NET_NAME_PATH"] = path_name or pn
            props["ID_BUS"] = "pci"
            props["ID_VENDOR_ID"] = "0x%04x" % pinfo.vendor
            props["ID_MODEL_ID"] = "0x%04x" % pinfo.device
            pe = self._bypath[pinfo.path]["props"]
            for k in ("ID_PCI_CLASS_FROM_DATABASE", "ID_PCI_SUBCLASS_FROM_DATABASE",
                      "ID_VENDOR_FROM_DATABASE", "ID_MODEL_FROM_DATABASE"):
                if k in pe:
                    props[k] = pe[k]
            props["ID_PATH"] = "pci-" + parent
            props["ID_PATH_TAG"] = "pci-" + parent.replace(":", "_").replace(".", "_")
            props["ID_NET_DRIVER"] = driver or self._bypath[pinfo.path]["driver"] or ""
            props["ID_NET_LINK_FILE"] = "/usr/lib/systemd/network/99-default.link"
            props["ID_NET_NAME"] = ifname
        props["SYSTEMD_ALIAS"] = "/sys/subsystem/net/devices/" + ifname
        if db:
            props.update(db)
        kindname = "wlan" if wireless else "net"
        self.device(path, "net", bus=False, devtype="wlan" if wireless else None,
                    uevent=ue, db=props, tags=("systemd",), kind=kindname,
                    nodedev=sanitize_name("net_%s_%s" % (ifname, mac)))
        up = operstate == "up"
        a = {
            "addr_assign_type": str(addr_assign_type), "addr_len": "6",
            "address": mac, "broadcast": "ff:ff:ff:ff:ff:ff",
            "carrier": "1" if up else "0", "carrier_changes": "2",
            "dev_id": "0x0", "dev_port": "0", "dormant": "0",
            "flags": "0x1003" if up else "0x1002", "ifalias": "",
            "ifindex": str(ifindex), "iflink": str(ifindex), "link_mode": "0",
            "mtu": str(mtu), "name_assign_type": "4", "netdev_group": "0",
            "operstate": operstate, "proto_down": "0", "tx_queue_len": "1000",
            "type": str(type_), "gro_flush_timeout": "0",
        }
        if speed is not None:
            a["speed"] = str(speed if up else -1)
            a["duplex"] = duplex if up else "unknown"
        if phys_port_id:
            a["phys_port_id"] = phys_port_id
        if phys_port_name:
            a["phys_port_name"] = phys_port_name
        if phys_switch_id:
            a["phys_switch_id"] = phys_switch_id
        if ifname == "lo":
            a.update({"type": "772", "flags": "0x9", "mtu": "65536", "addr_len": "6",
                      "broadcast": "00:00:00:00:00:00", "tx_queue_len": "1000"})
        self.attrs(path, a)
        for q in ("queues/rx-0/rps_cpus", "queues/tx-0/xps_cpus"):
            self.write_attr(path, q, "0000")
        for st in ("rx_bytes", "tx_bytes", "rx_packets", "tx_packets"):
            self.write_attr(path, "statistics/" + st, "0")
        self._mkdir(path + "/power")
        if ppath is not None:
            self.symlink(path + "/device", ppath)
        if wireless:
            self._mkdir(path + "/wireless")
            phyp = (ppath or base) + "/ieee80211/phy%d" % phy
            if phyp not in self._bypath:
                self.device(phyp, "ieee80211", bus=False, kind="ieee80211")
                self.attrs(phyp, {"index": str(phy), "macaddress": mac,
                                  "name": "phy%d" % phy})
                if ppath:
                    self.symlink(phyp + "/device", ppath)
            self.symlink(path + "/phy80211", phyp)
        self._bypath[path]["net"] = {"ifname": ifname, "address": mac,
                                     "speed": speed if up else None,
                                     "state": operstate,
                                     "subtype": "80211" if wireless else "80203"}
        return path

    # ------------------------------------------------------------ USB
    def usb_device(self, parent, busnum, devnum, vendor, product, *, port=None,
                   bcd=0x0100, cls=0, subclass=0, protocol=0, manufacturer=None,
                   product_name=None, serial=None, speed="480", version=" 2.00",
                   driver="usb", maxchild=0, num_interfaces=1, names=None,
                   db=None, max_power="100mA", removable="removable"):
        """USB device. Root hub: parent = PCI address of the controller,
        port None -> sysname usb<busnum>. Otherwise parent = sysname of the
        upstream hub ('usb1', '1-1') and port = port number on it; sysname
        becomes '1-1', '1-1.2', ...  Returns the sysname."""
        if port is None:
            sysname = "usb%d" % busnum
            ppath = self.pcis[parent].path
            devpath = "0"
        else:
            ppath = self.usbs[parent]
            if parent.startswith("usb"):
                sysname = "%d-%d" % (busnum, port)
            else:
                sysname = "%s.%d" % (parent, port)
            devpath = sysname.split("-", 1)[1]
        path = ppath + "/" + sysname
        minor = (busnum - 1) * 128 + (devnum - 1)
        devname = "bus/usb/%03d/%03d" % (busnum, devnum)
        props = {
            "ID_VENDOR": (manufacturer or "%04x" % vendor).replace(" ", "_"),
            "ID_VENDOR_ENC": (manufacturer or "%04x" % vendor).replace(" ", "\\x20"),
            "ID_VENDOR_ID": "%04x" % vendor,
            "ID_MODEL": (product_name or "%04x" % product).replace(" ", "_"),
            "ID_MODEL_ENC": (product_name or "%04x" % product).replace(" ", "\\x20"),
            "ID_MODEL_ID": "%04x" % product,
            "ID_REVISION": "%04x" % bcd,
            "ID_SERIAL": "%s_%s%s" % ((manufacturer or "%04x" % vendor).replace(" ", "_"),
                                      (product_name or "%04x" % product).replace(" ", "_"),
                                      ("_" + serial) if serial else ""),
            "ID_BUS": "usb",
            "ID_USB_INTERFACES": ":",
        }
        if serial:
            props["ID_SERIAL_SHORT"] = serial
        vname, mname = names or (None, None)
        if vname:
            props["ID_VENDOR_FROM_DATABASE"] = vname
        if mname:
            props["ID_MODEL_FROM_DATABASE"] = mname
        pci_addr = None
        p = ppath
        while p and p != self.sys:
            bn = os.path.basename(p)
            if bn in self.pcis:
                pci_addr = bn
                break
            p = os.path.dirname(p)
        if pci_addr:
            props["ID_PATH"] = "pci-%s-usb-0:%s" % (pci_addr, devpath)
            props["ID_PATH_TAG"] = props["ID_PATH"].replace(":", "_").replace(".", "_").replace("-", "-")
        props["DRIVER"] = driver
        if db:
            props.update(db)
        self.device(path, "usb", devtype="usb_device", driver=driver,
                    devnode=devname, major=MAJOR_USB_DEVICE, minor=minor,
                    uevent=[("PRODUCT", "%x/%x/%x" % (vendor, product, bcd)),
                            ("TYPE", "%d/%d/%d" % (cls, subclass, protocol)),
                            ("BUSNUM", "%03d" % busnum), ("DEVNUM", "%03d" % devnum)],
                    db=props, kind="usb_device", name=sysname,
                    nodedev=sanitize_name("usb_" + sysname))
        self.ensure_driver("usb", driver)
        a = {
            "idVendor": "%04x" % vendor, "idProduct": "%04x" % product,
            "bcdDevice": "%04x" % bcd, "bDeviceClass": "%02x" % cls,
            "bDeviceSubClass": "%02x" % subclass, "bDeviceProtocol": "%02x" % protocol,
            "bNumConfigurations": "1", "bNumInterfaces": "%2d" % num_interfaces,
            "bConfigurationValue": "1", "bmAttributes": "e0" if port is None else "80",
            "bMaxPower": max_power, "bMaxPacketSize0": "64",
            "busnum": str(busnum), "devnum": str(devnum), "devpath": devpath,
            "speed": speed, "version": version, "maxchild": str(maxchild),
            "manufacturer": manufacturer, "product": product_name, "serial": serial,
            "authorized": "1", "avoid_reset_quirk": "0", "quirks": "0x0",
            "removable": removable if port is not None else "unknown",
            "ltm_capable": "no", "urbnum": "42", "rx_lanes": "1", "tx_lanes": "1",
        }
        self.attrs(path, a)
        desc = struct.pack("<BBHBBBBHHHBBBB", 18, 1, int(version.strip().replace(".", ""), 16)
                           if version.strip().replace(".", "").isdigit() else 0x200,
                           cls, subclass, protocol, 64, vendor, product, bcd, 1, 2,
                           3 if serial else 0, 1)
        self._write(path + "/descriptors", desc)
        self._mkdir(path + "/power")
        self._write(path + "/power/control", "on" if port is None else "auto")
        self.usbs[sysname] = path
        self._bypath[path]["usb"] = {"bus": busnum, "device": devnum,
                                     "vendor": "0x%04x" % vendor,
                                     "product": "0x%04x" % product}
        return sysname

    def usb_interface(self, dev, number, cls, subclass, protocol, driver=None,
                      config=1, alt=0, endpoints=1, names=None, db=None):
        """Interface <dev>:<config>.<number> of USB device sysname `dev`.
        Returns the interface's absolute path."""
        dpath = self.usbs[dev]
        if dev.startswith("usb"):
            base = "%s-0" % dev[3:]
        else:
            base = dev
        sysname = "%s:%d.%d" % (base, config, number)
        path = dpath + "/" + sysname
        with open(dpath + "/uevent") as f:
            du = dict(l.split("=", 1) for l in f.read().splitlines() if "=" in l)
        vid, pid, bcd = [int(x, 16) for x in du["PRODUCT"].split("/")]
        dcls, dsub, dprot = [int(x) for x in du["TYPE"].split("/")]
        modalias = "usb:v%04Xp%04Xd%04Xdc%02Xdsc%02Xdp%02Xic%02Xisc%02Xip%02Xin%02X" % (
            vid, pid, bcd, dcls, dsub, dprot, cls, subclass, protocol, number)
        props = {}
        vname, mname = names or (None, None)
        if vname:
            props["ID_VENDOR_FROM_DATABASE"] = vname
        if mname:
            props["ID_MODEL_FROM_DATABASE"] = mname
        if db:
            props.update(db)
        self.device(path, "usb", devtype="usb_interface", driver=driver,
                    uevent=[("PRODUCT", du["PRODUCT"]), ("TYPE", du["TYPE"]),
                            ("INTERFACE", "%d/%d/%d" % (cls, subclass, protocol)),
                            ("MODALIAS", modalias)],
                    db=props or None, kind="usb_interface", name=sysname,
                    nodedev=sanitize_name("usb_" + sysname))
        self.attrs(path, {
            "bInterfaceNumber": "%02x" % number, "bAlternateSetting": "%2d" % alt,
            "bInterfaceClass": "%02x" % cls, "bInterfaceSubClass": "%02x" % subclass,
            "bInterfaceProtocol": "%02x" % protocol, "bNumEndpoints": "%02x" % endpoints,
            "modalias": modalias, "supports_autosuspend": "1", "authorized": "1"})
        # keep ID_USB_INTERFACES of the device's db entry in sync
        self._usb_add_iface(dpath, "%02x%02x%02x" % (cls, subclass, protocol))
        self._bypath[path]["usb_if"] = {"number": number, "class": cls,
                                        "subclass": subclass, "protocol": protocol}
        return path

    def _usb_add_iface(self, dpath, triple):
        e = self._bypath[dpath]
        cur = e["props"].get("ID_USB_INTERFACES", ":")
        if (":" + triple + ":") not in cur:
            cur = cur + triple + ":"
        e["props"]["ID_USB_INTERFACES"] = cur
        e["_dirty_db"] = True

    # ------------------------------------------------------------ SCSI
    def scsi_host(self, parent, host, proc_name="ahci", unique_id=None,
                  via=None, fc=None, can_queue=32, driver=None):
        """SCSI host `host<host>` under `parent` (PCI address or path),
        optionally via an intermediate dir (e.g. 'ata1'), with the class
        device scsi_host/hostN. fc: dict(port_name, node_name, fabric_name,
        max_npiv_vports, npiv_vports_inuse, port_state, speed) -> fc_host
        class device with vport_create/vport_delete."""
        ppath = self.pcis[parent].path if parent in self.pcis else parent
        if via:
            ppath = self.plain_dir(ppath + "/" + via)
        path = ppath + "/host%d" % host
        self.device(path, "scsi", devtype="scsi_host", kind="scsi_host",
                    nodedev="scsi_host%d" % host)
        self._mkdir(path + "/power")
        cp = path + "/scsi_host/host%d" % host
        self.device(cp, "scsi_host", bus=False, kind="scsi_host_class")
        self.attrs(cp, {
            "unique_id": str(host + 1 if unique_id is None else unique_id),
            "proc_name": proc_name, "host_busy": "0", "can_queue": str(can_queue),
            "cmd_per_lun": "0", "sg_tablesize": "168", "state": "running",
            "supported_mode": "Initiator", "active_mode": "Initiator",
            "prot_capabilities": "0", "eh_deadline": "off", "use_blk_mq": "1",
            "nr_hw_queues": "1"})
        self._write(cp + "/scan", b"", 0o200)
        self.symlink(cp + "/device", path)
        self._bypath[path]["scsi_host"] = {"host": host, "unique_id": host + 1
                                           if unique_id is None else unique_id}
        if fc:
            fp = path + "/fc_host/host%d" % host
            self.device(fp, "fc_host", bus=False, kind="fc_host")
            self.attrs(fp, {
                "port_name": fc.get("port_name", "0x2001f4e9d4eb02c9"),
                "node_name": fc.get("node_name", "0x2000f4e9d4eb02c9"),
                "fabric_name": fc.get("fabric_name", "0x2001547feebe79c1"),
                "port_id": fc.get("port_id", "0x010200"),
                "port_state": fc.get("port_state", "Online"),
                "port_type": "NPort (fabric via point-to-point)",
                "speed": fc.get("speed", "8 Gbit"),
                "supported_speeds": "2 Gbit, 4 Gbit, 8 Gbit",
                "supported_classes": "Class 3", "symbolic_name": fc.get(
                    "symbolic_name", "QLE2562 FW:v8.07.00 DVR:v10.02.08.200-k"),
                "max_npiv_vports": str(fc.get("max_npiv_vports", 254)),
                "npiv_vports_inuse": str(fc.get("npiv_vports_inuse", 0)),
                "tgtid_bind_type": "wwpn (World Wide Port Name)",
                "dev_loss_tmo": "45"})
            for w in ("vport_create", "vport_delete", "issue_lip"):
                self._write(fp + "/" + w, b"", 0o200)
            self.symlink(fp + "/device", path)
            self._bypath[path]["fc_host"] = dict(fc)
        self.scsi_hosts[host] = path
        return path

    def scsi_target(self, host, channel=0, target=0, via=None):
        """targetH:C:T under host (via: e.g. 'rport-12:0-0' for FC)."""
        hp = self.scsi_hosts[host]
        if via:
            hp = self.plain_dir(hp + "/" + via)
        path = hp + "/target%d:%d:%d" % (host, channel, target)
        self.device(path, "scsi", devtype="scsi_target", kind="scsi_target",
                    nodedev=sanitize_name("scsi_target%d:%d:%d" % (host, channel, target)))
        self._mkdir(path + "/power")
        return path

    def scsi_device(self, target_path, lun, type_, vendor, model, rev="1.0",
                    driver=None, level=6):
        """H:C:T:L under target path. type_: 0 disk, 5 cdrom, ...
        vendor/model/rev are space-padded to 8/16/4 like SCSI INQUIRY."""
        tname = os.path.basename(target_path)[6:]
        hctl = "%s:%d" % (tname, lun)
        path = target_path + "/" + hctl
        if driver is None:
            driver = {0: "sd", 5: "sr", 1: "st"}.get(type_)
        self.device(path, "scsi", devtype="scsi_device", driver=driver,
                    uevent=[("MODALIAS", "scsi:t-0x%02x" % type_)],
                    kind="scsi_device", nodedev=sanitize_name("scsi_" + hctl))
        self.attrs(path, {
            "type": str(type_), "vendor": vendor.ljust(8)[:8],
            "model": model.ljust(16)[:16], "rev": rev.ljust(4)[:4],
            "scsi_level": str(level), "state": "running", "device_blocked": "0",
            "queue_depth": "32" if type_ == 0 else "1", "queue_type": "simple",
            "timeout": "30", "eh_timeout": "10", "iocounterbits": "32",
            "iodone_cnt": "0x1a2", "ioerr_cnt": "0x0", "iorequest_cnt": "0x1a2",
            "modalias": "scsi:t-0x%02x" % type_, "evt_media_change": "0",
            "inquiry": None})
        self._write(path + "/rescan", b"", 0o200)
        self._write(path + "/delete", b"", 0o200)
        self._mkdir(path + "/power")
        cp = path + "/scsi_device/" + hctl
        self.device(cp, "scsi_device", bus=False, kind="scsi_device_class")
        self.symlink(cp + "/device", path)
        if type_ == 0:
            dp = path + "/scsi_disk/" + hctl
            self.device(dp, "scsi_disk", bus=False, kind="scsi_disk")
            self.attrs(dp, {"cache_type": "write back", "FUA": "1",
                            "protection_type": "0", "manage_start_stop": "1"})
            self.symlink(dp + "/device", path)
        self._bypath[path]["scsi"] = {"hctl": hctl, "type": type_}
        return path

    def scsi_generic(self, dev_path, index, db=None):
        """scsi_generic/sg<index> under a SCSI device (char 21:index)."""
        path = dev_path + "/scsi_generic/sg%d" % index
        props = {}
        if db:
            props.update(db)
        self.device(path, "scsi_generic", bus=False, devnode="sg%d" % index,
                    major=MAJOR_SG, minor=index, db=props, kind="scsi_generic",
                    nodedev="scsi_generic_sg%d" % index)
        self.symlink(path + "/device", dev_path)
        self._mkdir(path + "/power")
        return path

    # ------------------------------------------------------------ block
    def block(self, parent_path, name, major, minor, size, *, removable=0,
              ro=0, lbs=512, pbs=None, rotational=0, props=None, links=(),
              partitions=(), device_link=None, hidden=False, ext_range=256,
              capability="50", diskseq=None, kind="disk", serial_suffix=True,
              tags=("systemd",), extra_attrs=None):
        """Block disk <parent_path>/block/<name> (or <parent_path>/<name> for
        NVMe: pass parent_path ending in the controller dir and
        device_link). size in 512-byte sectors, as the kernel reports.
        partitions: [(number, start, nsectors, props)] -> <name><N> or
        <name>p<N> children with DEVTYPE=partition and a `partition` file.
        props: udev properties (ID_TYPE, ID_BUS, ID_SERIAL, ID_FS_LABEL...)."""
        if name.startswith("nvme"):
            path = parent_path + "/" + name
        else:
            path = parent_path + "/block/" + name
        self._mkdir(os.path.dirname(path))
        props = dict(props or {})
        ue = []
        if diskseq is not None:
            ue.append(("DISKSEQ", diskseq))
        serial = props.get("ID_SERIAL")
        self.device(path, "block", bus=False, devtype="disk", devnode=name,
                    major=major, minor=minor, block=True, uevent=ue, db=props,
                    links=links, tags=tags, kind=kind,
                    nodedev=sanitize_name("block_%s%s" % (
                        name, ("_" + serial) if (serial and serial_suffix) else "")))
        self.symlink(self.s("block/" + name), path)
        q = {"logical_block_size": str(lbs), "physical_block_size": str(pbs or lbs),
             "hw_sector_size": str(lbs), "minimum_io_size": str(pbs or lbs),
             "optimal_io_size": "0", "rotational": str(rotational),
             "max_sectors_kb": "1280", "nr_requests": "64", "scheduler": "[none] mq-deadline",
             "read_ahead_kb": "128", "discard_granularity": "0" if rotational else "512"}
        for k, v in q.items():
            self.write_attr(path, "queue/" + k, v)
        a = {"size": str(size), "removable": str(removable), "ro": str(ro),
             "range": "16" if major in (MAJOR_SD,) else "1", "ext_range": str(ext_range),
             "capability": capability, "alignment_offset": "0",
             "discard_alignment": "0", "events": "media_change eject_request"
             if kind == "cdrom" else "", "events_async": "", "events_poll_msecs": "-1",
             "hidden": "1" if hidden else "0", "inflight": "       0        0",
             "stat": "     100        0     2000       10        0        0        0        0        0       20       10        0        0        0        0        0        0",
             "diskseq": str(diskseq) if diskseq is not None else None}
        if extra_attrs:
            a.update(extra_attrs)
        self.attrs(path, a)
        self._mkdir(path + "/holders")
        self._mkdir(path + "/slaves")
        self._mkdir(path + "/power")
        self.symlink(path + "/device", device_link or parent_path)
        self._bypath[path]["storage"] = {"block": "/dev/" + name, "size": size,
                                         "logical_block_size": lbs,
                                         "removable": removable}
        for part in partitions:
            n, start, nsec = part[:3]
            pprops = dict(part[3]) if len(part) > 3 else {}
            pname = ("%sp%d" if name[-1].isdigit() else "%s%d") % (name, n)
            pp = path + "/" + pname
            self.device(pp, "block", bus=False, devtype="partition", devnode=pname,
                        major=major if major != MAJOR_BLKEXT else MAJOR_BLKEXT,
                        minor=minor + n if major != MAJOR_BLKEXT else minor + n,
                        block=True, uevent=([("DISKSEQ", diskseq)] if diskseq is not None
                                            else []) + [("PARTN", n)],
                        db=pprops, tags=tags,
                        kind="partition")
            self.attrs(pp, {"partition": str(n), "start": str(start), "size": str(nsec),
                            "ro": "0", "alignment_offset": "0", "discard_alignment": "0",
                            "inflight": "       0        0"})
            self._mkdir(pp + "/power")
        return path

    def scsi_disk(self, host, target, lun, name, index, sg, size, vendor="ATA",
                  model="Samsung SSD 860", rev="4B6Q", serial=None, bus="ata",
                  channel=0, rotational=0, partitions=(), props=None, links=None,
                  removable=0, id_path=None, lbs=512):
        """Convenience: target + sd device + sdX disk + sgN on SCSI `host`."""
        tp = self._target_path(host, channel, target)
        dp = self.scsi_device(tp, lun, 0, vendor, model, rev)
        sysmodel = udev_safe(model)
        p = {"ID_TYPE": "disk", "ID_BUS": bus, "ID_MODEL": sysmodel,
             "ID_MODEL_ENC": model.replace(" ", "\\x20"), "ID_REVISION": rev}
        if bus == "ata":
            p["ID_ATA"] = "1"
            p["ID_SERIAL"] = "%s_%s" % (sysmodel, serial) if serial else sysmodel
        else:
            p["ID_VENDOR"] = vendor
            p["ID_SERIAL"] = "%s_%s_%s" % (vendor, sysmodel, serial) if serial else sysmodel
        if serial:
            p["ID_SERIAL_SHORT"] = serial
        if id_path:
            p["ID_PATH"] = id_path
            p["ID_PATH_TAG"] = id_path.replace(":", "_").replace(".", "_")
        if props:
            p.update(props)
        if links is None:
            links = ["disk/by-id/%s-%s" % (bus, p["ID_SERIAL"])]
            if id_path:
                links.append("disk/by-path/" + id_path)
        pparts = []
        for part in partitions:
            n = part[0]
            pp = dict(p)
            pp.update(part[3] if len(part) > 3 else {})
            pp["ID_PART_ENTRY_NUMBER"] = str(n)
            pparts.append((n, part[1], part[2], pp))
        self.block(dp, name, MAJOR_SD, 16 * index, size, props=p, links=links,
                   partitions=pparts, rotational=rotational, removable=removable,
                   diskseq=index + 1, lbs=lbs)
        self.scsi_generic(dp, sg)
        return dp

    def scsi_cdrom(self, host, target, lun, name, index, sg, vendor="HL-DT-ST",
                   model="DVDRAM GH24NSD1", rev="LG00", media=False, label=None,
                   media_size=0, bus="ata", channel=0, serial=None, id_path=None):
        """Convenience: target + sr device + srN cdrom + sgN. With media the
        disk has ID_CDROM_MEDIA=1 (+ ID_FS_LABEL) and a non-zero size."""
        tp = self._target_path(host, channel, target)
        dp = self.scsi_device(tp, lun, 5, vendor, model, rev)
        sysmodel = udev_safe(model)
        p = {"ID_CDROM": "1", "ID_CDROM_CD": "1", "ID_CDROM_CD_R": "1",
             "ID_CDROM_CD_RW": "1", "ID_CDROM_DVD": "1", "ID_CDROM_DVD_R": "1",
             "ID_CDROM_MRW": "1", "ID_CDROM_MRW_W": "1",
             "ID_TYPE": "cd", "ID_BUS": bus, "ID_MODEL": sysmodel,
             "ID_MODEL_ENC": model.replace(" ", "\\x20"), "ID_REVISION": rev}
        if bus == "ata":
            p["ID_ATA"] = "1"
        p["ID_SERIAL"] = "%s_%s" % (sysmodel, serial) if serial else sysmodel
        if serial:
            p["ID_SERIAL_SHORT"] = serial
        if id_path:
            p["ID_PATH"] = id_path
            p["ID_PATH_TAG"] = id_path.replace(":", "_").replace(".", "_")
        links = ["cdrom", "disk/by-id/%s-%s" % (bus, p["ID_SERIAL"])]
        if id_path:
            links.append("disk/by-path/" + id_path)
        if media:
            p.update({"ID_CDROM_MEDIA": "1", "ID_CDROM_MEDIA_DVD": "1",
                      "ID_CDROM_MEDIA_STATE": "complete",
                      "ID_CDROM_MEDIA_SESSION_COUNT": "1",
                      "ID_CDROM_MEDIA_TRACK_COUNT": "1",
                      "ID_CDROM_MEDIA_TRACK_COUNT_DATA": "1"})
            if label:
                p.update({"ID_FS_LABEL": label, "ID_FS_LABEL_ENC": label,
                          "ID_FS_TYPE": "iso9660", "ID_FS_USAGE": "filesystem",
                          "ID_FS_VERSION": "Joliet Extension"})
                links.append("disk/by-label/" + label)
        self.block(dp, name, MAJOR_SR, index, media_size if media else 0,
                   removable=1, lbs=2048, props=p, links=links, kind="cdrom",
                   capability="119", diskseq=20 + index, ext_range=1, rotational=1,
                   tags=("systemd", "uaccess", "seat"))
        self.scsi_generic(dp, sg)
        return dp

    def _target_path(self, host, channel, target):
        hp = self.scsi_hosts[host]
        tp = hp + "/target%d:%d:%d" % (host, channel, target)
        if tp not in self._bypath:
            self.scsi_target(host, channel, target)
        return tp

    def nvme(self, parent, ctrl=0, model="Samsung SSD 980 PRO 1TB",
             serial="S5GXNF0R123456A", firmware="5B2QGXA7", namespaces=((1, 1953525168),),
             partitions=(), cntlid=6, major_char=MAJOR_NVME_CHAR, id_path=None):
        """NVMe controller nvme<ctrl> (class nvme, char dev) under PCI
        `parent` with namespaces nvme<ctrl>n<nsid> (block 259:x), non-multipath
        layout (.../nvme/nvme0/nvme0n1)."""
        ppath = self.pcis[parent].path
        cp = ppath + "/nvme/nvme%d" % ctrl
        self.device(cp, "nvme", bus=False, devnode="nvme%d" % ctrl, major=major_char,
                    minor=ctrl, db={}, kind="nvme_ctrl",
                    uevent=[("NVME_TRTYPE", "pcie")])
        self.attrs(cp, {"model": model, "serial": serial, "firmware_rev": firmware,
                        "transport": "pcie", "address": parent, "state": "live",
                        "cntlid": str(cntlid), "numa_node": "-1", "queue_count": "17",
                        "sqsize": "1023", "subsysnqn": "nqn.1994-11.com.samsung:nvme:980PRO:M.2:%s" % serial,
                        "kato": "0", "cntrltype": "io", "dctype": "none"})
        self._write(cp + "/reset_controller", b"", 0o200)
        self._write(cp + "/rescan_controller", b"", 0o200)
        self.symlink(cp + "/device", ppath)
        self._mkdir(cp + "/power")
        id_path = id_path or "pci-%s-nvme-1" % parent
        for i, (nsid, size) in enumerate(namespaces):
            nm = "nvme%dn%d" % (ctrl, nsid)
            idx = self._blkext_next(len(partitions) + 1)
            props = {"ID_SERIAL_SHORT": serial, "ID_WWN": "eui.002538b%011x" % (nsid + ctrl * 100),
                     "ID_MODEL": model, "ID_REVISION": firmware,
                     "ID_SERIAL": "%s_%s" % (model.replace(" ", "_"), serial),
                     "ID_NSID": str(nsid), "ID_PATH": id_path,
                     "ID_PATH_TAG": id_path.replace(":", "_").replace(".", "_"),
                     "ID_PART_TABLE_TYPE": "gpt" if partitions else None}
            props = dict((k, v) for k, v in props.items() if v is not None)
            links = ["disk/by-id/nvme-%s" % props["ID_SERIAL"],
                     "disk/by-id/nvme-%s" % props["ID_WWN"],
                     "disk/by-path/" + id_path]
            pparts = []
            for part in partitions:
                pp = dict(props)
                pp.update(part[3] if len(part) > 3 else {})
                pparts.append((part[0], part[1], part[2], pp))
            self.block(cp, nm, MAJOR_BLKEXT, idx, size, props=props, links=links,
                       partitions=pparts, device_link=cp, kind="nvme_ns",
                       diskseq=40 + ctrl * 8 + i,
                       extra_attrs={"wwid": props["ID_WWN"], "nsid": str(nsid),
                                    "uuid": "00000000-0000-0000-0000-000000000000"})
        return cp

    def _blkext_next(self, n):
        cur = getattr(self, "_blkext", 0)
        self._blkext = cur + n
        return cur

    # ------------------------------------------------------------ DRM
    def drm(self, gpu, card=0, render=128, connectors=("HDMI-A-1",), db=None):
        """drm/card<card> (226:card) and drm/renderD<render> (226:render)
        under the GPU PCI device, DEVTYPE=drm_minor, DEVNAME=dri/...;
        connectors card<card>-<name> with DEVTYPE=drm_connector."""
        ppath = self.pcis[gpu].path
        id_path = "pci-" + gpu
        tag = id_path.replace(":", "_").replace(".", "_")
        out = []
        for nm, minor in (("card%d" % card, card), ("renderD%d" % render, render)):
            if minor is None:
                continue
            p = ppath + "/drm/" + nm
            props = {"ID_PATH": id_path, "ID_PATH_TAG": tag}
            tags = ("uaccess",)
            if nm.startswith("card"):
                props["ID_FOR_SEAT"] = "drm-" + tag
                tags = ("master-of-seat", "seat", "uaccess")
            if db:
                props.update(db)
            links = ["dri/by-path/%s-%s" % (id_path, "card" if nm.startswith("card") else "render")]
            self.device(p, "drm", bus=False, devtype="drm_minor",
                        devnode="dri/" + nm, major=MAJOR_DRM, minor=minor,
                        db=props, links=links, tags=tags, kind="drm",
                        nodedev=sanitize_name("drm_" + nm))
            self.symlink(p + "/device", ppath)
            self._mkdir(p + "/power")
            self._bypath[p]["drm"] = {"type": "primary" if minor < 64 else
                                      ("control" if minor < 128 else "render")}
            out.append(p)
        for c in connectors:
            cp = ppath + "/drm/card%d/card%d-%s" % (card, card, c)
            self.device(cp, "drm", bus=False, devtype="drm_connector", kind="drm_connector")
            self.attrs(cp, {"status": "connected" if c.startswith("HDMI") else "disconnected",
                            "enabled": "enabled", "dpms": "On", "modes": "1920x1080",
                            "connector_id": "95"})
            self._write(cp + "/edid", b"")
        if not os.path.exists(self.s("class/drm/version")):
            self._write(self.s("class/drm/version"), "drm 1.1.0 20060810")
        return out

    # ------------------------------------------------------------ finish
    def finish(self):
        """Write deferred state: PCI config spaces (multifunction bits,
        bridge bus numbers, SR-IOV NumVFs), sriov_numvfs, bridge pci_bus
        class devices, refreshed USB udev entries, and expected.json."""
        if self._finished:
            return
        self._finished = True
        # multifunction: any slot with more than one non-VF function
        slots = {}
        for a, p in self.pcis.items():
            if not p.is_vf:
                slots.setdefault(a[:10], []).append(a)
        # bridge bus ranges from their subtree
        child_buses = {}
        for a, p in self.pcis.items():
            par = p.parent
            bus = int(a[5:7], 16)
            while par is not None:
                child_buses.setdefault(par, []).append(bus)
                par = self.pcis[par].parent
        for a, p in self.pcis.items():
            mf = p.multifunction
            if mf is None:
                mf = len(slots.get(a[:10], ())) > 1 and not p.is_vf
            sr = None
            if p.sriov:
                sr = dict(p.sriov)
                sr["num"] = len(p.vfs)
                self._write(p.path + "/sriov_numvfs", str(len(p.vfs)))
            prim = sec = sub = 0
            if p.header_type in (1, 2):
                prim = int(a[5:7], 16)
                buses = child_buses.get(a, [])
                sec = p.secondary if p.secondary is not None else (min(buses) if buses else 0)
                sub = p.subordinate if p.subordinate is not None else (max(buses) if buses else sec)
                if p.header_type == 1:
                    self.attrs(p.path, {"secondary_bus_number": str(sec),
                                        "subordinate_bus_number": str(sub)})
                if sec:
                    pb = p.path + "/pci_bus/%s:%02x" % (a[:4], sec)
                    self.device(pb, "pci_bus", bus=False, kind="pci_bus")
                    self.attrs(pb, {"cpuaffinity": "ffff", "cpulistaffinity": "0-15"})
                    self._write(pb + "/rescan", b"", 0o200)
            cfg = build_pci_config(
                p.vendor, p.device, p.cls, revision=p.revision,
                header_type=p.header_type, multifunction=mf, subsys=p.subsys,
                size=p.cfg_size, pcie_type=p.pcie_type, link_cap=p.link_cap,
                link_sta=p.link_sta, port=p.port, flr=p.flr, pm=p.pm, msi=p.msi,
                msix=p.msix, vpd=p.vpd is not None, sriov=sr, acs=p.acs,
                primary=prim, secondary=sec, subordinate=sub,
                irq_pin=0 if p.is_vf else 1, slot_implemented=p.slot_implemented,
                ari=p.ari)
            self._write(p.path + "/config", bytes(cfg), 0o644)
        # refresh udev db entries whose props changed after creation
        for e in self.devices:
            if e.pop("_dirty_db", False) and e.get("udev_db"):
                self.udev_db(e["udev_db"], e["props"],
                             [l[5:] for l in e["devlinks"]], e["tags"])
        self.write_expected()

    def damage(self, target, note):
        """Mark a device (PCI address, sysname registered here, or absolute
        path) as deliberately damaged, with a note saying how; recorded in
        expected.json (device entry "damaged": [...] and top-level
        "damage" list). Checkers skip exact comparisons on such devices."""
        path = target
        if target in self.pcis:
            path = self.pcis[target].path
        elif target in self.usbs:
            path = self.usbs[target]
        e = self._bypath.get(path)
        rel = "/sys/" + os.path.relpath(path, self.sys) if path.startswith(self.sys) else path
        self._damage.append({"path": rel, "note": note})
        if e is not None:
            e.setdefault("damaged", []).append(note)

    def write_expected(self):
        """(Re)write DIR/expected.json: the device manifest. finish() calls
        it; call it again after damaging a tree by hand."""
        pathmap = {}
        for e in self.devices:
            if e.get("syspath"):
                pathmap[e["syspath"]] = e
        for e in self.devices:
            if not e.get("nodedev") or not e.get("syspath"):
                continue
            q = os.path.dirname(e["syspath"])
            parent = "computer"
            while q not in ("/sys", "/sys/devices", "/"):
                pe = pathmap.get(q)
                if pe is not None and pe.get("nodedev"):
                    parent = pe["nodedev"]
                    break
                q = os.path.dirname(q)
            e["nodedev_parent"] = parent
        if self.write_manifest:
            with open(os.path.join(self.path, "expected.json"), "w") as f:
                json.dump({"devices": self.devices,
                           "damage": self._damage,
                           "iommu_groups": dict(
                               (str(k), sorted(os.path.basename(x) for x in v))
                               for k, v in sorted(self.groups.items()))},
                          f, indent=1, sort_keys=True)
                f.write("\n")
