#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""uevent to signal, inside the private namespaces of bench/daemon.sh (the
synthetic tree bound over /sys, hostdevd serving "the live host" on ADDRESS):
ROUNDS times, a PCI function's driver link is taken away or given back in
the tree, the matching unbind/bind uevent is sent into the namespace's
kernel uevent socket (as tests/uevent-inject.py does), and the time from
just before the send to a client's receipt of DeviceChanged is taken.

    uevent-latency.py DAEMON_CLIENT ADDRESS ROUNDS DEVPATH...
Prints one latency in microseconds a line, and after each the time of the
first ListDevices call ("list MS"); DEVPATHs are used in turn."""
import os
import socket
import struct
import subprocess
import sys
import time


def send(action, devpath, props):
    body = f"{action}@{devpath}\0ACTION={action}\0DEVPATH={devpath}\0" + "".join(p + "\0" for p in props)
    body = body.encode()
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 15)
    s.bind((0, 0))
    t0 = time.time_ns()
    s.sendto(struct.pack("=IHHII", 16 + len(body), 0x10, 1, 1, 0) + body, (0, 0))
    s.close()
    return t0


def main():
    client, address, rounds, paths = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
    drivers = {}
    for p in paths:
        link = f"/sys{p}/driver"
        drivers[p] = os.readlink(link) if os.path.islink(link) else None
    for i in range(rounds):
        p = paths[i % len(paths)]
        w = subprocess.Popen([client, address, "watch", "1", "5"], stdout=subprocess.PIPE, text=True)
        assert w.stdout.readline().strip() == "ready"
        link = f"/sys{p}/driver"
        slot = os.path.basename(p)
        if os.path.islink(link):
            os.unlink(link)
            t0 = send("unbind", p, ["SUBSYSTEM=pci", f"PCI_SLOT_NAME={slot}"])
        else:
            os.symlink(drivers[p], link)
            t0 = send("bind", p, ["SUBSYSTEM=pci", f"PCI_SLOT_NAME={slot}",
                                  "DRIVER=" + os.path.basename(drivers[p])])
        line = w.stdout.readline().split()
        w.wait()
        if len(line) < 4 or line[1] != "DeviceChanged":
            print(f"round {i}: no DeviceChanged ({' '.join(line)})", file=sys.stderr)
            continue
        print((int(line[3]) - t0) // 1000, flush=True)
        # the first ListDevices after the event (the devices it touched
        # rendered again), as daemon-client times one call
        out = subprocess.run([client, address, "bench", "1"], capture_output=True, text=True).stdout
        for word in out.split(" p50 ")[1:2]:
            print("list", word.split()[0], flush=True)
    for p, target in drivers.items():      # as found
        link = f"/sys{p}/driver"
        if target and not os.path.islink(link):
            os.symlink(target, link)


if __name__ == "__main__":
    main()
