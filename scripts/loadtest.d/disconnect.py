#!/usr/bin/env python3
"""Clients that leave: for SECONDS, connect to localhost:PORT and send an infer request, then close
without reading the answer; every third sends only half the body first. For scripts/loadtest --soak.

    disconnect.py PORT PATH BODY_FILE SECONDS [PAUSE_MS]
Prints: RESULT sent=.. partial=.. refused=..  (refused: connections that failed, which should be 0).
"""
import socket
import sys
import time


def main():
    port, path, body_file, seconds = int(sys.argv[1]), sys.argv[2], sys.argv[3], float(sys.argv[4])
    pause = float(sys.argv[5]) / 1000 if len(sys.argv) > 5 else 0.02
    with open(body_file, "rb") as f:
        body = f.read()
    head = ("POST %s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
            % (path, len(body))).encode()
    sent = partial = refused = 0
    until = time.monotonic() + seconds
    i = 0
    while time.monotonic() < until:
        i += 1
        try:
            with socket.create_connection(("localhost", port), timeout=5) as s:
                if i % 3 == 0:
                    s.sendall(head + body[: len(body) // 2])
                    partial += 1
                else:
                    s.sendall(head + body)
                    sent += 1
                time.sleep((i % 5) / 1000)   # 0-4 ms: some leave while queued, some after compute started
        except OSError:
            refused += 1
        time.sleep(pause)
    print("RESULT sent=%d partial=%d refused=%d" % (sent, partial, refused))


if __name__ == "__main__":
    main()
