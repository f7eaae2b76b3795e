#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Send one uevent as the kernel would: into the kernel's uevent socket of
this network namespace, which (Linux 4.18+, CAP_SYS_ADMIN over the
namespace: `unshare -Urn`) broadcasts it to the namespace's listeners as a
kernel event with a sequence number.  Nothing leaves the namespace.

    uevent-inject.py ACTION DEVPATH [KEY=VALUE...]
DEVPATH as the kernel writes it (/devices/...); SUBSYSTEM=..., DRIVER=...,
DEVPATH_OLD=... among the KEY=VALUEs.  Exit 0 when the kernel took it."""
import socket
import struct
import sys

NETLINK_KOBJECT_UEVENT = 15
NLM_F_REQUEST, NLM_F_ACK = 1, 4
NLMSG_ERROR = 2


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    action, devpath = sys.argv[1], sys.argv[2]
    props = [f"ACTION={action}", f"DEVPATH={devpath}"] + sys.argv[3:]
    body = (f"{action}@{devpath}\0" + "".join(p + "\0" for p in props)).encode()
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_KOBJECT_UEVENT)
    s.bind((0, 0))
    s.settimeout(5)
    s.sendto(struct.pack("=IHHII", 16 + len(body), 0x10, NLM_F_REQUEST | NLM_F_ACK, 1, 0) + body, (0, 0))
    ack = s.recv(4096)
    _, typ, _, _, _, err = struct.unpack("=IHHIIi", ack[:20])
    if typ == NLMSG_ERROR and err != 0:
        sys.exit(f"uevent-inject: the kernel refused the event: error {-err}")


if __name__ == "__main__":
    main()
