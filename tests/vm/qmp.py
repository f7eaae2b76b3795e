#!/usr/bin/env python3
"""Minimal QMP client for the hostdev VM test harness (stdlib only).

Usage:
  qmp.py SOCK cmd COMMAND [JSON-ARGS | key=value ...]
      Run one QMP command and print its "return" as JSON (exit 1 on error).
      e.g.  qmp.py /tmp/q.sock cmd device_add driver=e1000e id=hp0 bus=rp8
            qmp.py /tmp/q.sock cmd device_del '{"id": "hp0"}'
            qmp.py /tmp/q.sock cmd query-pci
  qmp.py SOCK serve-console LOG
      Guest-driven mode (what run-guest.sh starts for "# hdtest: qmp"
      scenarios): follow the guest console log LOG and execute every line
        HDTEST-QMP: COMMAND [JSON-ARGS | key=value ...]
      that the guest prints (lib.sh: qmp COMMAND ARGS...). Results are printed
      to stdout (run-guest.sh keeps them in LOG.hook). Runs until QEMU exits.

As a library:
  with QMP(sock) as q:
      q.cmd("device_add", driver="e1000e", id="hp0", bus="rp8")
      q.wait_event("DEVICE_DELETED", timeout=30)
"""
import json
import os
import socket
import sys
import time


class QMPError(Exception):
    pass


class QMP:
    def __init__(self, path, timeout=30.0, connect_timeout=10.0):
        deadline = time.monotonic() + connect_timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self.sock.settimeout(timeout)
        self.buf = b""
        self.events = []
        greeting = self._read()
        if "QMP" not in greeting:
            raise QMPError("no QMP greeting: %r" % greeting)
        self.cmd("qmp_capabilities")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def _read(self):
        while b"\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise QMPError("QMP connection closed")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def cmd(self, name, **args):
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            r = self._read()
            if "event" in r:
                self.events.append(r)
                continue
            if "error" in r:
                raise QMPError("%s: %s" % (name, r["error"].get("desc", r["error"])))
            return r.get("return")

    def wait_event(self, name, timeout=30.0):
        deadline = time.monotonic() + timeout
        while True:
            for i, e in enumerate(self.events):
                if e["event"] == name:
                    return self.events.pop(i)
            left = deadline - time.monotonic()
            if left <= 0:
                raise QMPError("timeout waiting for event %s" % name)
            self.sock.settimeout(left)
            try:
                r = self._read()
            except socket.timeout:
                continue
            if "event" in r:
                self.events.append(r)


def parse_args(words):
    """JSON object, or key=value words (values that parse as JSON are kept typed)."""
    if not words:
        return {}
    if len(words) == 1 and words[0].lstrip().startswith("{"):
        return json.loads(words[0])
    out = {}
    for w in words:
        if "=" not in w:
            raise QMPError("bad argument %r (want key=value or a JSON object)" % w)
        k, v = w.split("=", 1)
        try:
            out[k] = json.loads(v)
        except ValueError:
            out[k] = v
    return out


def serve_console(sock, log):
    q = QMP(sock)
    pos = 0
    pending = b""
    while True:
        try:
            with open(log, "rb") as f:
                f.seek(pos)
                data = f.read()
                pos += len(data)
        except FileNotFoundError:
            data = b""
        pending += data
        *lines, pending = pending.split(b"\n")
        for raw in lines:
            line = raw.decode("utf-8", "replace").replace("\r", "")
            i = line.find("HDTEST-QMP: ")
            if i < 0:
                continue
            words = line[i + len("HDTEST-QMP: "):].split()
            if not words:
                continue
            try:
                r = q.cmd(words[0], **parse_args(words[1:]))
                print("ok %s -> %s" % (" ".join(words), json.dumps(r)), flush=True)
            except (QMPError, ValueError) as e:
                print("error %s -> %s" % (" ".join(words), e), flush=True)
            except OSError as e:
                print("qmp gone: %s" % e, flush=True)
                return 0
        if not data:
            time.sleep(0.1)


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    sock, mode = argv[1], argv[2]
    if mode == "cmd" and len(argv) >= 4:
        with QMP(sock) as q:
            try:
                r = q.cmd(argv[3], **parse_args(argv[4:]))
            except QMPError as e:
                print("error: %s" % e, file=sys.stderr)
                return 1
            print(json.dumps(r, indent=1))
        return 0
    if mode == "serve-console" and len(argv) == 4:
        try:
            return serve_console(sock, argv[3])
        except (QMPError, OSError) as e:
            print("qmp: %s" % e, flush=True)
            return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
