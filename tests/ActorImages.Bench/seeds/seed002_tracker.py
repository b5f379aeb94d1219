#!/usr/bin/env python3
"""Seed 002's tracker, reconstructed for bin/bench from its README and the wire rules of docs/protocols.md, P3: the
single Python process ActorImages replaces, measured in the same run as the cluster (the issue's floor: the cluster
must beat it).

What the seed does, as its README tells it: one UDP socket (13377), one thread; REG/UPD/LST/END as plain strings; it
keeps in memory which client (source IP, P4 port) holds which images, and transfers no image itself. Nothing is
written to disk: a restart forgets every registration (ActorImages commits each change to PostgreSQL before it
answers OK). The LST reply lists every image with its holders, the name registered first, whole items up to 4,096
bytes; it is composed once after each change and kept (charitable: the README does not say, and composing it for
every LST halves this tracker's rate under the bench's mix). Items quoted as the seed-003 client sends them
('md5,name') are unquoted.

Usage: seed002_tracker.py HOST PORT; prints "ready" once bound; serves until killed.
"""
import socket
import sys


def parse_images(text):
    images = []
    for item in text.split(";"):
        if len(item) >= 2 and item[0] == "'" and item[-1] == "'":
            item = item[1:-1]
        if not item:
            continue
        md5, sep, name = item.partition(",")
        if not sep or len(md5) != 32:
            return None
        images.append((md5.lower(), name))
    return images


def listing(clients):
    holders = {}
    for (ip, port), client in clients.items():
        for md5, name in client["images"]:
            entry = holders.setdefault(md5, [name, []])
            entry[1].append(f"{ip}:{port}")
    items = []
    size = 0
    for md5, (name, peers) in holders.items():
        item = f"{md5},{name},{','.join(peers)}"
        length = len(item.encode()) + (1 if items else 0)
        if size + length > 4096:
            break
        items.append(item)
        size += length
    return ";".join(items) if items else "ERR NO_IMAGES_AVAILABLE"


def answer(message, ip, clients, cache):
    parts = message.strip().split(" ", 3)
    command = parts[0]
    if command == "LST" and len(parts) == 1:
        if cache.get("listing") is None:
            cache["listing"] = listing(clients)
        return cache["listing"]
    cache["listing"] = None
    if command in ("REG", "UPD") and len(parts) == 4 and parts[2].isdigit():
        images = parse_images(parts[3])
        if images is None:
            return "ERR INVALID_MESSAGE_FORMAT"
        key = (ip, int(parts[2]))
        if command == "REG":
            clients[key] = {"password": parts[1], "images": images}
            return f"OK {len(images)}_REGISTERED_IMAGES"
        client = clients.get(key)
        if client is None or client["password"] != parts[1]:
            return "ERR IP_REGISTERED_WITH_DIFFERENT_PASSWORD"
        client["images"] = images
        return f"OK {len(images)}_REGISTERED_FILES"
    if command == "END" and len(parts) == 3 and parts[2].isdigit():
        key = (ip, int(parts[2]))
        client = clients.get(key)
        if client is None or client["password"] != parts[1]:
            return "ERR IP_REGISTERED_WITH_DIFFERENT_PASSWORD"
        del clients[key]
        return "OK CLIENT_FINISHED"
    return "ERR INVALID_MESSAGE_FORMAT"


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
    sock.bind((host, port))
    clients = {}
    cache = {}
    print("ready", flush=True)
    while True:
        data, (ip, source_port) = sock.recvfrom(65535)
        try:
            reply = answer(data.decode("utf-8"), ip, clients, cache)
        except UnicodeDecodeError:
            reply = "ERR INVALID_MESSAGE_FORMAT"
        sock.sendto(reply.encode(), (ip, source_port))


if __name__ == "__main__":
    main()
