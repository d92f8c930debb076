"""bulkupload end to end: a real server fetches a CSV from a loopback file server and imports it.

Each test runs on SQLite and PostgreSQL. The file server is the only host the server may reach
(CEE_BULK_ALLOW_HOSTS=127.0.0.1).
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator

import pytest

from tests.conftest import Database, Server
from tests.ingest.bulkutil import start_server, status, upload, view, wait_for
from tests.ingest.fileserver import File, FileServer


@pytest.fixture
def files() -> Iterator[FileServer]:
    fs = FileServer()
    yield fs
    fs.close()


@pytest.fixture
def bulk(database: Database) -> Iterator[Server]:
    srv = start_server(database)
    yield srv
    srv.stop()


def test_rows_are_imported_and_bad_rows_named_by_index_and_line(
    bulk: Server, files: FileServer
) -> None:
    # A BOM, CRLF, quoted fields holding the delimiter, quotes and a newline, any-case names,
    # a blank line (not a row), and three bad rows of different kinds.
    text = (
        "\ufeffemail,Name,City,age\r\n"
        'ann@example.com,"Smith, Ann",Pune,30\r\n'
        'bob@example.com,"Bob ""the builder""","Line one\r\nline two",41\r\n'
        "\r\n"
        "not-an-email,Carl,Goa,22\r\n"
        "dan@example.com,Dan,Delhi,old\r\n"
        "eve@example.com,Eve\r\n"
        "Fay@Example.com,Fay,,25\r\n"
    )
    files.files["/c.csv"] = File(text.encode())
    requestid = upload(bulk, files.url("/c.csv"))
    done = wait_for(bulk, requestid)
    assert done["result"] == "Partial"
    assert (done["total"], done["succeeded"], done["failed"]) == (6, 3, 3)
    by_index = {r["index"]: r for r in done["records"]}
    assert sorted(by_index) == [2, 3, 4]  # only the failed rows, by 0-based data row
    assert by_index[2]["line"] == 6 and by_index[2]["error_code"] == 422
    assert by_index[2]["details"].startswith("EMAIL:")
    assert by_index[3]["line"] == 7 and by_index[3]["details"].startswith("AGE:")
    assert by_index[4]["line"] == 8 and "2 fields; the header has 4" in by_index[4]["details"]

    ann = view(bulk, "ann@example.com")
    assert ann is not None and ann["attributes"]["NAME"] == "Smith, Ann"
    bob = view(bulk, "bob@example.com")
    assert bob is not None
    assert bob["attributes"]["NAME"] == 'Bob "the builder"'
    assert bob["attributes"]["CITY"] == "Line one\r\nline two"
    assert bob["attributes"]["AGE"] == 41
    fay = view(bulk, "fay@example.com")
    assert fay is not None and "CITY" not in fay["attributes"]  # an empty cell sets nothing
    assert view(bulk, "dan@example.com") is None  # a bad row leaves no trace

    # The reject file: the same rows as CSV, with the fields as they were in the file.
    answer = bulk.api(query={"type": "request", "activity": "rejects", "requestid": requestid})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(answer.text)))
    assert rows[0] == ["index", "line", "error_code", "details", "fields"]
    assert [r[:3] for r in rows[1:]] == [["2", "6", "422"], ["3", "7", "422"], ["4", "8", "422"]]
    assert rows[2][4:] == ["dan@example.com", "Dan", "Delhi", "old"]


def test_semicolon_and_tab_files_upsert_into_a_list(bulk: Server, files: FileServer) -> None:
    listed = bulk.api(query={"type": "lists", "activity": "create", "listname": "imported"})
    listid = listed.json()["result"]["listid"]
    made = bulk.api(
        query={
            "type": "contact",
            "activity": "addsync",
            "data": '{"EMAIL":"old@example.com","NAME":"Old","CITY":"Agra"}',
        }
    )
    assert made.status_code == 200
    files.files["/semi.csv"] = File(b"EMAIL;NAME\nold@example.com;Renamed\nnew@example.com;New\n")
    files.files["/tab.csv"] = File(b"EMAIL\tCITY\nnew@example.com\tKochi\n")
    for path in ("/semi.csv", "/tab.csv"):
        done = wait_for(bulk, upload(bulk, files.url(path), listid=listid))
        assert done["result"] == "Success" and done["failed"] == 0
    old = view(bulk, "old@example.com")
    assert old is not None
    # Upserted as `add` does: given attributes merged, the others kept.
    assert old["attributes"] == {"EMAIL": "old@example.com", "NAME": "Renamed", "CITY": "Agra"}
    assert old["lists"] == [listid]
    new = view(bulk, "new@example.com")
    assert new is not None and new["attributes"]["CITY"] == "Kochi" and new["lists"] == [listid]


def test_a_file_that_is_not_a_csv_fails_the_job_clearly(bulk: Server, files: FileServer) -> None:
    files.files["/page.html"] = File(
        b"<html><body>Sign in</body></html>\n", content_type="text/html"
    )
    files.files["/no-key.csv"] = File(b"NAME,CITY\nAnn,Pune\n")
    files.files["/binary"] = File(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe")
    files.files["/empty.csv"] = File(b"")
    expected = {
        "/page.html": "the header has no EMAIL column",
        "/no-key.csv": "the header has no EMAIL column (the account's primary key); its "
        "columns: NAME, CITY",
        "/binary": "not UTF-8 text",
        "/empty.csv": "the file is empty",
    }
    jobs = {path: upload(bulk, files.url(path)) for path in expected}
    for path, reason in expected.items():
        done = wait_for(bulk, jobs[path])
        assert done["result"] == "Failed", path
        assert done["reason"].startswith("not a CSV file: ") and reason in done["reason"], done
    missing = wait_for(bulk, upload(bulk, files.url("/absent.csv")))
    assert missing["result"] == "Failed" and "answered HTTP 404" in missing["reason"]


def test_progress_is_visible_while_a_slow_file_arrives(bulk: Server, files: FileServer) -> None:
    rows = "".join(f"slow{i}@example.com,Row {i}\n" for i in range(400))
    files.files["/slow.csv"] = File(("EMAIL,NAME\n" + rows).encode(), pieces=8, pause=0.4)
    requestid = upload(bulk, files.url("/slow.csv"))
    running = wait_for(bulk, requestid, "running")
    assert running["result"] is None and running["records"] is None
    partial = None
    while (found := status(bulk, requestid))["state"] != "done":
        if 0 < found["rows_done"] < 400:
            partial = found
        time.sleep(0.05)
    assert partial is not None, "the status never showed rows done part-way"
    assert 0 < partial["bytes_done"] < partial["bytes_total"] == len(files.files["/slow.csv"].body)
    assert found["succeeded"] == 400 and found["result"] == "Success"


def test_many_failed_rows_are_listed_a_page_at_a_time(bulk: Server, files: FileServer) -> None:
    good = "".join(f"ok{i}@example.com\n" for i in range(5))
    bad = "".join(f"bad{i}\n" for i in range(620))
    files.files["/pages.csv"] = File(("EMAIL\n" + good + bad).encode())
    requestid = upload(bulk, files.url("/pages.csv"))
    first = wait_for(bulk, requestid)
    assert (first["result"], first["succeeded"], first["failed"]) == ("Partial", 5, 620)
    assert (first["page"], first["pages"], len(first["records"])) == (1, 2, 500)
    second = status(bulk, requestid, page=2)
    assert (second["page"], len(second["records"])) == (2, 120)
    indexes = [r["index"] for r in first["records"] + second["records"]]
    assert indexes == list(range(5, 625))
    assert second["records"][-1]["line"] == 626
    wrong = bulk.api(
        query={"type": "request", "activity": "status", "requestid": requestid, "page": "0"}
    )
    assert wrong.status_code == 400 and wrong.json()["details"].startswith("page:")


def test_erasure_also_drops_the_contacts_rejected_rows(bulk: Server, files: FileServer) -> None:
    files.files["/e.csv"] = File(b"EMAIL,AGE\nKeep@example.com,x\nGone@Example.com,y\n")
    requestid = upload(bulk, files.url("/e.csv"))
    assert wait_for(bulk, requestid)["failed"] == 2
    erased = bulk.api(
        query={
            "type": "erasure_user_data",
            "activity": "request_erasure_data",
            "primary_key": "gone@example.com",
        }
    )
    assert erased.status_code == 200, erased.text
    answer = bulk.api(query={"type": "request", "activity": "rejects", "requestid": requestid})
    assert "Keep@example.com" in answer.text and "Gone@" not in answer.text


def test_a_file_of_thousands_of_rows_lands_whole_in_the_list(
    bulk: Server, files: FileServer
) -> None:
    # 4,500 rows: on PostgreSQL copied 2,000 at a time, on SQLite in pieces of 100 (in steps
    # between requests' commits while requests write, as these addsyncs do); contacts that
    # exist among them are merged, a bad row is named.
    listed = bulk.api(query={"type": "lists", "activity": "create", "listname": "big"})
    listid = listed.json()["result"]["listid"]
    for i in (5, 2500):
        made = bulk.api(
            query={
                "type": "contact",
                "activity": "addsync",
                "data": f'{{"EMAIL":"many{i}@example.com","CITY":"Agra"}}',
            }
        )
        assert made.status_code == 200
    rows = [f"many{i}@example.com,Row {i}" for i in range(4500)]
    rows[3000] = "not-an-email,Row 3000"
    files.files["/many.csv"] = File(("EMAIL,NAME\n" + "\n".join(rows) + "\n").encode())
    requestid = upload(bulk, files.url("/many.csv"), listid=listid)
    beside = 0
    while status(bulk, requestid)["state"] != "done":  # requests writing beside the import
        beside += 1
        data = f'{{"EMAIL":"beside{beside}@example.com"}}'
        assert (
            bulk.api(query={"type": "contact", "activity": "addsync", "data": data}).status_code
            == 200
        )
    done = status(bulk, requestid)
    assert (done["result"], done["succeeded"], done["failed"]) == ("Partial", 4499, 1)
    assert [r["index"] for r in done["records"]] == [3000]
    for i in (0, 1999, 2000, 2999, 3001, 4499):
        seen = view(bulk, f"many{i}@example.com")
        assert seen is not None and seen["attributes"]["NAME"] == f"Row {i}", i
        assert seen["lists"] == [listid]
    for i in (5, 2500):  # merged as `add` merges: the CITY they had is kept
        seen = view(bulk, f"many{i}@example.com")
        assert seen is not None and seen["lists"] == [listid]
        assert seen["attributes"] == {
            "EMAIL": f"many{i}@example.com",
            "CITY": "Agra",
            "NAME": f"Row {i}",
        }
