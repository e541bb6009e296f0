#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Helpers for stream.py, run inside namespaces with `ip netns exec`.

  stream_peer.py server PORT[,PORT...]
      accept; send 4 KiB every 2 ms until the peer goes away; prints "ready".
  stream_peer.py client DST PORT OUT STOP
      connect, read until the file STOP exists, then write JSON to OUT:
      {"bytes", "max_gap", "first", "last", "error"} (times are time.time()).
  stream_peer.py hammer DST PORT OUT STOP [SRC]
      open new TCP connections to DST:PORT (4 threads, 0.3 s timeout each) until STOP exists;
      write {"attempts", "successes", "details"} to OUT. For a pair that must stay denied.
"""

import json
import os
import socket
import sys
import threading
import time


def fam(a):
    return socket.AF_INET6 if ":" in a else socket.AF_INET


def server(ports):
    def serve(c):
        buf = b"x" * 4096
        try:
            c.settimeout(5)
            while True:
                c.sendall(buf)
                time.sleep(0.002)
        except OSError:
            pass
        finally:
            c.close()

    def acceptor(s):
        while True:
            c, _ = s.accept()
            threading.Thread(target=serve, args=(c,), daemon=True).start()

    for p in ports:
        for f, a in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
            s = socket.socket(f, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if f == socket.AF_INET6:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            s.bind((a, p))
            s.listen(64)
            threading.Thread(target=acceptor, args=(s,), daemon=True).start()
    print("ready", flush=True)
    while True:
        time.sleep(3600)


def client(dst, port, out, stop):
    res = {"bytes": 0, "max_gap": 0.0, "first": None, "last": None, "error": None}
    try:
        s = socket.create_connection((dst, port), timeout=3)
        s.settimeout(0.2)
        last = time.time()
        res["first"] = last
        print("connected", flush=True)
        while not os.path.exists(stop):
            try:
                d = s.recv(65536)
            except socket.timeout:
                now = time.time()
                res["max_gap"] = max(res["max_gap"], now - last)
                continue
            now = time.time()
            if not d:
                res["error"] = "EOF: server side closed"
                break
            res["max_gap"] = max(res["max_gap"], now - last)
            res["bytes"] += len(d)
            last = res["last"] = now
        s.close()
    except OSError as e:
        res["error"] = f"{type(e).__name__}: {e}"
    with open(out, "w") as f:
        json.dump(res, f)


def hammer(dst, port, out, stop, src=None):
    res = {"attempts": 0, "successes": 0, "details": []}
    lock = threading.Lock()

    def loop():
        while not os.path.exists(stop):
            s = socket.socket(fam(dst), socket.SOCK_STREAM)
            if src:
                s.bind((src, 0))
            s.settimeout(0.3)
            ok, why = False, ""
            try:
                s.connect((dst, port))
                ok, why = True, "connected"
            except socket.timeout:
                pass
            except OSError as e:
                why = str(e)
                time.sleep(0.05)
            finally:
                s.close()
            with lock:
                res["attempts"] += 1
                if ok:
                    res["successes"] += 1
                    res["details"].append(f"{time.time():.3f} {why}")

    th = [threading.Thread(target=loop) for _ in range(4)]
    for x in th:
        x.start()
    print("started", flush=True)
    for x in th:
        x.join()
    with open(out, "w") as f:
        json.dump(res, f)


def main():
    m = sys.argv[1]
    if m == "server":
        server([int(p) for p in sys.argv[2].split(",")])
    elif m == "client":
        client(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5])
    elif m == "hammer":
        hammer(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5],
               sys.argv[6] if len(sys.argv) > 6 else None)


if __name__ == "__main__":
    main()
