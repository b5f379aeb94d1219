#!/usr/bin/env python3
"""Camera client of seed 000: sends image files to the ingest server on TCP port 5001.

A reconstruction from docs/protocols.md (section P1), not the students' original.

Usage:
    python3 seed000_camera_client.py HOST FILE [FILE ...]
    python3 seed000_camera_client.py --close-at-once HOST FILE [FILE ...]

One connection per file. Exit status 0 when every file was sent, 1 otherwise.
"""
import os
import socket
import struct
import sys

PORT = 5001  # docs/protocols.md P1, the seed's fixed port

# How long we wait for the server's close after our half-close. The students' client did not wait at all
# (see --close-at-once); the wait only lets a test know the node has taken the frame.
CLOSE_TIMEOUT = 60


def send_image(host, path, wait_for_close):
    with open(path, "rb") as f:
        data = f.read()

    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(CLOSE_TIMEOUT)
    try:
        s.connect((host, PORT))
        # QUIRK docs/protocols.md P1 -- the header is exactly 4 bytes, unsigned big-endian ("!I"), then the raw
        # file bytes with nothing around them: no filename, no format, no terminator.
        s.sendall(struct.pack("!I", len(data)))
        s.sendall(data)
        # QUIRK docs/protocols.md P1 -- one frame per connection, then half-close: the server learns "that
        # was all" only from our FIN.
        s.shutdown(socket.SHUT_WR)

        received = 0
        if wait_for_close:
            # QUIRK docs/protocols.md P1 -- the server never replies; we only read to see its close (b""), so
            # anything that does arrive is counted and reported as a server bug.
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                received += len(chunk)
        # else: QUIRK docs/protocols.md P1 -- the real camera clients close at once without waiting.
        return received
    finally:
        s.close()


def main(argv):
    wait_for_close = True
    if argv and argv[0] == "--close-at-once":
        wait_for_close = False
        argv = argv[1:]
    if len(argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2

    host, files = argv[0], argv[1:]
    ok = True
    for path in files:
        try:
            received = send_image(host, path, wait_for_close)
        except (OSError, socket.timeout) as e:
            print(f"Erro ao enviar {path}: {e}")
            ok = False
            continue
        size = os.path.getsize(path)
        if wait_for_close:
            print(f"Enviado {path} ({size} bytes); servidor fechou, {received} bytes recebidos")
            if received:
                # P1 has no reply at all (docs/protocols.md P1): any byte is a protocol violation.
                print(f"ERRO: o servidor escreveu {received} bytes, mas P1 nao tem resposta")
                ok = False
        else:
            print(f"Enviado {path} ({size} bytes)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
