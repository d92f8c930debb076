"""docs/api.md runs as written: every shell example, in order, against a fresh server.

What a new user does: `make run`, set the variables the doc's first block names, paste every
example top to bottom. Each command runs in one bash session (so a variable one example sets is
there for the next), with real curl, against a real `cee serve` on a fresh database; the answer
each command gives is compared with the one the doc shows after it (`# {...}` on the next line,
or the ```json block that follows; `# lines` of text for a CSV answer): the same HTTP status
(the shown `error_code`, else 200), the same fields at every level, the same values where the
doc shows a value (a `…` in a shown string stands for any text; times, requestids, key prefixes
and DDMMYYYY days may differ in value, not in form). A command with no answer shown must still
answer 2xx. Anyone who adds an example adds a step of this test, so the doc cannot drift from
the server again.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Server

DOC = Path(__file__).parents[1] / "docs" / "api.md"
# The variables the doc asks the reader to set; the test sets them to its own server and file.
PROVIDED = ("CEE_URL", "CEE_API_KEY", "CSV_URL")
ELLIPSIS = "…"
# Values that differ from run to run, compared by form.
VARYING = [
    re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00"),  # a moment, ISO-8601 UTC
    re.compile(r"[0-9a-f]{32}"),  # a requestid
    re.compile(r"cee_[A-Za-z0-9_-]{8}"),  # a key prefix
    re.compile(r"\d{8}"),  # a DDMMYYYY day
]
STEP_SECONDS = 120
SHELL = ("sh", "bash", "shell")


@dataclass
class Command:
    """One command of a shell example and the answer the doc shows for it (None: not shown)."""

    text: str
    line: int
    shown: str | None = None  # a JSON answer
    shown_lines: list[str] = field(default_factory=list)  # a text answer (a CSV file), by line


def fenced_blocks(text: str) -> Iterator[tuple[str, int, str]]:
    """(language, first line number, body) of each ``` block, in order."""
    pattern = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)
    for match in pattern.finditer(text):
        yield match.group(1), text.count("\n", 0, match.start()) + 2, match.group(2)


def commands_of(body: str, first_line: int) -> list[Command]:
    """Split a shell block: a command starts at column 0; indented lines continue it (the doc's
    `\\` continuations and multi-line quoted JSON); `# {...}` right after it is its answer."""
    out: list[Command] = []
    for offset, line in enumerate(body.splitlines()):
        if not line.strip():
            continue
        if line.startswith("#"):
            answer = line[1:].strip()
            if out and out[-1].shown is None and not out[-1].shown_lines and answer[:1] in "{[":
                out[-1].shown = answer
            elif out and out[-1].shown is None:
                out[-1].shown_lines.append(answer)
            continue
        if line[0].isspace() and out:
            out[-1].text += "\n" + line
        else:
            out.append(Command(line, first_line + offset))
    return out


def doc_commands() -> list[Command]:
    """Every shell command of docs/api.md in order, with the answers shown for them."""
    steps: list[Command] = []
    previous: list[Command] = []
    for language, line, body in fenced_blocks(DOC.read_text()):
        if language in SHELL:
            previous = commands_of(body, line)
            steps.extend(previous)
        elif language == "json":
            # An answer block belongs to the last command of the shell block right before it,
            # when that command shows no answer of its own.
            if previous and previous[-1].shown is None and previous[-1].text.startswith("curl"):
                previous[-1].shown = body
            previous = []
        else:
            previous = []
    return steps


def provided(command: Command) -> bool:
    """The doc's lines that set a variable the test sets itself (its own URL, key and file)."""
    return any(re.match(rf"(export\s+)?{name}=", command.text) for name in PROVIDED)


# Each step writes its own files; curl's status lines go to stderr, its answers are kept too,
# so that the next step can wait until an async request the step made is done: the reader's
# paste is slower than the worker, and so must the test be.
PREAMBLE = r"""
curl() { command curl -w '%{stderr}@@STATUS %{http_code}\n' "$@" | tee -a "$__SEEN"; }
__settle() {
  local rid state
  for rid in $(grep -o '"requestid":"[0-9a-f]\{32\}"' "$__SEEN" | cut -d'"' -f4); do
    for __i in $(seq 200); do
      state=$(command curl -s \
        "$CEE_URL/apiv2?type=request&activity=status&requestid=$rid&apikey=$CEE_API_KEY")
      case "$state" in *'"state":"done"'*|*'"error_code":404'*) break;; esac
      sleep 0.1
    done
  done
}
"""


def script(steps: list[Command], work: Path) -> str:
    parts = [PREAMBLE]
    for i, step in enumerate(steps):
        parts.append(
            f'__SEEN="{work}/seen.{i}"; : > "$__SEEN"\n'
            f'{{\n{step.text}\n}} >"{work}/out.{i}" 2>"{work}/err.{i}"\n'
            f'echo $? >"{work}/rc.{i}"\n'
            "__settle\n"
        )
    return "\n".join(parts)


def lenient_json(text: str) -> Any:
    """The doc's JSON, where a bare `…` (outside strings) stands for more of the same."""
    out: list[str] = []
    in_string = escaped = False
    for char in text:
        if in_string:
            in_string = not (char == '"' and not escaped)
            escaped = char == "\\" and not escaped
        elif char == '"':
            in_string = True
        elif char == ELLIPSIS:
            out.append(f'"{ELLIPSIS}"')
            continue
        out.append(char)
    return json.loads("".join(out))


def matches(shown: str, given: str) -> bool:
    """A shown string against the given one: equal, or equal but where the doc shows `…`."""
    pattern = ".*".join(re.escape(part) for part in shown.split(ELLIPSIS))
    return re.fullmatch(pattern, given, re.S) is not None


def differences(shown: Any, given: Any, where: str = "answer") -> list[str]:
    """Where `given` differs from `shown` in shape or in a value the doc states."""
    if isinstance(shown, dict):
        if not isinstance(given, dict):
            return [f"{where}: shown an object, given {given!r}"]
        if set(shown) != set(given):
            return [f"{where}: fields shown {sorted(shown)}, given {sorted(given)}"]
        return [d for k in shown for d in differences(shown[k], given[k], f"{where}.{k}")]
    if isinstance(shown, list):
        if not isinstance(given, list):
            return [f"{where}: shown a list, given {given!r}"]
        open_ended = bool(shown) and shown[-1] == ELLIPSIS
        items = shown[:-1] if open_ended else shown
        if len(given) < len(items) or (not open_ended and len(given) != len(items)):
            return [f"{where}: shown {len(items)} items{'+' * open_ended}, given {len(given)}"]
        return [d for i, s in enumerate(items) for d in differences(s, given[i], f"{where}[{i}]")]
    if isinstance(shown, str) and isinstance(given, str):
        if ELLIPSIS in shown:
            ok = matches(shown, given)
        else:
            ok = shown == given or any(p.fullmatch(shown) and p.fullmatch(given) for p in VARYING)
        return [] if ok else [f"{where}: shown {shown!r}, given {given!r}"]
    if shown == ELLIPSIS:
        return []
    if type(shown) is not type(given) or shown != given:
        return [f"{where}: shown {shown!r}, given {given!r}"]
    return []


def expected_status(shown: Any) -> int:
    if isinstance(shown, dict) and isinstance(shown.get("error_code"), int):
        return int(shown["error_code"])
    return 200


# The CSV file the bulkupload example imports: the one the doc shows (```csv block).
def doc_csv() -> str:
    for language, _, body in fenced_blocks(DOC.read_text()):
        if language == "csv":
            return body
    return "EMAIL,NAME\nfile@example.com,File\n"


@pytest.fixture
def csv_url() -> Iterator[str]:
    """A loopback HTTP server handing out the doc's CSV file (as the reader's CSV_URL would)."""
    content = doc_csv().encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/csv")
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/contacts.csv"
    httpd.shutdown()
    httpd.server_close()


def test_every_curl_example_is_in_a_shell_block() -> None:
    """A curl line in a block of another kind (```console, ```text, unlabelled) would not run."""
    stray = [
        f"docs/api.md line {line}: a ```{language or '(no language)'} block holds a curl command"
        for language, line, body in fenced_blocks(DOC.read_text())
        if language not in SHELL and re.search(r"^\s*(\$\s*)?curl\s", body, re.M)
    ]
    assert not stray, "\n".join(stray) + "\n(label it ```sh, so that the docs test runs it)"


def test_the_doc_has_examples_with_answers() -> None:
    steps = doc_commands()
    assert len(steps) > 30
    assert sum(1 for s in steps if s.shown) > 25
    texts = "\n".join(s.text for s in steps)
    # One set of variables throughout: no fixed address, no other key variable.
    assert "127.0.0.1:8080/" not in texts.replace("export CEE_URL=http://127.0.0.1:8080", "")
    assert "$KEY" not in texts and "$CEE " not in texts + " "


def test_pasting_every_example_in_order_gives_the_answers_shown(
    database: Any, csv_url: str, tmp_path: Path
) -> None:
    server = Server(database, {"CEE_BULK_ALLOW_HOSTS": "127.0.0.1"})
    server.init()
    server.start()
    try:
        steps = [s for s in doc_commands() if not provided(s)]
        work = tmp_path / "steps"
        work.mkdir()
        env = {
            "PATH": os.environ["PATH"],
            "HOME": str(tmp_path),
            "LANG": "C.UTF-8",
            "CEE_URL": server.base,
            "CEE_API_KEY": server.api_key,
            "CSV_URL": csv_url,
        }
        (work / "doc.sh").write_text(script(steps, work))
        subprocess.run(
            ["bash", str(work / "doc.sh")],
            cwd=tmp_path,
            env=env,
            timeout=STEP_SECONDS * 4,
            check=False,
        )
        problems: list[str] = []
        for i, step in enumerate(steps):
            head = f"docs/api.md line {step.line}: {step.text.splitlines()[0][:90]}"
            rc_file = work / f"rc.{i}"
            if not rc_file.exists():
                problems.append(f"{head}: did not run")
                continue
            out = (work / f"out.{i}").read_text()
            statuses = [
                int(s) for s in re.findall(r"@@STATUS (\d+)", (work / f"err.{i}").read_text())
            ]
            if rc_file.read_text().strip() != "0":
                problems.append(f"{head}: exit code {rc_file.read_text().strip()}")
                continue
            if step.shown is None:
                if any(not 200 <= s < 300 for s in statuses):
                    problems.append(f"{head}: answered {statuses}: {out[:200]}")
                lines = out.rstrip("\n").splitlines()
                if step.shown_lines and (
                    len(lines) != len(step.shown_lines)
                    or not all(map(matches, step.shown_lines, lines))
                ):
                    problems.append(f"{head}: shown {step.shown_lines}, given {lines}")
                continue
            shown = lenient_json(step.shown)
            if statuses[-1:] != [expected_status(shown)]:
                problems.append(
                    f"{head}: status {statuses}, shown {expected_status(shown)}: {out[:300]}"
                )
                continue
            try:
                given = json.loads(out)
            except json.JSONDecodeError:
                problems.append(f"{head}: not JSON: {out[:200]}")
                continue
            problems.extend(f"{head}: {d}" for d in differences(shown, given))
        assert not problems, "\n".join(problems)
    finally:
        server.stop()
