"""The /apiv2 route table: (type, activity) -> the resource module's handler."""

from __future__ import annotations

from cee.web.apiv2 import attributes, bulk, contacts, exports, lists, privacy, requests
from cee.web.apiv2.call import Handler

# (type, activity) -> handler; both matched lower-case (an old client sends `Add`).
ROUTES: dict[tuple[str, str], Handler] = {
    ("contact", "addsync"): contacts.addsync,
    ("contact", "add"): contacts.journaled,
    ("contact", "update"): contacts.journaled,
    ("contact", "updatesync"): contacts.updatesync,
    ("contact", "delete"): contacts.delete,
    ("contact", "view"): contacts.view,
    ("contact", "blacklist"): contacts.blacklist,
    ("contact", "unblacklist"): contacts.unblacklist,
    ("contact", "bulkupload"): bulk.bulkupload,
    ("lists", "create"): lists.create,
    ("lists", "getalllist"): lists.getalllist,
    ("lists", "emptylist"): lists.emptylist,
    ("request", "status"): requests.status,
    ("request", "rejects"): bulk.rejects,
    ("erasure_user_data", "request_erasure_data"): privacy.request_erasure_data,
    ("export_data", "get_user_summary_data"): privacy.get_user_summary_data,
    ("export_data", "get_user_activity_data"): exports.get_user_activity_data,
    ("export_data", "get_user_channel_activity_data"): exports.get_user_channel_activity_data,
    ("attributes", "create"): attributes.create,
    ("attributes", "getall"): attributes.getall,
}
# The activities that only read. Every other one (any added later too) is a write: it honours
# Idempotency-Key, and the OpenAPI document says so.
READS: frozenset[tuple[str, str]] = frozenset(
    {
        ("contact", "view"),
        ("lists", "getalllist"),
        ("request", "status"),
        ("request", "rejects"),
        ("export_data", "get_user_summary_data"),
        ("export_data", "get_user_activity_data"),
        ("export_data", "get_user_channel_activity_data"),
        ("attributes", "getall"),
    }
)
TYPES = sorted({t for t, _ in ROUTES})
# Each type's activities, sorted once (for the error messages) rather than on every request.
ACTIVITIES: dict[str, list[str]] = {t: sorted(a for k, a in ROUTES if k == t) for t in TYPES}
