"""Named SQL queries, one folder of `.sql` files per dialect (listmonk's `-- name:` format).

aiosql parses the files; we take only the SQL text from it, because each store runs its
queries through its own batching writer. Both dialects must define every name in QUERY_NAMES,
or the store refuses to start.
"""

from __future__ import annotations

from pathlib import Path

import aiosql

SQL_DIR = Path(__file__).parent / "sql"

QUERY_NAMES = (
    "get_meta put_meta count_accounts "
    "insert_account select_accounts update_api_mode update_primary_key count_contacts "
    "insert_user select_users update_user_active "
    "revoke_user_keys insert_key select_active_keys "
    "insert_attribute select_attributes select_all_attributes "
    "insert_list select_lists select_list_by_name list_exists insert_member delete_member "
    "select_member_keys delete_all_members "
    "insert_contact select_contact_for_update update_contact_attributes "
    "update_contact_blacklist select_contact select_contact_lists delete_contact_members "
    "delete_contact "
    "insert_history select_history delete_history select_history_page count_history_page "
    "insert_journal claim_journal check_claim finish_journal select_journal_status journal_depth "
    "select_journal_claimers release_journal_claims journal_waits defer_journal "
    "insert_bulk_job claim_bulk_jobs renew_bulk_job advance_bulk_job insert_bulk_reject "
    "finish_bulk_job note_bulk_job select_bulk_job select_bulk_rejects select_bulk_claimers "
    "release_bulk_claims select_webhook_secret put_webhook_secret make_webhook_secret "
    "delete_bulk_rejects_of "
    "select_applied_migrations count_bulk_jobs "
    "take_rate_tokens update_user_rate_limit delete_rate_bucket "
    "delete_stale_idempotency insert_idempotency select_idempotency finish_idempotency "
    "release_idempotency purge_idempotency "
    "select_recent_journal "
    # the panel's: sessions, login throttle, audit, sealed keys, passwords
    "insert_session select_session touch_session refresh_session_login delete_session "
    "delete_user_sessions delete_idle_sessions insert_login_failure count_login_failures "
    "delete_login_failures insert_audit select_audit insert_sealed_key select_current_key "
    "update_user_password update_user_admin update_phone_region "
    # cee export's pages
    "export_contacts_page export_list_page"
).split()


# Queries of one dialect's own way of storing something, which the other does not have.
DIALECT_ONLY: dict[str, tuple[str, ...]] = {
    # SQLite keeps a new contact's creation entry on its row until its first change
    # (migration 0006, storage/sqlite/creations.py): its single writer is what a create's
    # history row slowed; PostgreSQL writes the row.
    "sqlite": (
        "select_kept_creation",
        "select_kept_creations_of",
        "select_kept_creations_in_list",
        "forget_kept_creation",
        "insert_contacts_from_json",
        "select_keys_created_after",
        "insert_members_after",
    ),
    "postgres": ("reserve_contact_ids",),
}


class MissingQuery(RuntimeError):
    """A dialect folder lacks a query the code needs."""


class Queries:
    """Attribute access to a dialect's SQL text: `queries.insert_contact`."""

    def __init__(self, dialect: str) -> None:
        # The sqlite3 adapter leaves the text untouched, which is what both dialects want:
        # PostgreSQL files use $1 placeholders directly.
        loaded = aiosql.from_path(SQL_DIR / dialect, "sqlite3", mandatory_parameters=False)
        self.dialect = dialect
        self._sql = {name: getattr(loaded, name).sql for name in loaded.available_queries}
        missing = [name for name in QUERY_NAMES if name not in self._sql]
        if missing:
            raise MissingQuery(f"{dialect} SQL lacks queries: {', '.join(missing)}")

    def __getattr__(self, name: str) -> str:
        try:
            return self._sql[name]
        except KeyError:
            raise MissingQuery(f"{self.dialect} SQL has no query {name}") from None
