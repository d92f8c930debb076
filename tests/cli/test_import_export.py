"""`cee import` and `cee export` as real processes against a real server (each backend)."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import time
from pathlib import Path

import pytest
from cee_client import Client

from tests.conftest import CEE, Server

ROWS = 100_000
HEADER = ["email", "FIRST_NAME", "AGE"]
# Data-row index -> why it is bad (the reject file must name exactly these rows).
BAD = {
    3: (422, "EMAIL"),  # not an email
    20_000: (400, "fields"),  # a row too short
    45_678: (422, "AGE"),  # not an integer
    60_000: (302, "Duplicate"),  # the same email as row 10
    99_999: (422, "EMAIL"),
}


def write_csv(path: Path) -> dict[str, list[str]]:
    """The 100,000-row file; {email: its row} of the rows that should be imported."""
    good: dict[str, list[str]] = {}
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        for i in range(ROWS):
            row = [f"row{i}@example.com", f'First {i}, "quoted"', str(i % 90)]
            if i == 3 or i == 99_999:
                row[0] = f"not-an-email-{i}"
            elif i == 20_000:
                row = [row[0]]
            elif i == 45_678:
                row[2] = "forty"
            elif i == 60_000:
                row[0] = "row10@example.com"
            else:
                good[row[0]] = row
            writer.writerow(row)
    return good


def cee_import(server: Server, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [CEE, "import", *args, "--url", server.base, "--key", server.api_key],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def done_rows(state: Path) -> int:
    try:
        return sum(b - a for a, b in json.loads(state.read_text())["done"])
    except (OSError, ValueError):
        return 0  # not written yet, or being replaced this instant


def test_import_100k_interrupted_resumed_then_exported(server: Server, tmp_path: Path) -> None:
    source = tmp_path / "contacts.csv"
    good = write_csv(source)
    state = tmp_path / "contacts.csv.import-state.json"
    rejects = tmp_path / "contacts.csv.rejects.csv"
    with Client(server.api_key, server.base) as cee:
        listid = cee.create_list("imported")

    first = cee_import(server, str(source), "--list", str(listid))
    deadline = time.monotonic() + 120
    while done_rows(state) < 20_000 and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    first.send_signal(signal.SIGINT)
    _, err = first.communicate(timeout=60)
    assert first.returncode == 130, err
    assert "--resume" in err and "Traceback" not in err
    stopped_at = done_rows(state)
    assert 20_000 <= stopped_at < ROWS  # it stopped part-way, with a resume point

    second = cee_import(server, str(source), "--list", str(listid), "--resume")
    _, err = second.communicate(timeout=300)
    assert second.returncode == 0, err
    assert f"{len(good)} imported, {len(BAD)} rejected" in err
    assert "rows/s" in err
    assert not state.exists()

    # The reject file names exactly the bad rows, each once, with its line and the error.
    with open(rejects, newline="") as f:
        reader = csv.reader(f)
        assert next(reader) == ["line", "error_code", "error", *HEADER]
        found = {int(r[0]) - 2: (int(r[1]), r[2], r[3:]) for r in reader}
    assert sorted(found) == sorted(BAD)  # line = data row + 2 (1-based, after the header)
    for index, (code, word) in BAD.items():
        assert found[index][0] == code, found[index]
        assert word in found[index][1], found[index]
    assert found[60_000][2] == ["row10@example.com", 'First 60000, "quoted"', "60"]
    # Nothing was sent twice: a re-sent row would be a 302 reject (addsync), and there is one
    # 302 only, the file's own duplicate. The list holds each good row once.
    assert sum(1 for code, _, _ in found.values() if code == 302) == 1
    with Client(server.api_key, server.base) as cee:
        assert {i.listid: i.count for i in cee.lists()}[listid] == len(good)

    # cee export round-trips it: the same contacts, the same values.
    out = tmp_path / "export.csv"
    done = subprocess.run(
        [CEE, "export", *server.db.args(), "--list", str(listid), "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert f"{len(good)} contacts exported" in done.stderr
    with open(out, newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames and reader.fieldnames[0] == "EMAIL"
        exported = {r["EMAIL"]: [r["EMAIL"], r["FIRST_NAME"], r["AGE"]] for r in reader}
    assert exported == good


def test_import_ndjson_async_mode_with_rejects(server: Server, tmp_path: Path) -> None:
    source = tmp_path / "people.ndjson"
    lines = [json.dumps({"EMAIL": f"nd{i}@example.com", "CITY": "Goa"}) for i in range(40)]
    lines[7] = json.dumps({"EMAIL": "broken"})
    lines[30] = "{not json"
    source.write_text("\n".join(lines) + "\n")
    proc = cee_import(server, str(source), "--mode", "async", "--chunk-size", "10")
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "38 imported, 2 rejected" in err
    with open(tmp_path / "people.ndjson.rejects.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["line", "error_code", "error", "row"]
    assert sorted((r[0], r[1]) for r in rows[1:]) == [("31", "400"), ("8", "422")]
    assert [r[3] for r in rows[1:] if r[0] == "8"] == [lines[7]]
    with Client(server.api_key, server.base) as cee:
        assert cee.view("nd39@example.com").attributes["CITY"] == "Goa"

    # Exported as NDJSON, the contacts come back as the objects that were imported.
    done = subprocess.run(
        [CEE, "export", *server.db.args(), "--format", "ndjson", "--no-progress"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    exported = [json.loads(line) for line in done.stdout.splitlines()]
    expected = [json.loads(x) for i, x in enumerate(lines) if i not in (7, 30)]
    # (Chunks sent at once are applied in any order: compare as sets of contacts.)
    assert sorted(exported, key=str) == sorted(expected, key=str)


# What these check happens in the command before any storage: one backend is enough.
@pytest.mark.parametrize("backend", ["sqlite"])
def test_import_refusals_are_clean(server: Server, tmp_path: Path) -> None:
    source = tmp_path / "few.csv"
    source.write_text("EMAIL\nfew1@example.com\nfew2@example.com\n")

    proc = cee_import(server, str(source), "--resume")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1 and "nothing to resume" in err

    # A wrong key stops at once, leaving a resume point; nothing is imported.
    proc = subprocess.Popen(
        [CEE, "import", str(source), "--url", server.base, "--key", "cee_wrong"],
        stderr=subprocess.PIPE,
        text=True,
    )
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err
    assert "Invalid API key" in err and "Traceback" not in err
    state = tmp_path / "few.csv.import-state.json"
    assert state.exists()

    # Without --resume, the interrupted import is not silently started over.
    proc = cee_import(server, str(source))
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1 and "--resume" in err

    proc = cee_import(server, str(source), "--resume")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "2 imported, 0 rejected" in err

    # The file changed since: a resume would skip the wrong rows, so it is refused.
    fake = {"source": {}, "done": [], "imported": 0, "rejected": 0, "rejects_bytes": 0, "id": "x"}
    state.write_text(json.dumps(fake))
    proc = cee_import(server, str(source), "--resume")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1 and "changed" in err

    # A state file that is not one cee import wrote is refused with a word, not a traceback.
    state.write_text("{}")
    proc = cee_import(server, str(source), "--resume")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1 and "not a state" in err and "Traceback" not in err


@pytest.mark.parametrize("backend", ["sqlite"])
def test_export_of_an_unknown_list_is_an_error(server: Server) -> None:
    done = subprocess.run(
        [CEE, "export", *server.db.args(), "--list", "4242"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "4242" in done.stderr and "Traceback" not in done.stderr


def test_import_killed_hard_then_resumed_applies_each_row_once(
    server: Server, tmp_path: Path
) -> None:
    # SIGKILL gives the import no chance to record the chunks in flight: --resume sends them
    # again, under the same Idempotency-Keys, and the server answers them from the first time.
    source = tmp_path / "hard.csv"
    bad_at = {7, 12_345, 19_999}
    with open(source, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["EMAIL", "CITY"])
        for i in range(20_000):
            writer.writerow([f"bad{i}" if i in bad_at else f"hard{i}@example.com", "Pune"])
    state = tmp_path / "hard.csv.import-state.json"
    first = cee_import(server, str(source), "--no-progress", "--chunk-size", "500")
    deadline = time.monotonic() + 120
    while done_rows(state) < 3_000 and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    first.kill()
    first.communicate(timeout=60)
    assert done_rows(state) < 20_000
    second = cee_import(server, str(source), "--no-progress", "--chunk-size", "500", "--resume")
    _, err = second.communicate(timeout=300)
    assert second.returncode == 0, err
    with open(tmp_path / "hard.csv.rejects.csv", newline="") as f:
        rejects = list(csv.reader(f))[1:]
    # Only the bad rows: a chunk applied twice would add its rows here as 302 duplicates.
    assert sorted(int(r[0]) - 2 for r in rejects) == sorted(bad_at)
    assert {r[1] for r in rejects} == {"422"}
    with Client(server.api_key, server.base) as cee:
        assert cee.view("hard19998@example.com").attributes["CITY"] == "Pune"
