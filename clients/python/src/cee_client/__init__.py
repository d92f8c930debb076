"""cee-client: a Python client for CEE and for Netcore CE's /apiv2 contact API.

    from cee_client import Client

    with Client(api_key="...", base_url="http://127.0.0.1:8080") as cee:
        cee.addsync({"EMAIL": "mike@example.com", "FIRST_NAME": "Mike"})

`Client` blocks, `AsyncClient` awaits; both share one core (`cee_client._core`). Errors are in
`cee_client.errors`.
"""

from cee_client import errors
from cee_client._async_client import AsyncClient
from cee_client._client import Client
from cee_client._core import REGIONS, Retries
from cee_client._models import (
    Attribute,
    BatchReport,
    BatchRequest,
    ChunkResult,
    Contact,
    Failure,
    ListInfo,
    RecordResult,
    Status,
    UserSummary,
)
from cee_client.errors import CeeError

__version__ = "0.1.0"
__all__ = [
    "REGIONS",
    "AsyncClient",
    "Attribute",
    "BatchReport",
    "BatchRequest",
    "CeeError",
    "ChunkResult",
    "Client",
    "Contact",
    "Failure",
    "ListInfo",
    "RecordResult",
    "Retries",
    "Status",
    "UserSummary",
    "errors",
]
