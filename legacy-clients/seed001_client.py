#!/usr/bin/env python3
"""WebSocket client of seed 001 (collaborative image repository).

A reconstruction from docs/protocols.md (section P2), not the students' original.

Interactive menu, as the seed's client.py:
    python3 seed001_client.py [ws://HOST:8765/]

One command and exit (for scripts and tests):
    python3 seed001_client.py ws://HOST:8765/ USER upload FILE
    python3 seed001_client.py ws://HOST:8765/ USER list
    python3 seed001_client.py ws://HOST:8765/ USER download NAME DIR
    python3 seed001_client.py ws://HOST:8765/ USER view NAME DIR      (saves the image instead of showing it)

Exit status: 0 when the server answered SUCCESS, 1 when it answered anything else (printed), 2 when the
connection broke or the server did something this client cannot follow (printed).
"""
import asyncio
import json
import os
import sys

import websockets  # Debian: python3-websockets; pip: websockets

DEFAULT_URI = "ws://localhost:8765/"
DOWNLOAD_DIR = "downloads_websocket"  # the seed README's folder for downloads


class ProtocolBroken(Exception):
    """The server closed or sent something the legacy client cannot make sense of."""


class Client:
    def __init__(self, ws):
        self.ws = ws
        # Replies and binary frames, in arrival order. Events never go here (see listen).
        self.replies = asyncio.Queue()
        self.listener = asyncio.ensure_future(self.listen())

    async def listen(self):
        """Reads every message; prints events at once and queues the rest for whoever waits for a reply."""
        ended = None
        try:
            async for message in self.ws:
                if isinstance(message, bytes):
                    await self.replies.put(message)
                    continue
                try:
                    obj = json.loads(message)
                except ValueError:
                    print(f"[servidor enviou texto que nao e JSON] {message!r}")
                    continue
                # QUIRK docs/protocols.md P2 -- the only thing that tells an event from a reply is the "event"
                # key. Anything else, whatever its status, is taken as the reply to the pending command.
                if isinstance(obj, dict) and "event" in obj:
                    show_event(obj)
                else:
                    await self.replies.put(obj)
            ended = "o servidor fechou a conexao"
        except websockets.ConnectionClosed as e:
            # QUIRK docs/protocols.md P2 -- with the library's default max_size (1 MiB) a bigger message makes
            # the library itself close with code 1009; it surfaces here.
            ended = f"conexao encerrada (code {close_code(e)}: {close_reason(e)})"
        await self.replies.put(ProtocolBroken(ended))

    async def next_reply(self):
        item = await self.replies.get()
        if isinstance(item, ProtocolBroken):
            await self.replies.put(item)  # later waits see the same end
            raise item
        return item

    async def next_json(self):
        item = await self.next_reply()
        if isinstance(item, bytes):
            raise ProtocolBroken(f"esperava uma resposta JSON, veio um quadro binario de {len(item)} bytes")
        return item

    async def command(self, cmd, args):
        # docs/protocols.md P2 -- one text frame of JSON per command.
        await self.ws.send(json.dumps({"cmd": cmd, "args": args}))
        return await self.next_json()

    async def auth(self, username):
        # QUIRK docs/protocols.md P2 -- AUTH is always the first command; HISTORY follows as an event.
        reply = await self.command("AUTH", [username])
        print(reply.get("message", reply))
        return reply.get("status") == "SUCCESS"

    async def upload(self, path):
        with open(path, "rb") as f:
            data = f.read()
        filename = os.path.basename(path)
        # QUIRK docs/protocols.md P2 -- the size goes as a string of digits, not a JSON number.
        reply = await self.command("UPLOAD", [filename, str(len(data))])
        if reply.get("status") != "READY":
            print(f"Erro: {reply.get('message', reply)}")
            return False
        # docs/protocols.md P2 -- the whole file as ONE binary frame.
        await self.ws.send(data)
        reply = await self.next_json()
        print(reply.get("message", reply))
        return reply.get("status") == "SUCCESS"

    async def list(self):
        reply = await self.command("LIST", [])
        if reply.get("status") != "SUCCESS":
            print(f"Erro: {reply.get('message', reply)}")
            return False
        items = reply.get("data", [])
        print(f"Imagens no repositorio ({len(items)}):")
        for item in items:
            # Tests read these lines: "- <filename> | uploader: <uploader>".
            print(f"- {item['filename']} | uploader: {item['uploader']}")
        return True

    async def fetch(self, mode, name, folder, show=False):
        """DOWNLOAD or VIEW: SIZE_INFO, then exactly one binary frame, then the SUCCESS reply."""
        reply = await self.command(mode, [name])
        if reply.get("status") != "SIZE_INFO":
            print(f"Erro: {reply.get('message', reply)}")
            return False
        # QUIRK docs/protocols.md P2 -- the very next non-event message must be the file; no timeout, as in the
        # seed client, so a server that sends SIZE_INFO without the bytes hangs us.
        data = await self.next_reply()
        if not isinstance(data, bytes):
            raise ProtocolBroken(f"depois de SIZE_INFO esperava um quadro binario, veio {data!r}")
        if len(data) != reply.get("size"):
            print(f"Aviso: SIZE_INFO anunciou {reply.get('size')} bytes, chegaram {len(data)}")
        done = await self.next_json()
        print(done.get("message", done))
        if show and view_in_window(data, reply["filename"]):
            return done.get("status") == "SUCCESS"
        # QUIRK docs/protocols.md P2 -- saved under the name the server put in SIZE_INFO, not the one we asked
        # for; the seed client joins it to the folder as is.
        os.makedirs(folder, exist_ok=True)
        target = os.path.join(folder, reply["filename"])
        with open(target, "wb") as f:
            f.write(data)
        print(f"Salvo em {target} ({len(data)} bytes)")
        return done.get("status") == "SUCCESS"

    async def disconnect(self):
        reply = await self.command("DISCONNECT", [])
        print(reply.get("message", reply))
        # docs/protocols.md P2 -- after BYE the server closes; we just let the listener see that close.
        try:
            await asyncio.wait_for(self.listener, 10)
        except asyncio.TimeoutError:
            pass
        return reply.get("status") == "BYE"


def show_event(obj):
    if obj.get("event") == "HISTORY":
        print("[HISTORICO]")
        for past in obj.get("data", []):
            print(f"  {past.get('message', past)}")
    else:
        print(f"[EVENTO {obj.get('event')}] {obj.get('message', obj)}")


def close_code(e):
    # websockets >= 10 names the frames rcvd/sent; fall back to .code on older releases.
    for frame in (getattr(e, "rcvd", None), getattr(e, "sent", None)):
        if frame is not None:
            return frame.code
    return getattr(e, "code", None)


def close_reason(e):
    for frame in (getattr(e, "rcvd", None), getattr(e, "sent", None)):
        if frame is not None:
            return frame.reason
    return getattr(e, "reason", "")


def view_in_window(data, title):
    """The seed opens its own Tk window (PIL decodes the bytes); without a display we save instead."""
    try:
        import io
        import tkinter
        from PIL import Image, ImageTk
        root = tkinter.Tk()
    except Exception:
        return False
    root.title(title)
    image = ImageTk.PhotoImage(Image.open(io.BytesIO(data)))
    tkinter.Label(root, image=image).pack()
    root.mainloop()
    return True


async def session(uri, body):
    """Connects, runs body(client) and returns its exit status; a broken connection is status 2."""
    try:
        # QUIRK docs/protocols.md P2 -- the library's defaults, on purpose: permessage-deflate offered and
        # max_size = 1 MiB. Passing compression=None or max_size=... would not be the legacy client.
        ws = await websockets.connect(uri)
    except (OSError, websockets.InvalidHandshake) as e:
        print(f"Nao foi possivel conectar a {uri}: {e}")
        return 2
    try:
        return await body(Client(ws))
    except ProtocolBroken as e:
        print(f"Erro de protocolo: {e}")
        return 2
    finally:
        await ws.close()


async def run_once(client, user, command, args):
    if not await client.auth(user):
        return 1
    if command == "upload" and len(args) == 1:
        ok = await client.upload(args[0])
    elif command == "list" and not args:
        ok = await client.list()
    elif command in ("download", "view") and len(args) == 2:
        ok = await client.fetch(command.upper(), args[0], args[1])
    else:
        print(__doc__.strip())
        return 2
    await client.disconnect()
    return 0 if ok else 1


async def ask(prompt):
    # input() in a thread, so events keep being printed while the menu waits for the user.
    return await asyncio.get_running_loop().run_in_executor(None, input, prompt)


async def run_menu(client):
    try:
        user = (await ask("Nome de usuario: ")).strip()
        await client.auth(user)
        while True:
            print("\n1 - UPLOAD\n2 - LIST\n3 - DOWNLOAD\n4 - VIEW\n5 - DISCONNECT")
            choice = (await ask("Escolha: ")).strip()
            if choice == "1":
                path = (await ask("Caminho da imagem: ")).strip()
                if os.path.isfile(path):
                    await client.upload(path)
                else:
                    print("Arquivo nao encontrado.")
            elif choice == "2":
                await client.list()
            elif choice == "3":
                await client.fetch("DOWNLOAD", (await ask("Nome do arquivo: ")).strip(), DOWNLOAD_DIR)
            elif choice == "4":
                await client.fetch("VIEW", (await ask("Nome do arquivo: ")).strip(), DOWNLOAD_DIR, show=True)
            elif choice == "5":
                await client.disconnect()
                return 0
            else:
                print("Opcao invalida.")
    except EOFError:
        await client.disconnect()
        return 0


def main(argv):
    if len(argv) >= 3:
        return asyncio.run(session(argv[0], lambda client: run_once(client, argv[1], argv[2].lower(), argv[3:])))
    if len(argv) <= 1:
        return asyncio.run(session(argv[0] if argv else DEFAULT_URI, run_menu))
    print(__doc__.strip())
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
