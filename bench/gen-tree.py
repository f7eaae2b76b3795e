#!/usr/bin/env python3
"""Generate a large synthetic sysroot for benchmarks.

    python3 bench/gen-tree.py --pci N [--vfs 7] [--nvme-every 6] OUTDIR

Builds OUTDIR/{sys,run/udev,dev,expected.json} with exactly N PCI functions
(host bridges, root ports, switch ports and endpoints all count), made of
repeating units under realistic root complexes:

  nic   root port + SR-IOV PF (igb-like, sriov_totalvfs = --vfs) + its VFs,
        all VFs created; the PF and the VFs bound to the VF driver have
        netdevs; the rest of the VFs are bound to vfio-pci
  nvme  root port + PCIe switch (upstream + 4 downstream ports) + 4 NVMe
        controllers, each with nvme<k> and namespace nvme<k>n1 (+ partition);
        every second switch lacks ACS so its 4 controllers share an IOMMU group
  gpu   root port + GPU + HDMI audio function (shared IOMMU group) + DRM

Put OUTDIR on a tmpfs (/dev/shm, /run/user/...) for speed: N=5000 writes
about 370k small files (10 s on tmpfs; minutes on a busy disk).

Root complexes pciDDDD:BB sit at BB = 00, 40, 80, c0 in each PCI segment; a
new segment (domain) starts when those are full. Every endpoint and port has
its own IOMMU group unless noted above. Deterministic output.
"""

import argparse
import os
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "fakesys"))

from fakesys import Sysroot, PCIE_TYPE_DOWNSTREAM  # noqa: E402

ROOT_BUSES = (0x00, 0x40, 0x80, 0xc0)
BUSES_PER_RC = 0x40
SLOTS = [(d, f) for d in range(1, 0x1f) for f in range(0, 8)]  # root port devfns


class Gen(object):
    def __init__(self, s, vfs, nvme_every, gpu_every):
        self.s = s
        self.vfs = vfs
        self.nvme_every = nvme_every
        self.gpu_every = gpu_every
        self.group = 0
        self.ifindex = 2
        self.nvme_n = 0
        self.card = 0
        self.unit = 0
        self.domain = 0
        self.rc_idx = -1
        self.rc_bus = None
        self.next_bus = None
        self.next_slot = 0
        self.stats = dict(host_bridges=0, root_ports=0, switch_ports=0, pfs=0,
                          vfs=0, nvme=0, gpus=0, gpu_audio=0, rciep=0, net=0,
                          block=0, shared_groups=0)

    def g(self):
        self.group += 1
        return self.group - 1

    def mac(self, n):
        return "02:%02x:%02x:%02x:%02x:%02x" % (
            (n >> 32) & 0xff, (n >> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff)

    def new_rc(self):
        """Start the next root complex; returns the number of functions used."""
        self.rc_idx += 1
        if self.rc_idx >= len(ROOT_BUSES):
            self.rc_idx = 0
            self.domain += 1
        self.rc_bus = ROOT_BUSES[self.rc_idx]
        self.next_bus = self.rc_bus + 1
        self.next_slot = 0
        hb = "%04x:%02x:00.0" % (self.domain, self.rc_bus)
        self.s.pci(hb, 0x1022, 0x1480, 0x060000, pcie=False, iommu_group=self.g(),
                   subsys=(0x1022, 0x1480),
                   names=("Advanced Micro Devices, Inc. [AMD]",
                          "Starship/Matisse Root Complex"))
        self.stats["host_bridges"] += 1
        return 1

    def fits(self, buses):
        return (self.rc_bus is not None and self.next_slot < len(SLOTS)
                and self.next_bus + buses <= self.rc_bus + BUSES_PER_RC)

    def root_port(self, buses, gen=4, width=16):
        d, f = SLOTS[self.next_slot]
        self.next_slot += 1
        addr = "%04x:%02x:%02x.%x" % (self.domain, self.rc_bus, d, f)
        sec = self.next_bus
        self.next_bus += buses
        self.s.pci(addr, 0x1022, 0x1483, 0x060400, driver="pcieport",
                   iommu_group=self.g(), link_cap=(gen, width), port=self.next_slot,
                   secondary=sec, subordinate=sec + buses - 1,
                   names=("Advanced Micro Devices, Inc. [AMD]",
                          "Starship/Matisse GPP Bridge"))
        self.stats["root_ports"] += 1
        return addr, sec

    def bdf(self, bus, dev, fn):
        return "%04x:%02x:%02x.%x" % (self.domain, bus, dev, fn)

    # -------------------------------------------------------------- units
    def nic(self, nvfs):
        rp, bus = self.root_port(1, gen=3, width=8)
        pf = self.bdf(bus, 0, 0)
        self.s.pci(pf, 0x8086, 0x1521, 0x020000, driver="igb", parent=rp,
                   iommu_group=self.g(), link_cap=(2, 4), subsys=(0x8086, 0x0001),
                   sriov_total=self.vfs, sriov_vf_device=0x1520, sriov_offset=0x80,
                   sriov_stride=1, numa=self.domain % 2, revision=0x01,
                   names=("Intel Corporation", "I350 Gigabit Network Connection"))
        self.stats["pfs"] += 1
        self.s.net(pf, "enp%ds0" % bus if self.domain == 0 else
                   "enP%dp%ds0" % (self.domain, bus), self.mac(self.ifindex),
                   self.ifindex, speed=1000)
        self.ifindex += 1
        self.stats["net"] += 1
        for i in range(nvfs):
            bound = i % 2 == 0
            va = self.s.vf(pf, i, driver="igbvf" if bound else "vfio-pci",
                           iommu_group=self.g())
            self.stats["vfs"] += 1
            if bound:
                self.s.net(va, "enp%ds16f%d" % (bus, i) if self.domain == 0 else
                           "enP%dp%ds16f%d" % (self.domain, bus, i),
                           self.mac(self.ifindex), self.ifindex, speed=1000)
                self.ifindex += 1
                self.stats["net"] += 1
        return 2 + nvfs

    def nvme_switch(self, ndev):
        """root port + upstream + ndev downstream ports + ndev NVMe."""
        buses = 2 + ndev
        rp, bus = self.root_port(buses, gen=4, width=16)
        up = self.bdf(bus, 0, 0)
        self.s.pci(up, 0x1000, 0xc010, 0x060400, driver="pcieport", parent=rp,
                   iommu_group=self.g(), link_cap=(4, 16), secondary=bus + 1,
                   subordinate=bus + 1 + ndev,
                   names=("Broadcom / LSI", "PEX880xx PCIe Gen 4 Switch"))
        self.stats["switch_ports"] += 1
        no_acs = (self.unit // self.nvme_every) % 2 == 1
        shared = self.g() if no_acs else None
        if shared is not None:
            self.stats["shared_groups"] += 1
        for i in range(ndev):
            dn = self.bdf(bus + 1, i, 0)
            self.s.pci(dn, 0x1000, 0xc010, 0x060400, driver="pcieport", parent=up,
                       pcie_type=PCIE_TYPE_DOWNSTREAM, acs=not no_acs,
                       iommu_group=shared if no_acs else self.g(), link_cap=(4, 4),
                       port=i, secondary=bus + 2 + i, subordinate=bus + 2 + i,
                       names=("Broadcom / LSI", "PEX880xx PCIe Gen 4 Switch"))
            self.stats["switch_ports"] += 1
            ep = self.bdf(bus + 2 + i, 0, 0)
            self.s.pci(ep, 0x144d, 0xa824, 0x010802, driver="nvme", parent=dn,
                       iommu_group=shared if no_acs else self.g(), link_cap=(4, 4),
                       subsys=(0x144d, 0xa809), numa=self.domain % 2,
                       names=("Samsung Electronics Co Ltd",
                              "NVMe SSD Controller PM173X"))
            self.s.nvme(ep, self.nvme_n, model="SAMSUNG MZWLJ3T8HBLS-00007",
                        serial="S4YPNE0N%06d" % self.nvme_n, firmware="EPK9GB5Q",
                        namespaces=((1, 7501476528),),
                        partitions=[(1, 2048, 7501474480)])
            self.nvme_n += 1
            self.stats["nvme"] += 1
            self.stats["block"] += 1
        return 2 + 2 * ndev

    def gpu(self):
        rp, bus = self.root_port(1, gen=4, width=16)
        g = self.g()
        self.stats["shared_groups"] += 1
        v = self.bdf(bus, 0, 0)
        a = self.bdf(bus, 0, 1)
        self.s.pci(v, 0x10de, 0x2204, 0x030000, driver="nvidia", parent=rp,
                   iommu_group=g, link_cap=(4, 16), subsys=(0x10de, 0x1454),
                   flr=False, names=("NVIDIA Corporation", "GA102 [GeForce RTX 3090]"))
        self.s.pci(a, 0x10de, 0x1aef, 0x040300, driver="snd_hda_intel", parent=rp,
                   iommu_group=g, link_cap=(4, 16), subsys=(0x10de, 0x1454),
                   flr=False, names=("NVIDIA Corporation", "GA102 High Definition Audio Controller"))
        self.s.drm(v, card=self.card, render=128 + self.card, connectors=())
        self.card += 1
        self.stats["gpus"] += 1
        self.stats["gpu_audio"] += 1
        return 3

    def rciep(self):
        d = 0x1f - (self.next_slot % 8)
        addr = self.bdf(self.rc_bus, 0x1f, 7 - (self.stats["rciep"] % 8)) \
            if False else self.bdf(self.rc_bus, d, 7)
        self.s.pci(addr, 0x1022, 0x1498, 0x130000, pcie=False, iommu_group=self.g(),
                   names=("Advanced Micro Devices, Inc. [AMD]",
                          "Starship/Matisse PTDMA"))
        self.stats["rciep"] += 1
        return 1

    def run(self, n):
        left = n
        left -= self.new_rc()
        nic_size = 2 + self.vfs
        while left > 0:
            if left == 1:
                left -= self.rciep()
                break
            kind = "nic"
            if self.nvme_every and self.unit % self.nvme_every == self.nvme_every - 1:
                kind = "nvme"
            elif self.gpu_every and self.unit % self.gpu_every == self.gpu_every - 1:
                kind = "gpu"
            size = {"nic": nic_size, "nvme": 10, "gpu": 3}[kind]
            buses = {"nic": 1 + (self.vfs + 0x80) // 256, "nvme": 6, "gpu": 1}[kind]
            if size > left:
                kind, size, buses = "nic", left, 1
            if not self.fits(buses):
                left -= self.new_rc()
                continue
            if kind == "nic":
                left -= self.nic(size - 2)
            elif kind == "nvme":
                left -= self.nvme_switch(4)
            else:
                left -= self.gpu()
            self.unit += 1
        return n - left


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pci", type=int, required=True, help="total PCI functions")
    ap.add_argument("--vfs", type=int, default=7, help="VFs per NIC PF (default 7)")
    ap.add_argument("--nvme-every", type=int, default=6,
                    help="every Nth unit is an NVMe switch (0: never)")
    ap.add_argument("--gpu-every", type=int, default=10,
                    help="every Nth unit is a GPU+audio (0: never)")
    ap.add_argument("--no-manifest", action="store_true",
                    help="skip OUTDIR/expected.json")
    ap.add_argument("outdir")
    a = ap.parse_args()
    if a.pci < 1:
        ap.error("--pci must be >= 1")
    if not 0 <= a.vfs <= 120:
        ap.error("--vfs must be 0..120")
    t0 = time.time()
    if os.path.lexists(a.outdir):
        shutil.rmtree(a.outdir)
        print("gen-tree: removed the old %s in %.1f s" % (a.outdir, time.time() - t0))
        t0 = time.time()
    s = Sysroot(a.outdir, write_manifest=not a.no_manifest)
    s.dmi(sys_vendor="Supermicro", product_name="AS -2124US-TNRP",
          product_version="0123456789", product_serial="S123456X1234567",
          product_uuid="00000000-0000-0000-0000-3cecef123456",
          bios_vendor="American Megatrends Inc.", bios_version="2.3",
          bios_date="03/14/2022", board_vendor="Supermicro", board_name="H12DSU-iN")
    s.net(None, "lo", "00:00:00:00:00:00", 1, speed=None, operstate="unknown")
    g = Gen(s, a.vfs, a.nvme_every, a.gpu_every)
    total = g.run(a.pci)
    s.finish()
    dt = time.time() - t0
    st = g.stats
    print("gen-tree: %s" % os.path.abspath(a.outdir))
    print("  pci functions    %d (host bridges %d, root ports %d, switch ports %d,"
          " PFs %d, VFs %d, NVMe %d, GPUs %d + audio %d, other %d)" % (
              total, st["host_bridges"], st["root_ports"], st["switch_ports"],
              st["pfs"], st["vfs"], st["nvme"], st["gpus"], st["gpu_audio"],
              st["rciep"]))
    print("  pci segments     %d, root complexes %d" % (
        g.domain + 1, st["host_bridges"]))
    print("  net interfaces   %d (+lo)" % st["net"])
    print("  nvme namespaces  %d" % st["block"])
    print("  iommu groups     %d (%d shared by several devices)" % (
        len(s.groups), sum(1 for v in s.groups.values() if len(v) > 1)))
    print("  devices total    %d (all subsystems, udev-visible)" % len(s.devices))
    print("  built in         %.1f s" % dt)
    assert total == a.pci == len(s.pcis), (total, a.pci, len(s.pcis))
    return 0


if __name__ == "__main__":
    sys.exit(main())
