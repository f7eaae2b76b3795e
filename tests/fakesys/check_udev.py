#!/usr/bin/env python3
"""Check a sysroot against real libudev.

    python3 tests/fakesys/check_udev.py SYSROOT [--dump] [--quiet]

Re-executes itself inside `unshare -Urm` with SYSROOT/sys bind-mounted over
/sys, a tmpfs on /run and SYSROOT/run/udev bind-mounted on /run/udev, and
SYSTEMD_DEVICE_VERIFY_SYSFS=0. There it enumerates all devices through
libudev (ctypes on libudev.so.1: udev_enumerate_scan_devices, the same calls
libvirt's node-device driver makes) and compares each one with
SYSROOT/expected.json: presence, SUBSYSTEM, DEVTYPE, DRIVER, devnode,
every udev property and devlink, plus parent resolution for every device.
Exit status 0 when everything matches. --dump prints what libudev sees.
"""

import ctypes
import json
import os
import subprocess
import sys


def in_namespace(root, args):
    script = r'''
set -e
R="$1"; shift
mount --bind "$R/sys" /sys
mount -t tmpfs tmpfs /run
mkdir -p /run/udev
mount --bind "$R/run/udev" /run/udev
export SYSTEMD_DEVICE_VERIFY_SYSFS=0 FAKESYS_IN_NS=1
exec "$@"
'''
    cmd = ["unshare", "-Urm", "sh", "-c", script, "sh", root,
           sys.executable, os.path.abspath(__file__)] + args
    return subprocess.call(cmd)


def enumerate_libudev():
    lib = ctypes.CDLL("libudev.so.1")
    vp, cp = ctypes.c_void_p, ctypes.c_char_p
    for name, res, argt in [
            ("udev_new", vp, []),
            ("udev_enumerate_new", vp, [vp]),
            ("udev_enumerate_scan_devices", ctypes.c_int, [vp]),
            ("udev_enumerate_get_list_entry", vp, [vp]),
            ("udev_list_entry_get_next", vp, [vp]),
            ("udev_list_entry_get_name", cp, [vp]),
            ("udev_list_entry_get_value", cp, [vp]),
            ("udev_device_new_from_syspath", vp, [vp, cp]),
            ("udev_device_get_subsystem", cp, [vp]),
            ("udev_device_get_devtype", cp, [vp]),
            ("udev_device_get_driver", cp, [vp]),
            ("udev_device_get_devnode", cp, [vp]),
            ("udev_device_get_sysname", cp, [vp]),
            ("udev_device_get_is_initialized", ctypes.c_int, [vp]),
            ("udev_device_get_properties_list_entry", vp, [vp]),
            ("udev_device_get_devlinks_list_entry", vp, [vp]),
            ("udev_device_get_tags_list_entry", vp, [vp]),
            ("udev_device_get_parent", vp, [vp]),
            ("udev_device_get_syspath", cp, [vp]),
            ("udev_device_get_sysattr_value", cp, [vp, cp]),
            ("udev_device_unref", vp, [vp])]:
        f = getattr(lib, name)
        f.restype = res
        f.argtypes = argt

    def s(b):
        return b.decode() if b is not None else None

    def entries(e):
        out = []
        while e:
            out.append((s(lib.udev_list_entry_get_name(e)), s(lib.udev_list_entry_get_value(e))))
            e = lib.udev_list_entry_get_next(e)
        return out

    udev = lib.udev_new()
    en = lib.udev_enumerate_new(udev)
    rc = lib.udev_enumerate_scan_devices(en)
    if rc < 0:
        print("NOTE udev_enumerate_scan_devices() returned %d (%s); the list "
              "below is what it collected anyway" % (rc, os.strerror(-rc)))
    res = {}
    for path, _ in entries(lib.udev_enumerate_get_list_entry(en)):
        d = lib.udev_device_new_from_syspath(udev, path.encode())
        if not d:
            res[path] = None
            continue
        par = lib.udev_device_get_parent(d)
        res[path] = {
            "subsystem": s(lib.udev_device_get_subsystem(d)),
            "devtype": s(lib.udev_device_get_devtype(d)),
            "driver": s(lib.udev_device_get_driver(d)),
            "devnode": s(lib.udev_device_get_devnode(d)),
            "sysname": s(lib.udev_device_get_sysname(d)),
            "initialized": lib.udev_device_get_is_initialized(d),
            "props": dict(entries(lib.udev_device_get_properties_list_entry(d))),
            "devlinks": sorted(n for n, _ in entries(lib.udev_device_get_devlinks_list_entry(d))),
            "tags": sorted(n for n, _ in entries(lib.udev_device_get_tags_list_entry(d))),
            "parent": s(lib.udev_device_get_syspath(par)) if par else None,
        }
        lib.udev_device_unref(d)
    return res


def check(root, dump=False, quiet=False):
    got = enumerate_libudev()
    if dump:
        json.dump(got, sys.stdout, indent=1, sort_keys=True)
        print()
    with open(os.path.join(root, "expected.json")) as f:
        exp = json.load(f)["devices"]
    errs = []
    seen = set()
    for e in exp:
        sp = e.get("syspath")
        if not sp:
            continue
        seen.add(sp)
        g = got.get(sp)
        if e.get("damaged"):
            continue    # deliberately broken: only "no crash" is checked
        if g is None:
            errs.append("%s: not enumerated by libudev" % sp)
            continue
        for k in ("subsystem", "devtype", "driver", "devnode"):
            if g[k] != e.get(k):
                errs.append("%s: %s libudev=%r expected=%r" % (sp, k, g[k], e.get(k)))
        for k, v in e.get("uevent", {}).items():
            if k in ("DRIVER",):
                continue
            gv = g["props"].get(k)
            if k == "DEVNAME":
                v = "/dev/" + v
            if gv != v:
                errs.append("%s: uevent %s libudev=%r expected=%r" % (sp, k, gv, v))
        for k, v in e.get("props", {}).items():
            if g["props"].get(k) != v:
                errs.append("%s: property %s libudev=%r expected=%r" % (
                    sp, k, g["props"].get(k), v))
        if sorted(e.get("devlinks", [])) != g["devlinks"]:
            errs.append("%s: devlinks libudev=%r expected=%r" % (sp, g["devlinks"], e.get("devlinks")))
        if sorted(e.get("tags", [])) != g["tags"]:
            errs.append("%s: tags libudev=%r expected=%r" % (sp, g["tags"], e.get("tags")))
        if e.get("udev_db") and not g["initialized"]:
            errs.append("%s: has a db entry but libudev says not initialized" % sp)
        if g["parent"] is None and not sp.startswith("/sys/devices/virtual/") \
                and sp.count("/") > 3:
            errs.append("%s: libudev found no parent" % sp)
    for sp in sorted(set(got) - seen):
        errs.append("%s: enumerated by libudev but not in expected.json" % sp)
    for l in errs:
        print("MISMATCH " + l)
    if not quiet:
        print("%s: libudev enumerated %d devices, expected %d, %d mismatches" % (
            root, len(got), len(seen), len(errs)))
    return 1 if errs else 0


def main():
    args = [a for a in sys.argv[1:]]
    if not args or args[0] in ("-h", "--help"):
        sys.stderr.write(__doc__)
        return 2
    root = os.path.abspath(args[0])
    if os.environ.get("FAKESYS_IN_NS") != "1":
        return in_namespace(root, [root] + args[1:])
    return check(root, dump="--dump" in args, quiet="--quiet" in args)


if __name__ == "__main__":
    sys.exit(main())
