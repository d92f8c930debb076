"""The connection cap when every connection holds a request the app is working on.

No CEE activity stays in the app long enough to hold connections there on cue, so this runs
the real protocol (cee.web.stack) under uvicorn's real server machinery on real loopback
sockets, with an ASGI app that holds each request until the test lets it go.
"""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn
from uvicorn.server import ServerState

from cee.settings import Settings
from cee.web import stack
from tests.web.hostile import assert_envelope

CAP = 3


def test_when_the_app_holds_every_connection_a_new_one_gets_503() -> None:
    async def main() -> None:
        release = asyncio.Event()
        held = 0

        async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
            nonlocal held
            held += 1
            await release.wait()
            body = b'{"requestid":"00000000000000000000000000000000","result":"Success"}'
            headers = [(b"content-type", b"application/json"), (b"content-length", b"69")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        stack.configure(Settings.load(max_connections=CAP))
        config = uvicorn.Config(app, http="cee.web.stack:CeeHttpProtocol", lifespan="off")
        config.load()
        state = ServerState()
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: stack.CeeHttpProtocol(config=config, server_state=state, app_state={}),
            "127.0.0.1",
            0,
        )
        port = server.sockets[0].getsockname()[1]
        request = b"GET /x HTTP/1.1\r\nHost: cee\r\n\r\n"
        clients = []
        try:
            for _ in range(CAP):
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(request)
                clients.append((reader, writer))
            while held < CAP:
                await asyncio.sleep(0.01)
            # Every connection holds a request in the app: nothing can be evicted.
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(request)
            answer = await asyncio.wait_for(reader.read(), 5)
            writer.close()
            assert_envelope(answer, 503, "limit")
            # The held requests are still answered once the app lets them go.
            release.set()
            for reader, _ in clients:
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
                assert head.startswith(b"HTTP/1.1 200")
        finally:
            for _, writer in clients:
                writer.close()
            server.close()
            await server.wait_closed()
            stack.configure(Settings.load())

    asyncio.run(main())
