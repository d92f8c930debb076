"""The client's bulk methods against a real server: bulkupload, v3 batchadd and blacklist."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cee_client import Client, errors

from tests.conftest import Database, Server, need_postgres, unique_email
from tests.ingest.bulkutil import ALLOW_LOOPBACK
from tests.ingest.fileserver import File, FileServer


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def bulk_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """One server for the module that may fetch bulk files from the loopback file server."""
    need_postgres(request.param)
    db = Database(request.param, tmp_path_factory.mktemp("bulk"))
    srv = Server(db, ALLOW_LOOPBACK)
    srv.init()
    srv.start()
    yield srv
    srv.stop()
    db.drop()


@pytest.fixture
def cee(bulk_server: Server) -> Iterator[Client]:
    with Client(bulk_server.api_key, bulk_server.base) as client:
        yield client


@pytest.fixture
def files() -> Iterator[FileServer]:
    fs = FileServer()
    yield fs
    fs.close()


def test_bulkupload_then_wait_reports_the_bad_rows(cee: Client, files: FileServer) -> None:
    a, b = unique_email("bulk"), unique_email("bulk")
    files.files["/people.csv"] = File(
        f"EMAIL,CITY\n{a},Pune\nnot-an-email,Goa\n{b},Agra\n".encode()
    )
    listid = cee.create_list(f"bulk-{a[:12]}")
    requestid = cee.bulkupload(files.url("/people.csv"), listid=listid)
    status = cee.wait(requestid, timeout=60)
    assert status.result == "Partial"
    assert (status.raw["total"], status.raw["succeeded"], status.raw["failed"]) == (3, 2, 1)
    assert status.records is not None
    [bad] = status.records
    assert (bad.index, bad.ok, bad.error_code) == (1, False, 422)
    assert bad.extra["line"] == 3
    assert cee.view(b).attributes["CITY"] == "Agra"
    assert cee.view(a).lists == [listid]


def test_bulkupload_of_a_refused_address_is_a_bad_request(cee: Client) -> None:
    with pytest.raises(errors.BadRequest) as caught:
        cee.bulkupload("http://10.1.2.3/people.csv")
    assert "path" in caught.value.details


def test_batchadd_is_journaled_and_reported_per_record(cee: Client) -> None:
    good = unique_email("v3")
    listid = cee.create_list(f"v3-{good[:12]}")
    requestid = cee.batchadd(
        [{"EMAIL": good, "NAME": "Vee"}, {"EMAIL": "nope"}], listid=listid, primarykey="email"
    )
    status = cee.wait(requestid, timeout=60)
    assert status.result == "Partial"
    assert status.records is not None
    assert [(r.index, r.ok) for r in status.records] == [(0, True), (1, False)]
    assert cee.view(good).lists == [listid]


def test_batchadd_with_the_wrong_primary_key_is_refused(cee: Client) -> None:
    with pytest.raises(errors.BadRequest) as caught:
        cee.batchadd([{"EMAIL": unique_email()}], primarykey="mobile")
    assert "primarykey" in caught.value.details


def test_blacklist_many_reports_by_position(cee: Client) -> None:
    known, unknown = unique_email("bk"), unique_email("bu")
    cee.addsync({"EMAIL": known})
    report = cee.blacklist_many([known, "not-an-email", unknown], primarykey="email")
    assert (report.total, report.succeeded, report.failed) == (3, 2, 1)
    assert [(f.index, f.error_code) for f in report.failures] == [(1, 422)]
    assert cee.view(known).blacklisted == {"email": True}
    assert cee.view(unknown).blacklisted == {"email": True}  # created, as Netcore's v3 does
