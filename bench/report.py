#!/usr/bin/env python3
"""Tables of bench/run.sh's results.tsv (N, metric, value): wall-clock
medians, CPU time, ratios against the targets with PASS/MISS, single-device
times, peak RSS, syscall counts, growth.  A report, not a test."""

import sys


def main():
    rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])][1:]
    data = {}
    for n, k, v in rows:
        data.setdefault(int(n), {})[k] = v
    ns = sorted(data)

    def f(n, k):
        v = data[n].get(k)
        try:
            return float(v)
        except (TypeError, ValueError):
            return None

    def pf(ok):
        return "PASS" if ok else "MISS"

    def ratio(a, b):
        return a / b if a is not None and b else None

    out = []
    p = out.append
    p("\nWall-clock ms, median of the rounds [CPU ms, user+sys]; live = no --sysroot, in a mount namespace")
    p("with the tree over /sys, /run/udev and /dev; sr = --sysroot; libvirt = libvirtd spawn -> first list.\n")
    p("%6s %6s | %-15s %-15s %-15s | %-15s %-15s %-15s | %-15s %-15s | %8s | %s" % (
        "N", "nodes", "list", "dumpxml --all", "iommu", "sr list", "sr dumpxml", "sr iommu",
        "lspci -nn", "lspci -nnvvv", "libvirt", "load"))
    for n in ns:
        def c(k):
            v, cpu = f(n, k), f(n, k + "_cpu")
            return "%7.1f [%5.0f]" % (v, cpu) if v is not None else "n/a"
        lv = f(n, "libvirt")
        p("%6d %6s | %-15s %-15s %-15s | %-15s %-15s %-15s | %-15s %-15s | %8s | %s" % (
            n, data[n].get("devices"), c("list"), c("xml"), c("iommu"), c("sr_list"), c("sr_xml"),
            c("sr_iommu"), c("nn"), c("nnvvv"), "%.0f" % lv if lv else "n/a", data[n].get("load")))

    for mode, pre in (("live", ""), ("--sysroot", "sr_")):
        p("\nRatios, %s (wall medians; CPU-time ratio in brackets):\n" % mode)
        p("%6s | %-22s | %-22s | %-22s | %-22s" % (
            "N", "libvirt / list >= 20", "list / lspci-nn <= 1.5", "xml / lspci-nnvvv <= 1", "iommu / lspci-nn <= 1"))
        for n in ns:
            def r(a, b, lim, ge=False):
                w, cp = ratio(f(n, a), f(n, b)), ratio(f(n, a + "_cpu"), f(n, b + "_cpu"))
                if w is None:
                    return "n/a"
                ok = w >= lim if ge else w <= lim
                return "%6.2f [%5.2f] %s" % (w, cp or 0, pf(ok))
            lv = f(n, "libvirt")
            lvs = "%6.1f %s" % (lv / f(n, pre + "list"), pf(lv / f(n, pre + "list") >= 20)) if lv else "n/a"
            p("%6d | %-22s | %-22s | %-22s | %-22s" % (
                n, lvs, r(pre + "list", "nn", 1.5), r(pre + "xml", "nnvvv", 1.0), r(pre + "iommu", "nn", 1.0)))

    p("\nSingle-device verbs (NAME = a PCI function in the middle of the tree), wall ms [CPU ms], target <= 20:\n")
    verbs = (("one_xml", "dumpxml NAME"), ("one_info", "nodedev-info"), ("one_show", "show"),
             ("one_hxml", "hostdev-xml"), ("one_explain", "iommu explain"))
    p("%6s %-6s | %s" % ("N", "path", " | ".join("%-16s" % v for _, v in verbs)))
    for n in ns:
        for mode, pre in (("live", ""), ("sysrt", "sr_")):
            cells = []
            for k, _ in verbs:
                v, cp = f(n, pre + k), f(n, pre + k + "_cpu")
                cells.append("%5.1f [%4.1f] %s" % (v, cp, pf(v <= 20)) if v is not None else "n/a")
            p("%6d %-6s | %s" % (n, mode, " | ".join("%-16s" % x for x in cells)))

    p("\nPeak RSS MB (live; GNU time %M) and system calls (strace -c -f totals):\n")
    p("%6s | %-6s %-6s %-6s %s | %8s %8s %8s %8s | %8s %8s | %s" % (
        "N", "list", "xml", "iommu", "<=20", "list", "xml", "iommu", "sr list", "lspci-nn", "-nnvvv", "dumpxml NAME"))
    for n in ns:
        rss = [f(n, "rss_" + k) for k in ("list", "xml", "iommu")]
        rs = [x / 1024 if x else 0 for x in rss]
        p("%6d | %-6.1f %-6.1f %-6.1f %s | %8s %8s %8s %8s | %8s %8s | %s" % (
            n, rs[0], rs[1], rs[2], pf(max(rs) <= 20), data[n].get("sc_list"), data[n].get("sc_xml"),
            data[n].get("sc_iommu"), data[n].get("sc_sr_list"), data[n].get("sc_nn"), data[n].get("sc_nnvvv"),
            data[n].get("sc_one_xml")))

    if len(ns) > 1:
        a, b = ns[0], ns[-1]
        p("")
        for k, what in (("list", "list"), ("xml", "dumpxml --all"), ("iommu", "iommu")):
            va, vb = f(a, k + "_cpu"), f(b, k + "_cpu")
            if va and vb:
                g = (vb / b) / (va / a)
                p("Growth (live, CPU): %-13s us/function at N=%d / at N=%d = %.2f (linear if <= 1.5): %s" % (
                    what, b, a, g, pf(g <= 1.5)))
    print("\n".join(out))


if __name__ == "__main__":
    main()
