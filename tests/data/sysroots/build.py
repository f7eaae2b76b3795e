#!/usr/bin/env python3
"""Build the fake sysroot fixture cases.

    python3 tests/data/sysroots/build.py OUTDIR [CASE...]

Creates OUTDIR/<case>/{sys,run/udev,dev,expected.json} for each case
(default: all). Output is deterministic; an existing OUTDIR/<case> is
removed first. See README.md next to this script for what each case holds.
"""

import os
import shutil
import stat
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "fakesys"))

from fakesys import Sysroot, build_vpd, PCIE_TYPE_RCIEP  # noqa: E402

MDEV_UUID = "4b20d080-1b54-4048-85b3-a6a62d165c01"
MTTY_UUID = "3627463d-b7f0-4fea-b468-f1da537d301b"

INTEL = "Intel Corporation"


def build_full(out):
    with Sysroot(out) as s:
        s.dmi()

        # ---- root complex, bus 00 -------------------------------------
        s.pci("0000:00:00.0", 0x8086, 0x3e30, 0x060000, driver="skl_uncore",
              pcie=False, iommu_group=0, revision=0x0d, subsys=(0x17aa, 0x1039),
              names=(INTEL, "8th Gen Core 8-core Desktop Processor Host Bridge/DRAM Registers [Coffee Lake S]"))
        # root port 00:01.0 -> bus 01: NVIDIA GPU + HDMI audio in one IOMMU group
        s.pci("0000:00:01.0", 0x8086, 0x1901, 0x060400, driver="pcieport",
              iommu_group=1, link_cap=(3, 16), port=2, revision=0x0d,
              names=(INTEL, "6th-10th Gen Core Processor PCIe Controller (x16)"))
        s.pci("0000:01:00.0", 0x10de, 0x1b80, 0x030000, driver="nouveau",
              parent="0000:00:01.0", link_cap=(3, 16), link_sta=(1, 16),
              revision=0xa1, subsys=(0x1458, 0x3702), flr=False,
              names=("NVIDIA Corporation", "GP104 [GeForce GTX 1080]"))
        s.pci("0000:01:00.1", 0x10de, 0x10f0, 0x040300, driver="snd_hda_intel",
              parent="0000:00:01.0", link_cap=(3, 16), link_sta=(1, 16),
              revision=0xa1, subsys=(0x1458, 0x3702), flr=False,
              names=("NVIDIA Corporation", "GP104 High Definition Audio Controller"))
        s.iommu_group(2, ["0000:01:00.0", "0000:01:00.1"])
        s.drm("0000:01:00.0", card=1, render=129, connectors=("DVI-D-1",))

        # integrated GPU: mdev parent (GVT-g), DRM card0 + renderD128
        s.pci("0000:00:02.0", 0x8086, 0x3e92, 0x030000, driver="i915",
              pcie_type=PCIE_TYPE_RCIEP, iommu_group=3, revision=0x00,
              attrs={"boot_vga": "1"},
              subsys=(0x17aa, 0x1039),
              names=(INTEL, "CoffeeLake-S GT2 [UHD Graphics 630]"))
        s.mdev_types("0000:00:02.0", [
            dict(id="i915-GVTg_V5_4", name="GVTg_V5_4", device_api="vfio-pci",
                 available=2, description="low_gm_size: 128MB\nhigh_gm_size: 512MB\n"
                 "fence: 4\nresolution: 1920x1200\nweight: 4"),
            dict(id="i915-GVTg_V5_8", name="GVTg_V5_8", device_api="vfio-pci",
                 available=4, description="low_gm_size: 64MB\nhigh_gm_size: 384MB\n"
                 "fence: 4\nresolution: 1024x768\nweight: 2"),
        ])
        s.mdev("0000:00:02.0", MDEV_UUID, "i915-GVTg_V5_4", iommu_group=20)
        s.drm("0000:00:02.0", card=0, render=128, connectors=("HDMI-A-1", "DP-1"))

        # xHCI controller + USB tree
        s.pci("0000:00:14.0", 0x8086, 0xa36d, 0x0c0330, driver="xhci_hcd",
              pcie=False, iommu_group=4, revision=0x10, subsys=(0x17aa, 0x1039),
              names=(INTEL, "Cannon Lake PCH USB 3.1 xHCI Host Controller"))
        s.usb_device("0000:00:14.0", 1, 1, 0x1d6b, 0x0002, bcd=0x0601, cls=9,
                     protocol=1, manufacturer="Linux 6.1.0-28-amd64 xhci-hcd",
                     product_name="xHCI Host Controller", serial="0000:00:14.0",
                     speed="480", maxchild=16, driver="usb", max_power="0mA",
                     names=("Linux Foundation", "2.0 root hub"))
        s.usb_interface("usb1", 0, 9, 0, 0, driver="hub")
        s.usb_device("0000:00:14.0", 2, 1, 0x1d6b, 0x0003, bcd=0x0601, cls=9,
                     protocol=3, manufacturer="Linux 6.1.0-28-amd64 xhci-hcd",
                     product_name="xHCI Host Controller", serial="0000:00:14.0",
                     speed="10000", version=" 3.10", maxchild=10, max_power="0mA",
                     names=("Linux Foundation", "3.0 root hub"))
        s.usb_interface("usb2", 0, 9, 0, 0, driver="hub")
        # external hub on port 1 of bus 1
        s.usb_device("usb1", 1, 2, 0x05e3, 0x0610, port=1, bcd=0x6060, cls=9,
                     protocol=2, manufacturer="GenesysLogic", product_name="USB2.1 Hub",
                     maxchild=4, max_power="100mA",
                     names=("Genesys Logic, Inc.", "Hub"))
        s.usb_interface("1-1", 0, 9, 0, 2, driver="hub")
        # keyboard on hub port 3
        s.usb_device("1-1", 1, 4, 0x046d, 0xc31c, port=3, bcd=0x6400,
                     manufacturer="Logitech", product_name="USB Keyboard",
                     speed="1.5", version=" 1.10", max_power="90mA",
                     names=("Logitech, Inc.", "Keyboard K120"))
        s.usb_interface("1-1.3", 0, 3, 1, 1, driver="usbhid")
        s.usb_interface("1-1.3", 1, 3, 0, 0, driver="usbhid")
        # USB stick on hub port 2 -> usb-storage -> host6 -> sdb (media, label)
        s.usb_device("1-1", 1, 3, 0x0781, 0x5583, port=2, bcd=0x0100,
                     manufacturer="SanDisk", product_name="Ultra Fit",
                     serial="4C530001230415116163", max_power="224mA",
                     names=("SanDisk Corp.", "Ultra Fit"))
        ifp = s.usb_interface("1-1.2", 0, 8, 6, 0x50, driver="usb-storage", endpoints=2)
        s.scsi_host(ifp, 6, proc_name="usb-storage", unique_id=0)
        usb_idpath = "pci-0000:00:14.0-usb-0:1.2:1.0-scsi-0:0:0:0"
        s.scsi_disk(6, 0, 0, "sdb", 1, 3, 60063744, vendor="SanDisk",
                    model="Ultra Fit", rev="1.00", serial="4C530001230415116163-0:0",
                    bus="usb", removable=1, id_path=usb_idpath,
                    props={"ID_USB_DRIVER": "usb-storage", "ID_USB_INTERFACE_NUM": "00",
                           "ID_USB_INTERFACES": ":080650:", "ID_VENDOR_ID": "0781",
                           "ID_MODEL_ID": "5583", "ID_INSTANCE": "0:0",
                           "ID_FS_LABEL": "BOOTSTICK", "ID_FS_LABEL_ENC": "BOOTSTICK",
                           "ID_FS_TYPE": "vfat", "ID_FS_VERSION": "FAT32",
                           "ID_FS_USAGE": "filesystem", "ID_FS_UUID": "1A2B-3C4D",
                           "ID_FS_UUID_ENC": "1A2B-3C4D", "ID_DRIVE_THUMB": "1"},
                    links=["disk/by-id/usb-SanDisk_Ultra_Fit_4C530001230415116163-0:0",
                           "disk/by-path/" + usb_idpath, "disk/by-label/BOOTSTICK",
                           "disk/by-uuid/1A2B-3C4D"])

        # SATA AHCI: disk (2 partitions), cdrom without media, DVD with media
        s.pci("0000:00:17.0", 0x8086, 0xa352, 0x010601, driver="ahci", pcie=False,
              iommu_group=5, revision=0x10, subsys=(0x17aa, 0x1039),
              names=(INTEL, "Cannon Lake PCH SATA AHCI Controller"))
        s.scsi_host("0000:00:17.0", 0, via="ata1", proc_name="ahci")
        s.scsi_disk(0, 0, 0, "sda", 0, 0, 195371568, vendor="ATA",
                    model="HTS721010G9SA00", rev="C10B", serial="MPCZ12Y0GNGWSE",
                    id_path="pci-0000:00:17.0-ata-1", rotational=1,
                    props={"ID_PART_TABLE_TYPE": "gpt",
                           "ID_PART_TABLE_UUID": "8f0a1e52-53f1-4d1e-9e4c-2f7c0e1d9a11",
                           "ID_WWN": "0x5000cca37cd1a6b2"},
                    partitions=[(1, 2048, 1048576, {"ID_FS_TYPE": "vfat",
                                                    "ID_PART_ENTRY_NAME": "EFI"}),
                                (2, 1050624, 194320000, {"ID_FS_TYPE": "ext4",
                                                         "ID_FS_LABEL": "root"})])
        s.scsi_host("0000:00:17.0", 1, via="ata2", proc_name="ahci")
        s.scsi_cdrom(1, 0, 0, "sr0", 0, 1, vendor="HL-DT-ST", model="DVDRAM GH24NSD1",
                     rev="LG00", media=False, serial="K8TH5LK1234",
                     id_path="pci-0000:00:17.0-ata-2")
        s.scsi_host("0000:00:17.0", 2, via="ata3", proc_name="ahci")
        s.scsi_cdrom(2, 0, 0, "sr1", 1, 2, vendor="HL-DT-ST", model="RW/DVD GCC-4247N",
                     rev="1.00", media=True, label="Windows_XP_Label", media_size=24112,
                     id_path="pci-0000:00:17.0-ata-3")

        # root port 00:1b.0 -> bus 08: QLogic FC HBA with vport ops
        s.pci("0000:00:1b.0", 0x8086, 0xa340, 0x060400, driver="pcieport",
              iommu_group=6, link_cap=(3, 4), port=17, revision=0xf0,
              names=(INTEL, "Cannon Lake PCH PCI Express Root Port #17"))
        s.pci("0000:08:00.0", 0x1077, 0x2532, 0x0c0400, driver="qla2xxx",
              parent="0000:00:1b.0", iommu_group=7, link_cap=(2, 4), revision=0x02,
              subsys=(0x1077, 0x015d), numa=0,
              names=("QLogic Corp.", "ISP2532-based 8Gb Fibre Channel to PCI Express HBA"))
        s.scsi_host("0000:08:00.0", 12, proc_name="qla2xxx", unique_id=12,
                    fc=dict(port_name="0x2001f4e9d4eb02c9", node_name="0x2000f4e9d4eb02c9",
                            fabric_name="0x2001547feebe79c1", max_npiv_vports=254,
                            npiv_vports_inuse=0))

        # root port 00:1c.0 -> bus 02: igb 82576 SR-IOV PF (2 of 7 VFs)
        s.pci("0000:00:1c.0", 0x8086, 0xa338, 0x060400, driver="pcieport",
              iommu_group=8, link_cap=(3, 4), port=1, revision=0xf0,
              names=(INTEL, "Cannon Lake PCH PCI Express Root Port #1"))
        s.pci("0000:02:00.0", 0x8086, 0x10c9, 0x020000, driver="igb",
              parent="0000:00:1c.0", iommu_group=9, link_cap=(1, 4), revision=0x01,
              subsys=(0x8086, 0xa03c), numa=0, sriov_total=7, sriov_vf_device=0x10ca,
              sriov_offset=0x80, sriov_stride=2, ari=False,
              names=(INTEL, "82576 Gigabit Network Connection"))
        s.net("0000:02:00.0", "enp2s0", "00:1b:21:4a:9c:10", 3, speed=1000,
              phys_port_id=None)
        s.vf("0000:02:00.0", 0, driver="igbvf", iommu_group=10)   # 0000:02:10.0
        s.vf("0000:02:00.0", 1, driver="vfio-pci", iommu_group=11)  # 0000:02:10.2
        s.net("0000:02:10.0", "enp2s16", "b6:4a:13:2e:7f:01", 4, speed=1000)
        s.ensure_driver("pci", "vfio-pci", module="vfio_pci")

        # root port 00:1c.4 -> bus 03: NVMe
        s.pci("0000:00:1c.4", 0x8086, 0xa33c, 0x060400, driver="pcieport",
              iommu_group=12, link_cap=(3, 4), port=5, revision=0xf0,
              names=(INTEL, "Cannon Lake PCH PCI Express Root Port #5"))
        s.pci("0000:03:00.0", 0x144d, 0xa80a, 0x010802, driver="nvme",
              parent="0000:00:1c.4", iommu_group=13, link_cap=(4, 4), link_sta=(3, 4),
              subsys=(0x144d, 0xa801), numa=0,
              names=("Samsung Electronics Co Ltd", "NVMe SSD Controller PM9A1/PM9A3/980PRO"))
        s.nvme("0000:03:00.0", 0, partitions=[(1, 2048, 1953521664, {"ID_FS_TYPE": "xfs"})])

        # root port 00:1c.5 -> bus 04: Intel wireless (wlan)
        s.pci("0000:00:1c.5", 0x8086, 0xa33d, 0x060400, driver="pcieport",
              iommu_group=14, link_cap=(3, 1), port=6, revision=0xf0,
              names=(INTEL, "Cannon Lake PCH PCI Express Root Port #6"))
        s.pci("0000:04:00.0", 0x8086, 0x2526, 0x028000, driver="iwlwifi",
              parent="0000:00:1c.5", iommu_group=15, link_cap=(1, 1), revision=0x29,
              subsys=(0x8086, 0x0014),
              names=(INTEL, "Wireless-AC 9260"))
        # not associated: operstate down (an 'up' wlan would need a `speed`
        # that fails with EINVAL, which a plain file cannot do; libvirt 9.0
        # drops a netdev whose speed it cannot read)
        s.net("0000:04:00.0", "wlp4s0", "a0:a4:c5:12:34:56", 6, wireless=True,
              speed=None, operstate="down")

        # root port 00:1d.0 -> bus 05: Mellanox ConnectX-6 Dx with VPD
        vpd = build_vpd(
            "BlueField-2 DPU 25GbE Dual-Port SFP56, Crypto Enabled, 16GB on-board DDR, "
            "1GbE OOB management, Tall Bracket",
            ro_fields=[("PN", "MBF2H332A-AEEOT"), ("EC", "B1"), ("MN", "foobar"),
                       ("SN", "MT2113X00000"), ("V0", "PCIeGen4 x8"),
                       ("V2", "MBF2H332A-AEEOT"), ("V3", "3c53d07eec484d8aab34dabd24fe575aa"),
                       ("VA", "MLX:MN=MLNX:CSKU=V2:UUID=V3:PCI=V0:MODL=BF2H332A")],
            rw_fields=[("YA", "fooasset"), ("V0", "vendorfield0"), ("Y0", "systemfield0")],
            rw_spare=16)
        s.pci("0000:00:1d.0", 0x8086, 0xa330, 0x060400, driver="pcieport",
              iommu_group=16, link_cap=(3, 8), port=9, revision=0xf0,
              names=(INTEL, "Cannon Lake PCH PCI Express Root Port #9"))
        s.pci("0000:05:00.0", 0x15b3, 0xa2d6, 0x020000, driver="mlx5_core",
              parent="0000:00:1d.0", iommu_group=17, link_cap=(4, 8), link_sta=(3, 8),
              subsys=(0x15b3, 0x0083), numa=0, vpd=vpd, sriov_total=16,
              sriov_vf_device=0x101e, sriov_offset=2, sriov_stride=1,
              names=("Mellanox Technologies",
                     "MT42822 BlueField-2 integrated ConnectX-6 Dx network controller"))
        s.net("0000:05:00.0", "enp5s0f0np0", "0c:42:a1:00:00:10", 7, speed=25000,
              phys_port_name="p0", phys_switch_id="10000042a10c0000",
              path_name="enp5s0f0np0")

        # conventional PCI bridge 00:1e.0 -> bus 06: CardBus bridge
        s.pci("0000:00:1e.0", 0x8086, 0x244e, 0x060401, pcie=False, iommu_group=18,
              revision=0xf2, secondary=0x06, subordinate=0x07, names=(INTEL, "82801 PCI Bridge"))
        s.pci("0000:06:00.0", 0x1180, 0x0476, 0x060700, driver="yenta_cardbus",
              parent="0000:00:1e.0", pcie=False, iommu_group=18, revision=0xb4,
              secondary=0x07, subordinate=0x07,
              subsys=(0x17aa, 0x20c6),
              names=("Ricoh Co Ltd", "RL5c476 II"))

        # PCH multi-function device 00:1f.x, one shared IOMMU group
        s.pci("0000:00:1f.0", 0x8086, 0xa306, 0x060100, pcie=False, revision=0x10,
              subsys=(0x17aa, 0x1039), names=(INTEL, "Q370 Chipset LPC/eSPI Controller"))
        s.pci("0000:00:1f.3", 0x8086, 0xa348, 0x040300, driver="snd_hda_intel",
              pcie=False, revision=0x10, subsys=(0x17aa, 0x1039),
              names=(INTEL, "Cannon Lake PCH cAVS"))
        s.pci("0000:00:1f.4", 0x8086, 0xa323, 0x0c0500, driver="i801_smbus",
              pcie=False, revision=0x10, subsys=(0x17aa, 0x1039),
              names=(INTEL, "Cannon Lake PCH SMBus Controller"))
        s.pci("0000:00:1f.6", 0x8086, 0x15bc, 0x020000, driver="e1000e",
              pcie=False, revision=0x10, subsys=(0x17aa, 0x1039),
              attrs={"label": "Onboard LAN", "index": "1", "acpi_index": "1"},
              names=(INTEL, "Ethernet Connection (7) I219-V"))
        s.iommu_group(19, ["0000:00:1f.0", "0000:00:1f.3", "0000:00:1f.4",
                           "0000:00:1f.6"])
        s.net("0000:00:1f.6", "eno1", "98:fa:9b:11:22:33", 2, speed=1000,
              path_name="enp0s31f6", db={"ID_NET_NAME_ONBOARD": "eno1",
                                         "ID_NET_LABEL_ONBOARD": "Onboard LAN"})

        # virtual devices
        s.net(None, "lo", "00:00:00:00:00:00", 1, speed=None, operstate="unknown")
        s.mtty(instances=[(MTTY_UUID, "mtty-1", 21)])
        s.vdpa(None, "vdpa0", 0)


def build_minimal(out):
    with Sysroot(out) as s:
        s.dmi(sys_vendor="QEMU", product_name="Standard PC (Q35 + ICH9, 2009)",
              product_version="pc-q35-7.2", product_serial="",
              product_uuid="d4a5e3c2-9f1b-4b8e-8a0d-1f2e3d4c5b6a",
              bios_vendor="SeaBIOS", bios_version="1.16.2-debian-1.16.2-1",
              bios_date="04/01/2014", board_vendor=None, board_name=None,
              board_version=None, board_serial=None, chassis_vendor="QEMU",
              chassis_type="1", chassis_version="pc-q35-7.2", chassis_serial=None,
              product_family=None, product_sku=None, bios_release="0.0")
        # q35's host bridge: a 4096-byte config file (it sits on a PCI
        # Express root bus) without a capability list (Status: Cap-);
        # libvirt goes by the file size and reports <pci-express/>
        s.pci("0000:00:00.0", 0x8086, 0x29c0, 0x060000, pcie=False, iommu_group=0,
              revision=0x00, subsys=(0x1af4, 0x1100), pm=False, msi=False, cfg_size=4096,
              names=(INTEL, "82G33/G31/P35/P31 Express DRAM Controller"))
        s.pci("0000:00:02.0", 0x1b36, 0x000c, 0x060400, driver="pcieport",
              iommu_group=1, link_cap=(1, 1), port=16, subsys=(0x1b36, 0x0000),
              names=("Red Hat, Inc.", "QEMU PCIe Root port"))
        s.pci("0000:01:00.0", 0x8086, 0x10d3, 0x020000, driver="e1000e",
              parent="0000:00:02.0", iommu_group=2, link_cap=(1, 1),
              subsys=(0x8086, 0x0000), revision=0x00,
              names=(INTEL, "82574L Gigabit Network Connection"))
        s.net("0000:01:00.0", "enp1s0", "52:54:00:12:34:56", 2, speed=1000)
        # a virtio NIC: its link is up but its speed file reads -1, which
        # libvirt prints as speed='4294967295'
        s.pci("0000:00:03.0", 0x1af4, 0x1000, 0x020000, driver="virtio-pci", pcie=False,
              iommu_group=4, revision=0x00, subsys=(0x1af4, 0x0001),
              names=("Red Hat, Inc.", "Virtio network device"))
        s.net("0000:00:03.0", "enp0s3", "52:54:00:ab:cd:ef", 3, speed=-1)
        s.pci("0000:00:1f.2", 0x8086, 0x2922, 0x010601, driver="ahci", pcie=False,
              iommu_group=3, revision=0x02, subsys=(0x1af4, 0x1100),
              names=(INTEL, "82801IR/IO/IH (ICH9R/DO/DH) 6 port SATA Controller [AHCI mode]"))
        s.scsi_host("0000:00:1f.2", 0, via="ata1", proc_name="ahci")
        s.scsi_disk(0, 0, 0, "sda", 0, 0, 41943040, vendor="ATA", model="QEMU HARDDISK",
                    rev="2.5+", serial="QM00001", id_path="pci-0000:00:1f.2-ata-1")


def build_broken(out):
    """Robustness fixture: a small valid host plus many kinds of damage.
    libudev still enumerates it (udev_enumerate_scan_devices() returns 0);
    every damaged device is listed in expected.json "damage"."""
    s = Sysroot(out)
    s.dmi(product_serial=None, product_uuid=None)
    s.pci("0000:00:00.0", 0x8086, 0x3e30, 0x060000, pcie=False, iommu_group=0)
    s.pci("0000:00:1c.0", 0x8086, 0xa338, 0x060400, driver="pcieport",
          iommu_group=1)
    # a healthy NIC to prove the rest still enumerates
    s.pci("0000:01:00.0", 0x8086, 0x10d3, 0x020000, driver="e1000e",
          parent="0000:00:1c.0", iommu_group=2, link_cap=(1, 1))
    s.net("0000:01:00.0", "enp1s0", "52:54:00:aa:bb:cc", 2)
    # 01:00.1 non-numeric class, garbage numa_node, empty vendor
    s.pci("0000:01:00.1", 0x8086, 0x10d3, 0x020000, parent="0000:00:1c.0",
          attrs={"class": "0xZZZZZZ", "numa_node": "banana", "vendor": ""})
    s.damage("0000:01:00.1", "class attr '0xZZZZZZ', numa_node 'banana', vendor empty")
    # 01:00.2 dangling driver link and dangling iommu_group link
    s.pci("0000:01:00.2", 0x8086, 0x10d3, 0x020000, parent="0000:00:1c.0")
    p = s.pci_path("0000:01:00.2")
    os.symlink("../../../../bus/pci/drivers/no_such_driver", p + "/driver")
    os.symlink("../../../../kernel/iommu_groups/999", p + "/iommu_group")
    s.damage("0000:01:00.2", "driver -> missing drivers/no_such_driver (libudev "
             "still reports driver 'no_such_driver'); iommu_group -> missing group 999")
    # 01:00.3 unreadable attributes: 'device' is a directory (EISDIR for
    # everyone), 'revision' mode 000 (EACCES for non-root)
    s.pci("0000:01:00.3", 0x8086, 0x10d3, 0x020000, parent="0000:00:1c.0",
          attrs={"device": None})
    p = s.pci_path("0000:01:00.3")
    os.mkdir(p + "/device")
    os.chmod(p + "/revision", 0)
    s.damage("0000:01:00.3", "'device' is a directory (read: EISDIR); 'revision' "
             "mode 000 (EACCES unless privileged)")
    # 01:00.4 SR-IOV PF whose virtfn0 dangles and virtfn1 points at a
    # device without physfn; sriov_totalvfs empty, sriov_numvfs garbage
    s.pci("0000:01:00.4", 0x8086, 0x10c9, 0x020000, parent="0000:00:1c.0",
          attrs={"sriov_totalvfs": "", "sriov_numvfs": "x"})
    p = s.pci_path("0000:01:00.4")
    os.symlink("../0000:01:10.0", p + "/virtfn0")
    os.symlink("../0000:01:00.0", p + "/virtfn1")
    s.damage("0000:01:00.4", "virtfn0 dangling, virtfn1 -> 01:00.0 (no physfn "
             "back link), sriov_totalvfs empty, sriov_numvfs 'x'")
    # 01:00.5 physfn dangling, vpd with bad checksum
    s.pci("0000:01:00.5", 0x8086, 0x10ca, 0x020000, parent="0000:00:1c.0",
          vpd=build_vpd("Broken VPD", [("PN", "X1"), ("SN", "Y2")], bad_checksum=True))
    os.symlink("../0000:01:00.7", s.pci_path("0000:01:00.5") + "/physfn")
    s.damage("0000:01:00.5", "physfn -> 01:00.7 which is not a PF; VPD RV "
             "checksum wrong")
    # 01:00.6 truncated VPD, mdev types with missing files and an mdev whose
    # mdev_type link dangles
    s.pci("0000:01:00.6", 0x8086, 0x3e92, 0x030000, parent="0000:00:1c.0",
          vpd=b"\x82\x40\x00Trunc")
    s.mdev_types("0000:01:00.6", [dict(id="t-ok", name="ok", available=2),
                                  dict(id="t-noname", name=None, available="lots")])
    p = s.pci_path("0000:01:00.6")
    os.unlink(p + "/mdev_supported_types/t-noname/device_api")
    s.mdev("0000:01:00.6", "11111111-2222-3333-4444-555555555555", "t-ok")
    mp = p + "/11111111-2222-3333-4444-555555555555"
    os.unlink(mp + "/mdev_type")
    os.symlink("../mdev_supported_types/t-gone", mp + "/mdev_type")
    s.damage("0000:01:00.6", "VPD truncated inside the 0x82 tag; mdev type "
             "t-noname has no name/device_api and available_instances 'lots'")
    s.damage(mp, "mdev_type -> missing type t-gone; no iommu_group")
    # 01:00.7 device dir without uevent (libudev ignores it), cap-list loop
    s.pci("0000:01:00.7", 0x8086, 0x10d3, 0x020000, parent="0000:00:1c.0")
    p = s.pci_path("0000:01:00.7")
    os.unlink(p + "/uevent")
    s.damage("0000:01:00.7", "no uevent file (not a device for libudev); config "
             "capability list loops (cap at 0x40 points to itself)")

    # bus/pci/devices entries that are broken themselves
    bd = s.s("bus/pci/devices")
    os.symlink("../../../devices/pci0000:00/0000:00:1c.0/0000:01:1f.0",
               bd + "/0000:01:1f.0")
    s.damage("/sys/bus/pci/devices/0000:01:1f.0", "dangling bus link")
    os.symlink("../../../devices/pci0000:00/0000:00:1c.0", bd + "/not-a-bdf")
    s.damage("/sys/bus/pci/devices/not-a-bdf", "second link to 00:1c.0 under a "
             "name that is not a BDF")
    with open(bd + "/stray-file", "w") as f:
        f.write("x\n")
    s.damage("/sys/bus/pci/devices/stray-file", "regular file, not a link")
    # a dangling subsystem link on a device
    s.pci("0000:00:1f.0", 0x8086, 0xa306, 0x060100, pcie=False)
    p = s.pci_path("0000:00:1f.0")
    os.unlink(p + "/subsystem")
    os.symlink("../../../bus/nonexistent", p + "/subsystem")
    s.damage("0000:00:1f.0", "subsystem -> missing bus/nonexistent (libudev "
             "reports subsystem 'nonexistent' and does not load its db entry)")
    # odd uevent: no trailing newline, junk lines, duplicate keys, huge value
    s.pci("0000:00:1f.3", 0x8086, 0xa348, 0x040300, pcie=False)
    with open(s.pci_path("0000:00:1f.3") + "/uevent", "w") as f:
        f.write("PCI_CLASS=40300\nJUNKLINE\n=novalue\nPCI_ID=8086:A348\n"
                "PCI_ID=DEAD:BEEF\nPCI_SLOT_NAME=0000:00:1f.3\nMODALIAS=" + "x" * 5000)
    s.damage("0000:00:1f.3", "uevent: junk lines, duplicate PCI_ID (last wins "
             "in libudev), 5000-byte MODALIAS without trailing newline (libudev "
             "drops the over-long line), no PCI_SUBSYS_ID")

    # config space oddities
    s.pci("0000:00:1f.4", 0x8086, 0xa323, 0x0c0500, pcie=False)
    s.pci("0000:00:1f.5", 0x8086, 0xa324, 0x0c8000, pcie=False)
    s.pci("0000:00:1f.6", 0x8086, 0x15bc, 0x020000, pcie=True, pcie_type=0)

    # net: empty address, missing addr_len, garbage speed
    s.net("0000:01:00.1", "enp1s0f1", "52:54:00:aa:bb:cd", 3)
    np_ = s.pci_path("0000:01:00.1") + "/net/enp1s0f1"
    with open(np_ + "/address", "w"):
        pass
    os.unlink(np_ + "/addr_len")
    with open(np_ + "/speed", "w") as f:
        f.write("fast\n")
    s.damage(np_, "address empty, addr_len missing, speed 'fast'")
    # block: non-numeric size, missing queue dir; scsi device with empty type
    s.pci("0000:00:17.0", 0x8086, 0xa352, 0x010601, driver="ahci", pcie=False)
    s.scsi_host("0000:00:17.0", 0, via="ata1")
    dp = s.scsi_disk(0, 0, 0, "sda", 0, 0, 1000, partitions=[(1, 2048, 500)])
    bp = dp + "/block/sda"
    with open(bp + "/size", "w") as f:
        f.write("lots\n")
    shutil.rmtree(bp + "/queue")
    s.damage(bp, "size 'lots', no queue/ directory")
    with open(dp + "/type", "w"):
        pass
    s.damage(dp, "type attribute empty")
    # USB device without busnum attr, with junk in devnum
    s.pci("0000:00:14.0", 0x8086, 0xa36d, 0x0c0330, driver="xhci_hcd", pcie=False)
    s.usb_device("0000:00:14.0", 1, 1, 0x1d6b, 0x0002, cls=9, maxchild=2,
                 product_name="xHCI Host Controller")
    s.usb_device("usb1", 1, 2, 0x1234, 0x5678, port=1)
    up = s.usbs["1-1"]
    os.unlink(up + "/busnum")
    with open(up + "/devnum", "w") as f:
        f.write("two\n")
    s.damage("1-1", "busnum attr missing, devnum 'two' (uevent BUSNUM/DEVNUM fine)")
    s.finish()

    # after finish(): damage that finish() would overwrite
    with open(s.pci_path("0000:00:1f.4") + "/config", "wb") as f:
        f.write(bytes.fromhex("86802312"))
    s.damage("0000:00:1f.4", "config only 4 bytes long")
    with open(s.pci_path("0000:01:00.7") + "/config", "r+b") as f:
        f.seek(0x34)
        f.write(b"\x40")
        f.seek(0x40)
        f.write(b"\x01\x40")
    with open(s.pci_path("0000:00:1f.5") + "/config", "r+b") as f:
        f.seek(0x0e)
        f.write(b"\x7f")
        f.seek(0x34)
        f.write(b"\xfe")
    s.damage("0000:00:1f.5", "config header type 0x7f (unknown), capability "
             "pointer 0xfe (past the 256-byte header)")
    open(s.pci_path("0000:00:1f.6") + "/config", "wb").close()
    s.damage("0000:00:1f.6", "config empty (0 bytes)")
    # udev db: garbage lines in a db file, and a db file for an unknown device
    with open(os.path.join(s.udev, "data", "+pci:0000:01:00.0"), "a") as f:
        f.write("garbage without colon\nZ:unknown-type\nE:NOVALUE\n")
    s.damage("0000:01:00.0", "udev db entry has garbage lines appended (libudev "
             "ignores them; the healthy properties must still be read)")
    with open(os.path.join(s.udev, "data", "+pci:0000:99:00.0"), "w") as f:
        f.write("I:1\nE:ID_VENDOR_FROM_DATABASE=Ghost\n")
    s.damage("/run/udev/data/+pci:0000:99:00.0", "db entry for a device that does not exist")
    # iommu group dir with a dangling member, group without devices dir
    g = s.s("kernel/iommu_groups/50")
    os.makedirs(g + "/devices")
    os.symlink("../../../../devices/pci0000:00/0000:00:09.0", g + "/devices/0000:00:09.0")
    os.makedirs(s.s("kernel/iommu_groups/51"))
    s.damage("/sys/kernel/iommu_groups/50", "member link dangling")
    s.damage("/sys/kernel/iommu_groups/51", "no devices/ directory")
    # class/net entry pointing nowhere
    os.symlink("../../devices/virtual/net/ghost0", s.s("class/net/ghost0"))
    s.damage("/sys/class/net/ghost0", "dangling class link")
    s.write_expected()


def build_hostile(out):
    """minimal + a symlink loop in sys/bus/pci/devices: libudev's
    udev_enumerate_scan_devices() returns -ELOOP (it still collects the other
    devices, but libvirt 9.0 treats any non-zero return as fatal and lists
    nothing but 'computer')."""
    build_minimal(out)
    bd = os.path.join(out, "sys", "bus", "pci", "devices")
    os.symlink("0000:00:ff.1", bd + "/0000:00:ff.0")
    os.symlink("0000:00:ff.0", bd + "/0000:00:ff.1")
    os.symlink("self-loop", os.path.join(out, "sys", "class", "net", "self-loop"))


def build_boot(out):
    """Boot-time passthrough: a GPU with its HDMI audio in one group, two
    identical e1000e NICs, an igb NIC with the default route, the boot VGA
    device, the AHCI controller of the root disk; an Intel IOMMU (ACPI DMAR)
    that is on.  proc/ holds what host safety and doctor read."""
    with Sysroot(out) as s:
        s.dmi(sys_vendor="QEMU", product_name="Standard PC (Q35 + ICH9, 2009)",
              product_version="pc-q35-7.2", product_serial="",
              product_uuid="d4a5e3c2-9f1b-4b8e-8a0d-1f2e3d4c5b6b",
              bios_vendor="SeaBIOS", bios_version="1.16.2-debian-1.16.2-1",
              bios_date="04/01/2014", board_vendor=None, board_name=None,
              board_version=None, board_serial=None, chassis_vendor="QEMU",
              chassis_type="1", chassis_version="pc-q35-7.2", chassis_serial=None,
              product_family=None, product_sku=None, bios_release="0.0")
        s.pci("0000:00:00.0", 0x8086, 0x29c0, 0x060000, pcie=False, iommu_group=0,
              subsys=(0x1af4, 0x1100), names=(INTEL, "82G33/G31/P35/P31 Express DRAM Controller"))
        for n, grp in ((1, 1), (2, 3), (3, 5), (4, 7)):
            s.pci("0000:00:%02x.0" % n, 0x1b36, 0x000c, 0x060400, driver="pcieport",
                  iommu_group=grp, link_cap=(1, 1), port=16 + n, subsys=(0x1b36, 0x0000),
                  names=("Red Hat, Inc.", "QEMU PCIe Root port"))
        s.pci("0000:01:00.0", 0x10de, 0x1b80, 0x030000, driver="nouveau",
              parent="0000:00:01.0", link_cap=(3, 16), subsys=(0x1458, 0x3702), flr=False,
              names=("NVIDIA Corporation", "GP104 [GeForce GTX 1080]"))
        s.pci("0000:01:00.1", 0x10de, 0x10f0, 0x040300, driver="snd_hda_intel",
              parent="0000:00:01.0", link_cap=(3, 16), subsys=(0x1458, 0x3702), flr=False,
              names=("NVIDIA Corporation", "GP104 High Definition Audio Controller"))
        s.iommu_group(2, ["0000:01:00.0", "0000:01:00.1"])
        for bus, grp, mac, idx in ((2, 4, "52:54:00:12:34:02", 2), (3, 6, "52:54:00:12:34:03", 3)):
            a = "0000:%02x:00.0" % bus
            s.pci(a, 0x8086, 0x10d3, 0x020000, driver="e1000e", module="e1000e", parent="0000:00:%02x.0" % bus,
                  iommu_group=grp, link_cap=(1, 1), subsys=(0x8086, 0x0000),
                  names=(INTEL, "82574L Gigabit Network Connection"))
            s.net(a, "enp%ds0" % bus, mac, idx, speed=1000)
        s.pci("0000:04:00.0", 0x8086, 0x1521, 0x020000, driver="igb", parent="0000:00:04.0",
              iommu_group=8, link_cap=(2, 4), subsys=(0x8086, 0x0001),
              names=(INTEL, "I350 Gigabit Network Connection"))
        s.net("0000:04:00.0", "enp4s0", "52:54:00:12:34:04", 4, speed=1000)
        s.pci("0000:00:05.0", 0x1234, 0x1111, 0x030000, driver="bochs-drm", pcie=False,
              iommu_group=9, attrs={"boot_vga": "1"}, subsys=(0x1af4, 0x1100),
              names=("QEMU", "Standard VGA"))
        s.pci("0000:00:1f.2", 0x8086, 0x2922, 0x010601, driver="ahci", pcie=False,
              iommu_group=10, subsys=(0x1af4, 0x1100),
              names=(INTEL, "82801IR/IO/IH (ICH9R/DO/DH) 6 port SATA Controller [AHCI mode]"))
        s.scsi_host("0000:00:1f.2", 0, via="ata1", proc_name="ahci")
        s.scsi_disk(0, 0, 0, "sda", 0, 0, 41943040, vendor="ATA", model="QEMU HARDDISK",
                    rev="2.5+", serial="QM00001", id_path="pci-0000:00:1f.2-ata-1",
                    partitions=[(1, 2048, 1048576), (2, 1050624, 40000000)])
    files = {
        "sys/firmware/acpi/tables/DMAR": "DMAR",
        "proc/self/mountinfo": "22 1 8:2 / / rw,relatime shared:1 - ext4 /dev/sda2 rw\n",
        "proc/net/route": "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
                          "enp4s0\t00000000\t0102A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n",
        "proc/cmdline": "BOOT_IMAGE=/vmlinuz-6.1.0-28-amd64 root=/dev/sda2 ro quiet\n",
        "proc/cpuinfo": "processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu vme de pse msr pae vmx ept\n",
        "proc/interrupts": "            CPU0\n 24:          0  IR-PCI-MSI 512000-edge      ahci[0000:00:1f.2]\n",
        "proc/sys/kernel/osrelease": "6.1.0-28-amd64\n",
        "lib/modules/6.1.0-28-amd64/modules.dep":
            "kernel/drivers/vfio/pci/vfio-pci.ko: kernel/drivers/vfio/pci/vfio-pci-core.ko\n",
    }
    for rel, text in files.items():
        path = os.path.join(out, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)


CASES = {
    "full": build_full,
    "minimal": build_minimal,
    "broken": build_broken,
    "hostile": build_hostile,
    "boot": build_boot,
}


def _host_facts(out):
    """What host safety reads besides sys/: no mounts, no swap, no routes.
    Without them hostdev reports the safety facts as unknown (a capture)."""
    for rel, text in (("proc/self/mountinfo", ""),
                      ("proc/swaps", "Filename\tType\tSize\tUsed\tPriority\n"),
                      ("proc/net/route", "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\t"
                                         "Metric\tMask\t\tMTU\tWindow\tIRTT\n")):
        p = os.path.join(out, rel)
        if os.path.lexists(p):
            continue  # the case wrote its own (a mount, a default route)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)


def _rmtree(p):
    def onerr(func, path, exc):
        os.chmod(os.path.dirname(path), stat.S_IRWXU)
        try:
            os.chmod(path, stat.S_IRWXU)
        except OSError:
            pass
        func(path)
    if os.path.lexists(p):
        shutil.rmtree(p, onerror=onerr)


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        sys.stderr.write(__doc__)
        return 2
    out = argv[1]
    names = argv[2:] or list(CASES)
    for n in names:
        if n not in CASES:
            sys.stderr.write("unknown case %r (known: %s)\n" % (n, ", ".join(CASES)))
            return 2
    os.makedirs(out, exist_ok=True)
    for n in names:
        d = os.path.join(out, n)
        _rmtree(d)
        CASES[n](d)
        _host_facts(d)
        print("built %s" % d)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
