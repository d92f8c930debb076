"""A loopback HTTP server the bulk tests start: serves CSV files, redirects, receives callbacks.

A real server on a real socket (http.server on a thread), so that CEE's guarded client dials,
reads and follows redirects exactly as it would against a file host on the network.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class File:
    body: bytes
    pieces: int = 1  # sent in this many parts...
    pause: float = 0.0  # ...with this pause before each
    content_type: str = "text/csv"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class FileServer:
    files: dict[str, File] = field(default_factory=dict)
    redirects: dict[str, str] = field(default_factory=dict)
    posts: list[Received] = field(default_factory=list)
    fail_posts: int = 0  # answer this many callbacks with 500 before accepting one
    gets: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                owner.gets.append(self.path)
                if self.path in owner.redirects:
                    self.send_response(302)
                    if owner.redirects[self.path]:  # "" stands for a redirect with no Location
                        self.send_header("Location", owner.redirects[self.path])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                found = owner.files.get(self.path)
                if found is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", found.content_type)
                self.send_header("Content-Length", str(len(found.body)))
                self.end_headers()
                size = -(-len(found.body) // found.pieces)
                try:
                    for start in range(0, len(found.body), size):
                        if found.pause:
                            time.sleep(found.pause)
                        self.wfile.write(found.body[start : start + size])
                        self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the reader went away (a killed server): nothing to do

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                owner.posts.append(Received(self.path, dict(self.headers.items()), body))
                status = 200
                if owner.fail_posts > 0:
                    owner.fail_posts -= 1
                    status = 500
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
