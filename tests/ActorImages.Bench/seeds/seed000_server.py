#!/usr/bin/env python3
"""Seed 000's image server, reconstructed for bin/bench from its README (docs/protocols.md, P1): the single Python
process ActorImages replaces, measured in the same run as the cluster (the issue's floor: the cluster must beat it).

What the seed does, as its README tells it: listens on TCP (5001), one thread per connection; reads a 4-byte
big-endian length and that many bytes of a JPEG or PNG; saves them as data/YYYY-MM-DD/HHMMSS.jpg (named by the
second of receipt, so a later image of the same second overwrites the earlier one), and shows the newest image in
a Tkinter window. The reconstruction leaves out the window (no display here; decoding each image for it would only
slow the seed down) and never fsyncs (the seed's plain file write). Bounded: a frame above 64 MiB closes the
connection, as ActorImages does.

Usage: seed000_server.py HOST PORT FOLDER; prints "ready" once listening; serves until killed.
"""
import os
import socket
import sys
import threading
import time

MAX_FRAME = 64 * 1024 * 1024


def read_exactly(conn, n):
    chunks = []
    while n > 0:
        chunk = conn.recv(min(n, 65536))
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def handle(conn, folder):
    with conn:
        header = read_exactly(conn, 4)
        if header is None:
            return
        length = int.from_bytes(header, "big")
        if length == 0 or length > MAX_FRAME:
            return
        data = read_exactly(conn, length)
        if data is None:
            return
        now = time.localtime()
        day = os.path.join(folder, time.strftime("%Y-%m-%d", now))
        os.makedirs(day, exist_ok=True)
        with open(os.path.join(day, time.strftime("%H%M%S", now) + ".jpg"), "wb") as f:
            f.write(data)


def main():
    host, port, folder = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    os.makedirs(folder, exist_ok=True)
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((host, port))
    server.listen()
    print("ready", flush=True)
    while True:
        conn, _ = server.accept()
        threading.Thread(target=handle, args=(conn, folder), daemon=True).start()


if __name__ == "__main__":
    main()
