"""The `cee` command's administration tasks, run as a real process against a real database."""

from __future__ import annotations

import json
import sqlite3

from tests.conftest import Database, Server, run_cli, unique_email
from tests.ingest.util import accepted, add, status
from tests.web.util import addsync, assert_error, assert_success, list_counts


def test_init_json_prints_the_credentials_once(database: Database) -> None:
    out = run_cli(database, "init", "--json")
    creds = json.loads(out.stdout)
    assert creds["account_id"] == 1
    assert creds["admin_user"] == "admin"
    assert creds["primary_key"] == "EMAIL"
    assert len(creds["admin_password"]) >= 12
    assert creds["api_key"].startswith("cee_") and len(creds["api_key"]) > 30
    if database.backend == "sqlite":
        path = database.data_dir / "cee.db"
        conn = sqlite3.connect(path)
        try:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            # Only a hash of the key is stored.
            dump = "\n".join(conn.iterdump())
        finally:
            conn.close()
        assert creds["api_key"] not in dump
        assert creds["admin_password"] not in dump


def test_init_without_json_says_what_it_made(database: Database) -> None:
    out = run_cli(database, "init")
    assert "initialised" in out.stdout
    assert "API key:" in out.stdout and "cee_" in out.stdout
    assert "admin password:" in out.stdout


def test_init_twice_changes_nothing_and_shows_no_key(database: Database) -> None:
    first = json.loads(run_cli(database, "init", "--json").stdout)
    again = run_cli(database, "init", "--json", check=False)
    assert again.returncode == 1
    assert "already initialised" in again.stderr
    assert first["api_key"] not in again.stdout + again.stderr
    assert "API key:" not in again.stdout
    assert "Traceback" not in again.stderr
    # The first key still works: nothing was replaced.
    srv = Server(database)
    srv.creds = first
    srv.start()
    try:
        assert_success(addsync(srv, {"EMAIL": unique_email()}))
    finally:
        srv.stop()


def test_init_with_another_primary_key(database: Database) -> None:
    creds = json.loads(run_cli(database, "init", "--json", "--primary-key", "mobile").stdout)
    assert creds["primary_key"] == "MOBILE"
    listing = run_cli(database, "account", "list").stdout
    assert "primary key MOBILE" in listing


def test_init_refuses_a_primary_key_that_is_not_offered(database: Database) -> None:
    out = run_cli(database, "init", "--primary-key", "CITY", check=False)
    assert out.returncode == 2
    assert "CITY" in out.stderr


def test_users_create_list_disable_enable(server: Server) -> None:
    out = server.cli("user", "create", "priya", "--json")
    made = json.loads(out.stdout)
    assert made["user"] == "priya" and made["api_key"].startswith("cee_") and made["password"]
    listing = server.cli("user", "list").stdout
    admin_line = next(line for line in listing.splitlines() if line.startswith("admin\t"))
    priya_line = next(line for line in listing.splitlines() if line.startswith("priya\t"))
    assert "admin\tactive" in admin_line
    assert "sub admin\tactive" in priya_line
    assert made["api_key"][:12] in priya_line  # the prefix, never the key
    assert made["api_key"] not in listing
    assert_success(addsync(server, {"EMAIL": unique_email()}, key=made["api_key"]))

    server.cli("user", "disable", "priya")
    assert "disabled" in next(
        line for line in server.cli("user", "list").stdout.splitlines() if "priya" in line
    )
    assert_error(addsync(server, {"EMAIL": unique_email()}, key=made["api_key"]), 401)

    again = server.cli("user", "create", "priya", check=False)
    assert again.returncode == 1 and "priya" in again.stderr
    missing = server.cli("user", "disable", "nobody", check=False)
    assert missing.returncode == 1 and "nobody" in missing.stderr


def test_key_rotate_prints_a_new_key_that_works(server: Server) -> None:
    out = server.cli("key", "rotate", "admin")
    new_key = out.stdout.strip()
    assert new_key.startswith("cee_") and new_key != server.api_key
    assert_error(addsync(server, {"EMAIL": unique_email()}), 401)
    assert_success(addsync(server, {"EMAIL": unique_email()}, key=new_key))


def test_lists_and_attributes_from_the_cli(server: Server) -> None:
    listid = int(server.cli("list", "create", "VIP").stdout.strip())
    assert_success(addsync(server, {"EMAIL": unique_email()}, listid=listid))
    assert list_counts(server) == {"VIP": 1}
    assert f"{listid}\tVIP\t1" in server.cli("list", "list").stdout
    dup = server.cli("list", "create", "VIP", check=False)
    assert dup.returncode == 1 and "VIP" in dup.stderr

    assert server.cli("attribute", "create", "plan", "TextLine").stdout.strip() == "PLAN\ttextline"
    listing = server.cli("attribute", "list").stdout
    assert "PLAN\ttextline\n" in listing + "\n"
    assert "EMAIL\temail\tbuilt-in" in listing
    assert_success(addsync(server, {"EMAIL": unique_email(), "plan": "gold"}))

    # An unknown datatype is a usage error (exit 2, as docs/cli.md says) naming the datatypes.
    for wrong in ("blob", "Boolean"):
        bad = server.cli("attribute", "create", "score", wrong, check=False)
        assert bad.returncode == 2, bad
        assert "DATATYPE" in bad.stderr and "textline" in bad.stderr
        assert "Traceback" not in bad.stderr
    assert "SCORE" not in server.cli("attribute", "list").stdout
    bad_name = server.cli("attribute", "create", "9lives", "integer", check=False)
    assert bad_name.returncode == 1 and "name" in bad_name.stderr


def test_primary_key_can_change_only_while_there_are_no_contacts(server: Server) -> None:
    server.cli("account", "primary-key", "CUSTOMER_ID")
    assert "primary key CUSTOMER_ID" in server.cli("account", "list").stdout
    assert_success(addsync(server, {"CUSTOMER_ID": "00000132"}))
    refused = server.cli("account", "primary-key", "EMAIL", check=False)
    assert refused.returncode == 1
    assert refused.stderr.startswith("error: primary key: the account has contacts")
    assert "Traceback" not in refused.stderr
    assert "primary key CUSTOMER_ID" in server.cli("account", "list").stdout


def test_account_create_and_api_mode(server: Server) -> None:
    beta = json.loads(server.cli("account", "create", "beta", "--json").stdout)
    assert beta["account_name"] == "beta" and beta["api_key"].startswith("cee_")
    # The database it was made in, as `cee init --json` prints it.
    assert beta["database"] == server.creds["database"] and beta["database"]
    server.cli("account", "api-mode", "off", "--account", "beta")
    listing = server.cli("account", "list").stdout
    assert "beta\tprimary key EMAIL\tAPI Mode off" in listing
    assert "default\tprimary key EMAIL\tAPI Mode on" in listing
    # The 403 names how to turn API Mode on: the panel's path (as Netcore's) and the CLI.
    off = addsync(server, {"EMAIL": unique_email()}, key=beta["api_key"])
    panel = "Admin → Account Configuration → Advance details → API Mode"
    assert_error(off, 403, "API Mode is off", panel, "`cee account api-mode on`")
    assert_success(addsync(server, {"EMAIL": unique_email()}))
    dup = server.cli("account", "create", "beta", check=False)
    assert dup.returncode == 1 and "beta" in dup.stderr


def test_commands_on_a_missing_database_fail_cleanly(database: Database) -> None:
    if database.backend != "sqlite":
        database.data_dir.mkdir(parents=True, exist_ok=True)
    out = run_cli(database, "list", "list", check=False)
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    assert "cee init" in out.stderr


def test_serve_no_worker_says_adds_stay_queued(database: Database) -> None:
    srv = Server(database)
    srv.init()
    srv.start("--no-worker")
    try:
        rid = accepted(add(srv, {"EMAIL": unique_email()}))
        assert status(srv, rid).json()["result"]["state"] == "queued"
    finally:
        srv.stop()
    said = srv.log.read_text()
    assert "--no-worker" in said and "stay queued until a `cee worker` runs" in said
