#!/usr/bin/env python3
"""P2P peer client of seed 002 (SocketsImageP2P): UDP tracker on 13377, images between peers over TCP.

A reconstruction from docs/protocols.md (sections P3 and P4), not the students' original.

Interactive menu, as the seed's cliente.py:
    python3 seed002_peer_client.py [--bind IP] TRACKER_IP DIR

One action and exit (for scripts and tests):
    python3 seed002_peer_client.py [--bind IP] TRACKER_IP DIR --register      REG, serve DIR until stdin closes, END
    python3 seed002_peer_client.py [--bind IP] TRACKER_IP DIR --list          LST and print it
    python3 seed002_peer_client.py [--bind IP] TRACKER_IP DIR --download MD5  LST, then GET from the first holder

--bind IP makes every socket of this client (UDP requests and the TCP image server) use that local address;
the students' client binds nothing and lets the OS pick. Exit status 0 on success, 1 otherwise.
"""
import hashlib
import os
import random
import socket
import string
import sys
import threading
import warnings

try:
    # The seed README names imghdr for "is this file an image?". It is deprecated in 3.11, gone in 3.13.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import imghdr
except ImportError:
    imghdr = None

TRACKER_PORT = 13377  # docs/protocols.md P3
TIMEOUT = 10  # ours: the students' sockets had no timeout and would hang forever on a lost datagram

BIND_IP = ""
PASSWORD = None
MY_PORT = None


def is_image(path):
    if imghdr is not None:
        return imghdr.what(path) is not None
    with open(path, "rb") as f:
        head = f.read(12)
    return head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM", b"II*\x00", b"MM\x00*")) or (
        head[:4] == b"RIFF" and head[8:12] == b"WEBP")


def md5_of(path):
    with open(path, "rb") as f:
        return hashlib.md5(f.read()).hexdigest()


def my_images(folder):
    images = []
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if os.path.isfile(path) and is_image(path):
            images.append((md5_of(path), name))
    return images


def new_password():
    # QUIRK docs/protocols.md P3 -- auto-generated, with punctuation (' " ; , \ can all occur), never a space:
    # string.punctuation has no space. At least 3 punctuation characters so the quirk always shows.
    chars = random.choices(string.ascii_letters + string.digits, k=9) + random.choices(string.punctuation, k=3)
    random.shuffle(chars)
    return "".join(chars)


def udp_request(tracker_ip, message, bufsize):
    # QUIRK docs/protocols.md P3 -- a fresh UDP socket (so a fresh source port) for every request, and the text
    # goes out with no line terminator.
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(TIMEOUT)
    try:
        if BIND_IP:
            s.bind((BIND_IP, 0))
        s.sendto(message.encode(), (tracker_ip, TRACKER_PORT))
        data, _ = s.recvfrom(bufsize)
        return data.decode()
    finally:
        s.close()


def images_field(folder):
    # docs/protocols.md P3 -- md5,name;md5,name with no quoting at all: a name holding ',' or ';' goes out as is.
    return ";".join(f"{md5},{name}" for md5, name in my_images(folder))


def register(tracker_ip, folder):
    # docs/protocols.md P3 -- with no image this sends "REG <pw> <port> " (trailing space, empty list): 0 images.
    # QUIRK docs/protocols.md P3 -- REG/UPD/END replies are read with recvfrom(1024).
    reply = udp_request(tracker_ip, f"REG {PASSWORD} {MY_PORT} {images_field(folder)}", 1024)
    print(f"Resposta do servidor: {reply}", flush=True)
    return reply.startswith("OK")


def update(tracker_ip, folder):
    reply = udp_request(tracker_ip, f"UPD {PASSWORD} {MY_PORT} {images_field(folder)}", 1024)
    print(f"Resposta do servidor: {reply}", flush=True)
    return reply.startswith("OK")


def end(tracker_ip):
    reply = udp_request(tracker_ip, f"END {PASSWORD} {MY_PORT}", 1024)
    print(f"Resposta do servidor: {reply}", flush=True)
    return reply.startswith("OK")


def list_images(tracker_ip):
    """Returns [(md5, name, [holder, ...]), ...], or None when the tracker answered ERR."""
    # QUIRK docs/protocols.md P3 -- LST is read with recvfrom(4096): a longer reply is silently cut.
    reply = udp_request(tracker_ip, "LST", 4096)
    if reply.startswith("ERR"):
        print(f"Resposta do servidor: {reply}")
        return None
    images = []
    # QUIRK docs/protocols.md P3 -- split on ';' then ',' and index the parts, no checks: an empty item or a
    # trailing ';' raises IndexError here, and a ',' or ';' inside a name shifts the holders.
    for item in reply.split(";"):
        parts = item.split(",")
        md5, name, holders = parts[0], parts[1], parts[2:]
        images.append((md5, name, holders))
    return images


def print_images(images):
    print(f"Imagens na rede ({len(images)}):")
    for i, (md5, name, holders) in enumerate(images, 1):
        # Tests read these lines: "[i] name | md5 | donos: ip:port, ip:port".
        print(f"[{i}] {name} | {md5} | donos: {', '.join(holders)}")


def target_path(folder, name):
    # docs/protocols.md P4 -- keep the LST name; if it exists, add _downloaded before the extension (once).
    path = os.path.join(folder, name)
    if os.path.exists(path):
        base, ext = os.path.splitext(name)
        path = os.path.join(folder, f"{base}_downloaded{ext}")
    return path


def download(folder, md5, name, holders):
    # QUIRK docs/protocols.md P3 -- only the FIRST holder is tried; ip:port is split on ':' without checks.
    ip, port = holders[0].split(":")
    print(f"Baixando {name} de {ip}:{port}", flush=True)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(30)  # ours, as TIMEOUT
    try:
        if BIND_IP:
            s.bind((BIND_IP, 0))
        s.connect((ip, int(port)))
        # QUIRK docs/protocols.md P4 -- "GET <md5>" with no terminator, no half-close; then read to EOF.
        s.sendall(f"GET {md5}".encode())
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    # The students' client saves whatever came, even nothing; we only say so.
    path = target_path(folder, name)
    with open(path, "wb") as f:
        f.write(data)
    print(f"Salvo em {path} ({len(data)} bytes)", flush=True)
    if not data:
        print("Aviso: o peer nao enviou nada")
    return bool(data)


def serve_one(conn, folder):
    try:
        # docs/protocols.md P4 -- a peer reads the request with a single recv(1024).
        request = conn.recv(1024).decode(errors="replace")
        if request.startswith("GET "):
            wanted = request[4:].strip()
            for md5, name in my_images(folder):
                if md5 == wanted:
                    with open(os.path.join(folder, name), "rb") as f:
                        conn.sendall(f.read())
                    break
        # docs/protocols.md P4 -- unknown md5: close without data.
    except OSError:
        pass
    finally:
        conn.close()


def start_server(folder):
    """The peer's own image server on a port the OS picks (seed README: "Portas aleatórias")."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((BIND_IP, 0))
    server.listen(5)

    def accept_loop():
        while True:
            conn, _ = server.accept()
            threading.Thread(target=serve_one, args=(conn, folder), daemon=True).start()

    threading.Thread(target=accept_loop, daemon=True).start()
    return server.getsockname()[1]


def menu(tracker_ip, folder):
    while True:
        print("\n1 - Registrar no servidor\n2 - Listar imagens\n3 - Baixar imagens\n"
              "4 - Atualizar registro\n5 - Desconectar do servidor (END)\n6 - Sair")
        try:
            choice = input("Escolha: ").strip()
        except EOFError:
            return 0
        try:
            if choice == "1":
                register(tracker_ip, folder)
            elif choice == "2":
                images = list_images(tracker_ip)
                if images:
                    print_images(images)
            elif choice == "3":
                images = list_images(tracker_ip)
                if images:
                    print_images(images)
                    n = int(input("Numero da imagem: "))
                    download(folder, *images[n - 1])
            elif choice == "4":
                update(tracker_ip, folder)
            elif choice == "5":
                end(tracker_ip)
            elif choice == "6":
                return 0
            else:
                print("Opcao invalida.")
        except socket.timeout:
            print("Sem resposta do servidor.")


def main(argv):
    global BIND_IP, PASSWORD, MY_PORT
    if len(argv) >= 2 and argv[0] == "--bind":
        BIND_IP, argv = argv[1], argv[2:]
    if len(argv) < 2:
        print(__doc__.strip())
        return 2
    tracker_ip, folder, action = argv[0], argv[1], argv[2:]
    os.makedirs(folder, exist_ok=True)

    PASSWORD = new_password()
    MY_PORT = start_server(folder)
    print(f"Servidor TCP na porta {MY_PORT}", flush=True)

    if not action:
        return menu(tracker_ip, folder)
    if action == ["--register"]:
        if not register(tracker_ip, folder):
            return 1
        # Serve DIR until whoever started us closes our stdin, then leave the network politely.
        sys.stdin.read()
        return 0 if end(tracker_ip) else 1
    if action == ["--list"]:
        images = list_images(tracker_ip)
        if images is None:
            return 1
        print_images(images)
        return 0
    if len(action) == 2 and action[0] == "--download":
        images = list_images(tracker_ip) or []
        for md5, name, holders in images:
            if md5 == action[1]:
                return 0 if download(folder, md5, name, holders) else 1
        print(f"{action[1]} nao esta na lista do servidor")
        return 1
    print(__doc__.strip())
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
