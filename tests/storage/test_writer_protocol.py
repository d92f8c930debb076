"""The SQLite writer process runs named jobs on data, and nothing a peer sends can make it run code.

Against a real `cee serve --processes 2`: hostile frames go over the writer's real Unix socket
(a pickle whose loading would create a folder, garbage, an oversized length, an unknown job, a
job with arguments of the wrong shape, a connection from another uid). None of them runs
anything, and the same writer process keeps serving: the HTTP processes' writes still land.
"""

from __future__ import annotations

import os
import pickle
import re
import socket
import struct
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.conftest import Database, Server, unique_email
from tests.web.util import addsync, assert_success, stored_contact

LENGTH = struct.Struct("!I")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    srv = Server(Database("sqlite", tmp_path))
    srv.init()
    srv.start("--processes", "2")
    yield srv
    srv.stop()


def writer_pid(server: Server) -> int:
    found = re.findall(r"writer process \[(\d+)\] started", server.log.read_text())
    assert len(found) == 1, server.log.read_text()[-3000:]
    return int(found[0])


def writer_socket(pid: int) -> str:
    """Where the writer listens: the supervisor hands the path to its children's environment."""
    environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    [path] = [v.split(b"=", 1)[1] for v in environ if v.startswith(b"CEE_WRITER_SOCKET=")]
    return path.decode()


def connect(path: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(20)
    sock.connect(path)
    return sock


def send_raw(sock: socket.socket, payload: bytes) -> None:
    sock.sendall(LENGTH.pack(len(payload)) + payload)


def receive(sock: socket.socket) -> Any:
    """The next answer frame; None if the writer closed the connection instead."""
    head = _exactly(sock, LENGTH.size)
    if head is None:
        return None
    body = _exactly(sock, LENGTH.unpack(head)[0])
    assert body is not None
    return orjson.loads(body)


def _exactly(sock: socket.socket, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def answer_to(sock: socket.socket, call_id: int) -> Any:
    """The answer to `call_id`, skipping notices (call id 0) the writer may send meanwhile."""
    while True:
        frame = receive(sock)
        assert frame is not None, "the writer closed a connection that sent a well-formed call"
        if frame[0] == call_id:
            return frame


class Exploit:
    """Unpickling this calls os.mkdir(path): what a pickle-reading writer would run."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return os.mkdir, (self.path,)


def test_hostile_frames_run_nothing_and_the_writer_keeps_serving(
    server: Server, tmp_path: Path
) -> None:
    pid = writer_pid(server)
    path = writer_socket(pid)
    assert_success(addsync(server, {"EMAIL": unique_email("before")}))

    # A pickle payload: the writer reads frames as JSON, so nothing is unpickled or called.
    marker = tmp_path / "pwned"
    with connect(path) as sock:
        send_raw(sock, pickle.dumps([1, Exploit(str(marker)), [], 1]))
        assert receive(sock) is None  # not a frame of ours: that connection is dropped
    assert not marker.exists()

    # Garbage, and a length far over the limit: dropped too.
    with connect(path) as sock:
        send_raw(sock, b"\x00\xffnot json at all")
        assert receive(sock) is None
    with connect(path) as sock:
        sock.sendall(LENGTH.pack(2**31) + b"x")
        assert receive(sock) is None

    # Well-formed frames asking for what the job table does not hold, or with arguments of
    # the wrong shape, are answered with an error (name, details) on a connection that stays.
    with connect(path) as sock:
        send_raw(sock, orjson.dumps([7, "os.system", ["touch " + str(marker)], 1]))
        assert answer_to(sock, 7) == [7, False, ["internal", "the writer has no job 'os.system'"]]
        send_raw(sock, orjson.dumps([8, "insert_account", "not an array", 1]))
        ok, (name, details) = answer_to(sock, 8)[1:]
        assert (ok, name) == (False, "internal") and "malformed arguments" in details
        send_raw(sock, orjson.dumps([9, "create_contacts", [[1, "r", "k"], [["x"]], None], 1]))
        ok, (name, details) = answer_to(sock, 9)[1:]
        assert (ok, name) == (False, "internal") and "create_contacts" in details
        # A job of the table, rightly called, runs: the connection still serves.
        send_raw(sock, orjson.dumps([10, "release_journal_claims", ["no-such-worker"], 1]))
        assert answer_to(sock, 10) == [10, True, 0]
    assert not marker.exists()

    # The same writer process, still serving the HTTP processes.
    assert writer_pid(server) == pid and server.proc is not None and server.proc.poll() is None
    email = unique_email("after")
    assert_success(addsync(server, {"EMAIL": email}))
    assert stored_contact(server, email) is not None
    log = server.log.read_text()
    assert log.count("the writer dropped a connection that sent a bad frame") == 3, log[-3000:]
    assert "Traceback" not in log


@pytest.mark.skipif(os.geteuid() != 0, reason="acting as another user needs root")
def test_a_peer_of_another_uid_is_refused_even_if_the_socket_were_open_to_it(
    server: Server,
) -> None:
    pid = writer_pid(server)
    path = writer_socket(pid)
    # Loosen what normally keeps other users out (a private folder, a 0600 socket), so that
    # only the writer's own SO_PEERCRED check stands between them and the job table.
    os.chmod(os.path.dirname(path), 0o755)
    os.chmod(path, 0o666)
    payload = orjson.dumps([1, "release_journal_claims", ["x"], 1])
    call = LENGTH.pack(len(payload)) + payload
    script = (
        "import socket, sys\n"
        "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
        "s.settimeout(20)\n"
        f"s.connect({path!r})\n"
        "try:\n"
        f"    s.sendall({call!r})\n"
        "    print(len(s.recv(100)))\n"
        "except (BrokenPipeError, ConnectionResetError):\n"
        "    print(0)\n"
    )
    out = subprocess.run(
        ["/usr/bin/python3", "-c", script],
        user=65534,
        group=65534,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert out.stdout.strip() == "0"  # closed unanswered
    assert re.search(
        r"the writer refused a connection from pid \d+ of uid 65534", server.log.read_text()
    )
    assert_success(addsync(server, {"EMAIL": unique_email("still")}))


def test_every_write_the_sqlite_store_makes_is_a_job_of_the_table() -> None:
    """A write named nowhere in the table would fail at run time, in this process or the
    writer's; every name the store's modules ask for is checked here instead."""
    import ast

    from cee.storage.sqlite.jobs import JOBS

    folder = Path(__file__).parents[2] / "src" / "cee" / "storage" / "sqlite"
    asked = set()
    for path in folder.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "_write"
            ):
                first = node.args[0]
                assert isinstance(first, ast.Constant), f"{path.name}: a write by name only"
                asked.add(first.value)
    assert len(asked) > 30
    assert asked <= set(JOBS), asked - set(JOBS)
