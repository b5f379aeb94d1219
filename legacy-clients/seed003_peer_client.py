#!/usr/bin/env python3
"""P2P peer client of seed 003 (IDP2PI): UDP tracker on 13377, images between peers over TCP.

A reconstruction from docs/protocols.md (sections P3 and P4), not the students' original. The seed split
it into cliente_base.py (sockets) and cliente.py (menu); here both are one file, ClienteBase and Cliente.

Interactive menu (registers at start, as the seed's cliente.py):
    python3 seed003_peer_client.py [--bind IP] TRACKER_IP DIR

One action and exit (for scripts and tests):
    python3 seed003_peer_client.py [--bind IP] TRACKER_IP DIR --register      REG, serve DIR until stdin closes, END
    python3 seed003_peer_client.py [--bind IP] TRACKER_IP DIR --list          LST and print it
    python3 seed003_peer_client.py [--bind IP] TRACKER_IP DIR --download MD5  LST, then GET from the first holder

--bind IP makes every socket of this client use that local address; the students' client binds nothing.
Exit status 0 on success, 1 otherwise.
"""
import hashlib
import os
import secrets
import socket
import string
import sys
import threading

PORTA_SERVIDOR = 13377  # docs/protocols.md P3
TIMEOUT = 10  # ours: the students' sockets had no timeout

# docs/protocols.md does not say how seed 003 picks its files; we take regular files with an image extension.
EXTENSOES = (".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".tif", ".tiff")


class ClienteBase:
    """Sockets: UDP requests to the tracker, and the TCP server that hands our images to other peers."""

    def __init__(self, ip_servidor, pasta, bind_ip=""):
        self.ip_servidor = ip_servidor
        self.pasta = pasta
        self.bind_ip = bind_ip
        # QUIRK docs/protocols.md P3 -- passwords with punctuation (' " ; , \) but never a space.
        # Drawn again until one of those five shows, so every run exercises the quirk.
        alfabeto = string.ascii_letters + string.digits + string.punctuation
        self.senha = ""
        while not any(c in self.senha for c in "'\";,\\"):
            self.senha = "".join(secrets.choice(alfabeto) for _ in range(12))
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind((bind_ip, 0))
        self.tcp.listen(5)  # before the port is ever announced, so no peer can find it closed
        self.porta = self.tcp.getsockname()[1]

    def imagens(self):
        """{md5: filename} of the images in our folder, recomputed each time the folder may have changed."""
        resultado = {}
        for nome in sorted(os.listdir(self.pasta)):
            caminho = os.path.join(self.pasta, nome)
            if os.path.isfile(caminho) and nome.lower().endswith(EXTENSOES):
                with open(caminho, "rb") as f:
                    resultado[hashlib.md5(f.read()).hexdigest()] = nome
        return resultado

    def enviar_udp(self, mensagem, tamanho):
        # QUIRK docs/protocols.md P3 -- a new socket, hence a new source port, per request; no terminator.
        # docs/protocols.md gives seed 002's buffer sizes only; we use the same ones (1024, LST 4096).
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(TIMEOUT)
        try:
            if self.bind_ip:
                s.bind((self.bind_ip, 0))
            s.sendto(mensagem.encode("utf-8"), (self.ip_servidor, PORTA_SERVIDOR))
            resposta, _ = s.recvfrom(tamanho)
            return resposta.decode("utf-8")
        finally:
            s.close()

    def servir(self):
        """Accept loop of our image server, one thread per connection (seed README: "threads")."""
        while True:
            conn, _ = self.tcp.accept()
            threading.Thread(target=self.atender, args=(conn,), daemon=True).start()

    def atender(self, conn):
        try:
            # docs/protocols.md P4 -- one recv(1024) holds the whole request.
            pedido = conn.recv(1024).decode("utf-8", errors="replace").strip()
            md5 = pedido[4:] if pedido.startswith("GET ") else ""
            nome = self.imagens().get(md5)
            if nome is None:
                # QUIRK docs/protocols.md P4 -- this peer answers an unknown md5 with text, not a bare close.
                conn.sendall(b"ERR File not found")
            else:
                with open(os.path.join(self.pasta, nome), "rb") as f:
                    conn.sendall(f.read())
        except OSError:
            pass
        finally:
            conn.close()


class Cliente(ClienteBase):
    """The IDP2PI commands and the menu."""

    def lista_imagens(self):
        # QUIRK docs/protocols.md P3 -- every item wrapped in single quotes, 'md5,name';'md5,name', and the
        # quotes alone ('') when the folder has no image: "'" + "';'".join([]) + "'" == "''".
        itens = [f"{md5},{nome}" for md5, nome in self.imagens().items()]
        return "'" + "';'".join(itens) + "'"

    def registrar(self):
        resposta = self.enviar_udp(f"REG {self.senha} {self.porta} {self.lista_imagens()}", 1024)
        print(f"Servidor: {resposta}", flush=True)
        return resposta.startswith("OK")

    def atualizar(self):
        resposta = self.enviar_udp(f"UPD {self.senha} {self.porta} {self.lista_imagens()}", 1024)
        print(f"Servidor: {resposta}", flush=True)
        return resposta.startswith("OK")

    def desconectar(self):
        resposta = self.enviar_udp(f"END {self.senha} {self.porta}", 1024)
        print(f"Servidor: {resposta}", flush=True)
        return resposta.startswith("OK")

    def listar(self):
        """[(md5, name, [holder, ...]), ...], or None when the tracker answered ERR."""
        resposta = self.enviar_udp("LST", 4096)
        if resposta.startswith("ERR"):
            print(f"Servidor: {resposta}")
            return None
        # Same parsing as seed 002 (docs/protocols.md P3): split and index, no checks.
        lista = []
        for item in resposta.split(";"):
            partes = item.split(",")
            lista.append((partes[0], partes[1], partes[2:]))
        return lista

    def mostrar(self, lista):
        print(f"Imagens na rede ({len(lista)}):")
        for i, (md5, nome, donos) in enumerate(lista, 1):
            print(f"[{i}] {nome} | {md5} | donos: {', '.join(donos)}")

    def baixar(self, md5, donos):
        # First holder only, as seed 002 (docs/protocols.md P3).
        ip, porta = donos[0].split(":")
        print(f"Baixando {md5} de {ip}:{porta}", flush=True)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(30)
        try:
            if self.bind_ip:
                s.bind((self.bind_ip, 0))
            s.connect((ip, int(porta)))
            s.sendall(f"GET {md5}".encode())  # docs/protocols.md P4, no terminator
            dados = b""
            while True:
                parte = s.recv(4096)
                if not parte:
                    break
                dados += parte
        finally:
            s.close()
        # QUIRK docs/protocols.md P4 -- saved as <md5>.jpg whatever the format, and whatever arrived.
        caminho = os.path.join(self.pasta, f"{md5}.jpg")
        with open(caminho, "wb") as f:
            f.write(dados)
        print(f"Salvo em {caminho} ({len(dados)} bytes)", flush=True)
        return bool(dados)

    def menu(self):
        self.registrar()
        while True:
            print("\n1 - Listar imagens\n2 - Baixar imagem\n3 - Desconectar")
            try:
                opcao = input("Opcao: ").strip()
                if opcao == "1":
                    lista = self.listar()
                    if lista:
                        self.mostrar(lista)
                elif opcao == "2":
                    lista = self.listar()
                    if lista:
                        self.mostrar(lista)
                        md5, _, donos = lista[int(input("Numero: ")) - 1]
                        self.baixar(md5, donos)
                elif opcao == "3":
                    self.desconectar()
                    return 0
            except EOFError:
                self.desconectar()
                return 0
            except socket.timeout:
                print("Sem resposta do servidor.")


def main(argv):
    bind_ip = ""
    if len(argv) >= 2 and argv[0] == "--bind":
        bind_ip, argv = argv[1], argv[2:]
    if len(argv) < 2:
        print(__doc__.strip())
        return 2
    os.makedirs(argv[1], exist_ok=True)
    cliente = Cliente(argv[0], argv[1], bind_ip)
    threading.Thread(target=cliente.servir, daemon=True).start()
    print(f"Servidor TCP na porta {cliente.porta}", flush=True)

    acao = argv[2:]
    if not acao:
        return cliente.menu()
    if acao == ["--register"]:
        if not cliente.registrar():
            return 1
        sys.stdin.read()  # serve until whoever started us closes our stdin
        return 0 if cliente.desconectar() else 1
    if acao == ["--list"]:
        lista = cliente.listar()
        if lista is None:
            return 1
        cliente.mostrar(lista)
        return 0
    if len(acao) == 2 and acao[0] == "--download":
        for md5, _, donos in cliente.listar() or []:
            if md5 == acao[1]:
                return 0 if cliente.baixar(md5, donos) else 1
        print(f"{acao[1]} nao esta na lista do servidor")
        return 1
    print(__doc__.strip())
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
