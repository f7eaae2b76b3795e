#!/usr/bin/env python3
"""Build the GPU fixture tree (tests/test-gpu.sh, docs/gpu.md).

    python3 tests/data/sysroots/gpu.py OUTDIR

OUTDIR (removed first) gets a workstation with four GPUs:

  01:00.0  NVIDIA TU102 (RTX 2080 Ti), boot VGA, with its HDMI audio (.1),
           USB-C xHCI (.2) and UCSI controller (.3) in IOMMU group 1;
           fbcon bound, efifb bound (proc/iomem: in its BAR1), Xorg (pid
           1234) holds /dev/dri/card0;
           a valid option ROM (legacy + EFI image)
  02:00.0  AMD Polaris 10 (RX 580) + HDMI audio (.1), group 2, no FLR
           (reset_method "bus"): a quirk-table entry; its option ROM's
           PCIR names another device
  00:02.0  Intel UHD 630 with GVT-g mdev types, group 3
  03:00.0  NVIDIA L4 (SR-IOV PF, 4 VFs 03:00.4-.7) with NVIDIA's per-VF
           vGPU layout (nvidia/creatable_vgpu_types, current_vgpu_type);
           VF 03:00.5 already has vGPU type 558

Not part of build.py's CASES: the libvirt and libudev comparisons of the
shared fixtures stay as they are.  The fake kernel (tests/fake-kernel.c)
gives `rom` and `current_vgpu_type` their kernel behaviour.
"""

import os
import shutil
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from build import _host_facts  # noqa: E402  (no mounts, swaps or routes: safety facts known)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "fakesys"))

from fakesys import Sysroot, PCIE_TYPE_RCIEP  # noqa: E402

NV = "NVIDIA Corporation"
AMD = "Advanced Micro Devices, Inc. [AMD/ATI]"
INTEL = "Intel Corporation"

# BAR0 (registers), BAR1 (VRAM aperture, where the firmware framebuffer lives), BAR3
NV_RESOURCE = "\n".join(["0x00000000de000000 0x00000000deffffff 0x0000000000040200",
                         "0x0000000000000000 0x0000000000000000 0x0000000000000000",
                         "0x00000000c0000000 0x00000000cfffffff 0x000000000014220c"] +
                        ["0x0000000000000000 0x0000000000000000 0x0000000000000000"] * 10)
IOMEM = """00000000-00000fff : Reserved
c0000000-cfffffff : 0000:01:00.0
  c0000000-c07fffff : efifb
de000000-deffffff : 0000:01:00.0
  de000000-deffffff : nouveau
f7000000-f701ffff : 0000:02:00.0
"""

L4_TYPES = [(557, "NVIDIA L4-1B"), (558, "NVIDIA L4-2Q"), (559, "NVIDIA L4-4Q"), (560, "NVIDIA L4-24Q")]


def rom_image(vendor, device, code_type, size, last, cls=0x030000, devlist=None):
    """One PCI expansion ROM image: 0x55AA, PCIR data structure at 0x40,
    legacy images with a zero byte sum; `devlist`: a PCI 3.0 device list
    (PCIR revision 3) at 0x60."""
    b = bytearray(size)
    b[0:2] = b"\x55\xaa"
    b[2] = size // 512
    struct.pack_into("<H", b, 0x18, 0x40)
    p = 0x40
    b[p:p + 4] = b"PCIR"
    struct.pack_into("<HHHHB", b, p + 4, vendor, device, 0, 0x18, 0)
    b[p + 0xd] = cls & 0xff
    b[p + 0xe] = (cls >> 8) & 0xff
    b[p + 0xf] = (cls >> 16) & 0xff
    struct.pack_into("<HHBB", b, p + 0x10, size // 512, 1, code_type, 0x80 if last else 0)
    for i in range(0x60, 0x80):
        b[i] = (i * 7) & 0xff
    if devlist:
        struct.pack_into("<H", b, p + 8, 0x60 - p)
        b[p + 0xc] = 3
        struct.pack_into("<%dH" % (len(devlist) + 1), b, 0x60, *devlist, 0)
    if code_type == 0:
        b[size - 1] = (-sum(b[:size - 1])) & 0xff
    return bytes(b)


def rom(vendor, device, images):
    out = b""
    for i, (ct, size) in enumerate(images):
        out += rom_image(vendor, device, ct, size, i == len(images) - 1)
    return out


def build_gpu(out):
    with Sysroot(out) as s:
        s.dmi()
        s.pci("0000:00:00.0", 0x8086, 0x3e30, 0x060000, driver="skl_uncore", pcie=False,
              iommu_group=0, names=(INTEL, "8th Gen Core Processor Host Bridge/DRAM Registers"))

        # NVIDIA Turing: GPU + HDMI audio + USB-C xHCI + UCSI, one slot, group 1
        s.pci("0000:00:01.0", 0x8086, 0x1901, 0x060400, driver="pcieport", iommu_group=10,
              link_cap=(3, 16), port=2, names=(INTEL, "6th-10th Gen Core Processor PCIe Controller (x16)"))
        for fn, dev, cls, drv, name in (
                (0, 0x1e07, 0x030000, "nouveau", "TU102 [GeForce RTX 2080 Ti Rev. A]"),
                (1, 0x10f7, 0x040300, "snd_hda_intel", "TU102 High Definition Audio Controller"),
                (2, 0x1ad6, 0x0c0330, "xhci_hcd", "TU102 USB 3.1 Host Controller"),
                (3, 0x1ad7, 0x0c8000, "nvidia-gpu", "TU102 USB Type-C UCSI Controller")):
            s.pci("0000:01:00.%d" % fn, 0x10de, dev, cls, driver=drv, parent="0000:00:01.0",
                  link_cap=(3, 16), subsys=(0x1043, 0x866a), flr=False,
                  reset_method="bus", names=(NV, name),
                  attrs={"boot_vga": "1", "resource": NV_RESOURCE} if fn == 0 else None)
        s.iommu_group(1, ["0000:01:00.0", "0000:01:00.1", "0000:01:00.2", "0000:01:00.3"])
        s.drm("0000:01:00.0", card=0, render=128, connectors=("HDMI-A-1", "DP-1"))

        # AMD Polaris 10 + HDMI audio, group 2, no FLR
        s.pci("0000:00:03.0", 0x8086, 0x1905, 0x060400, driver="pcieport", iommu_group=11,
              link_cap=(3, 8), port=3, names=(INTEL, "Xeon E3-1200 v5/E3-1500 v5 PCIe Controller (x8)"))
        s.pci("0000:02:00.0", 0x1002, 0x67df, 0x030000, driver="amdgpu", parent="0000:00:03.0",
              link_cap=(3, 8), subsys=(0x1da2, 0xe366), flr=False, reset_method="bus",
              revision=0xe7, names=(AMD, "Ellesmere [Radeon RX 470/480/570/570X/580/580X/590]"))
        s.pci("0000:02:00.1", 0x1002, 0xaaf0, 0x040300, driver="snd_hda_intel", parent="0000:00:03.0",
              link_cap=(3, 8), subsys=(0x1da2, 0xaaf0), flr=False, reset_method="bus",
              names=(AMD, "Ellesmere HDMI Audio [Radeon RX 470/480 / 570/580/590]"))
        s.iommu_group(2, ["0000:02:00.0", "0000:02:00.1"])
        s.drm("0000:02:00.0", card=1, render=129, connectors=("DP-2",))

        # Intel iGPU with GVT-g
        s.pci("0000:00:02.0", 0x8086, 0x3e92, 0x030000, driver="i915", pcie_type=PCIE_TYPE_RCIEP,
              iommu_group=3, subsys=(0x17aa, 0x1039), names=(INTEL, "CoffeeLake-S GT2 [UHD Graphics 630]"))
        s.mdev_types("0000:00:02.0", [
            dict(id="i915-GVTg_V5_4", name="GVTg_V5_4", device_api="vfio-pci", available=2,
                 description="low_gm_size: 128MB\nhigh_gm_size: 512MB\nfence: 4\nresolution: 1920x1200\nweight: 4"),
            dict(id="i915-GVTg_V5_8", name="GVTg_V5_8", device_api="vfio-pci", available=4,
                 description="low_gm_size: 64MB\nhigh_gm_size: 384MB\nfence: 4\nresolution: 1024x768\nweight: 2"),
        ])
        s.drm("0000:00:02.0", card=2, render=130, connectors=())

        # NVIDIA L4: SR-IOV PF with per-VF vGPU types (kernel >= 6.8 layout)
        s.pci("0000:00:05.0", 0x8086, 0x1909, 0x060400, driver="pcieport", iommu_group=12,
              link_cap=(4, 16), port=5, names=(INTEL, "Xeon E3-1200 v5/E3-1500 v5 PCIe Controller (x16)"))
        s.pci("0000:03:00.0", 0x10de, 0x27b8, 0x030200, driver="nvidia", parent="0000:00:05.0",
              iommu_group=4, link_cap=(4, 16), subsys=(0x10de, 0x16ca), sriov_total=4,
              sriov_vf_device=0x27b8, sriov_offset=4, sriov_stride=1, ari=True,
              names=(NV, "AD104GL [L4]"))
        for i in range(4):
            vf = s.vf("0000:03:00.0", i, driver="nvidia", iommu_group=5 + i)
            d = s.pcis[vf].path + "/nvidia"
            s._mkdir(d)
            cur = 558 if i == 1 else 0
            # the types this VF can take now: none once it has one
            lines = ["ID    : vGPU Name"] + ([] if cur else ["%-5d : %s" % t for t in L4_TYPES])
            s._write(d + "/creatable_vgpu_types", "\n".join(lines) + "\n")
            s._write(d + "/current_vgpu_type", "%d\n" % cur)
            s._write(d + "/vgpu_params", "")

    # option ROMs: `rom` reads fail (empty) until enabled; the fake kernel
    # copies .rom-image into rom on "1" and empties it on "0"
    def put_rom(addr, data):
        dev = os.path.realpath(os.path.join(out, "sys/bus/pci/devices", addr))
        with open(os.path.join(dev, "rom"), "wb"):
            pass
        os.chmod(os.path.join(dev, "rom"), 0o600)
        with open(os.path.join(dev, ".rom-image"), "wb") as f:
            f.write(data)
    put_rom("0000:01:00.0", rom(0x10de, 0x1e07, [(0, 0x4000), (3, 0x2000)]))
    put_rom("0000:02:00.0", rom(0x1002, 0x67ff, [(0, 0x2000)]))

    # the host's console and display server
    for vt, name, bind in (("vtcon0", "(S) dummy device", "0"), ("vtcon1", "(M) frame buffer device", "1")):
        d = os.path.join(out, "sys/class/vtconsole", vt)
        os.makedirs(d)
        with open(d + "/name", "w") as f:
            f.write(name + "\n")
        with open(d + "/bind", "w") as f:
            f.write(bind + "\n")
    efi = os.path.join(out, "sys/devices/platform/efi-framebuffer.0")
    os.makedirs(efi)
    drv = os.path.join(out, "sys/bus/platform/drivers/efi-framebuffer")
    os.makedirs(drv)
    os.makedirs(os.path.join(out, "sys/bus/platform/devices"))
    os.symlink("../../../devices/platform/efi-framebuffer.0",
               os.path.join(out, "sys/bus/platform/devices/efi-framebuffer.0"))
    os.symlink("../../../bus/platform/drivers/efi-framebuffer", efi + "/driver")
    os.symlink("../../../../devices/platform/efi-framebuffer.0", drv + "/efi-framebuffer.0")
    # efifb lives in the NVIDIA card's VRAM aperture (BAR1)
    os.makedirs(os.path.join(out, "proc"), exist_ok=True)
    with open(os.path.join(out, "proc/iomem"), "w") as f:
        f.write(IOMEM)
    p = os.path.join(out, "proc/1234")
    os.makedirs(p + "/fd")
    with open(p + "/comm", "w") as f:
        f.write("Xorg\n")
    os.symlink("/dev/dri/card0", p + "/fd/14")
    os.symlink("/dev/null", p + "/fd/0")


def main(argv):
    if len(argv) != 2 or argv[1] in ("-h", "--help"):
        sys.stderr.write(__doc__)
        return 2
    if os.path.lexists(argv[1]):
        shutil.rmtree(argv[1])
    build_gpu(argv[1])
    _host_facts(argv[1])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
