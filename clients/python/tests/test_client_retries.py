"""Which answers the client retries, and how long it waits: httpx's MockTransport as the server.

The issue asks for MockTransport here: a real server cannot be made to answer 429, 503 or
drop a connection on cue. Everything else is tested against a real server in tests/client/.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx
import pytest
from cee_client import AsyncClient, Client, Retries, errors

OK = {"requestid": "a" * 32, "result": "Success"}
DUPLICATE = {
    "status": "error",
    "error_code": 302,
    "details": "Duplicate entry 'mike@example.com' for key 'uniqid'",
    "requestid": "b" * 32,
}
FAST = Retries(attempts=4, backoff=0.01, max_backoff=0.05)

Handler = Callable[[httpx.Request], httpx.Response]


class Script:
    """A MockTransport handler answering from a list, recording each request it saw."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.seen: list[httpx.Request] = []
        self.times: list[float] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        self.times.append(time.monotonic())
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def client(script: Script, retries: Retries = FAST) -> Client:
    return Client("k", "http://cee.test", retries=retries, transport=httpx.MockTransport(script))


def test_a_429_is_retried_after_its_retry_after() -> None:
    script = Script(
        httpx.Response(
            429,
            json={"status": "error", "error_code": 429, "details": "slow down"},
            headers={"Retry-After": "1"},
        ),
        httpx.Response(200, json=OK),
    )
    with client(script) as cee:
        assert cee.addsync({"EMAIL": "mike@example.com"}) == "a" * 32
    assert len(script.seen) == 2
    # Retry-After: 1 was honoured, although the backoff alone would have waited 10 ms.
    assert script.times[1] - script.times[0] >= 1.0


def test_a_302_is_never_retried_and_is_a_duplicate_error() -> None:
    script = Script(httpx.Response(302, json=DUPLICATE), httpx.Response(200, json=OK))
    with client(script) as cee, pytest.raises(errors.DuplicateContact) as caught:
        cee.addsync({"EMAIL": "mike@example.com"})
    assert len(script.seen) == 1  # no second attempt, and no redirect followed
    assert caught.value.error_code == 302
    assert caught.value.requestid == "b" * 32
    assert "mike@example.com" in caught.value.details


@pytest.mark.parametrize("status", [400, 401, 403, 404, 413, 422, 500])
def test_other_errors_are_not_retried(status: int) -> None:
    body = {"status": "error", "error_code": status, "details": "no"}
    script = Script(httpx.Response(status, json=body), httpx.Response(200, json=OK))
    with client(script) as cee, pytest.raises(errors.CeeError) as caught:
        cee.add({"EMAIL": "mike@example.com"})
    assert len(script.seen) == 1
    assert caught.value.error_code == status


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_errors_are_retried(status: int) -> None:
    script = Script(
        httpx.Response(status, text="<html>bad gateway</html>"), httpx.Response(200, json=OK)
    )
    with client(script) as cee:
        assert cee.addsync({"EMAIL": "mike@example.com"}) == "a" * 32
    assert len(script.seen) == 2


def test_a_retried_write_sends_the_same_idempotency_key() -> None:
    script = Script(
        httpx.Response(503), httpx.ConnectError("refused"), httpx.Response(200, json=OK)
    )
    with client(script) as cee:
        cee.add({"EMAIL": "mike@example.com"})
    keys = [r.headers.get("idempotency-key") for r in script.seen]
    assert len(keys) == 3 and keys[0] and len(set(keys)) == 1
    # A second call is another write: another key.
    script.answers.append(httpx.Response(200, json=OK))
    with client(script) as cee:
        cee.add({"EMAIL": "mike@example.com"})
    assert script.seen[-1].headers["idempotency-key"] != keys[0]


def test_reads_carry_no_idempotency_key() -> None:
    body = {"status": "success", "result": [], "details": "0 lists"}
    script = Script(httpx.Response(200, json=body))
    with client(script) as cee:
        assert cee.lists() == []
    assert "idempotency-key" not in script.seen[0].headers


def test_connection_failures_are_retried_until_the_attempts_run_out() -> None:
    script = Script(*[httpx.ConnectError("refused") for _ in range(4)])
    with client(script) as cee, pytest.raises(errors.ConnectError) as caught:
        cee.view("mike@example.com")
    assert len(script.seen) == 4
    assert isinstance(caught.value, errors.TransportError)
    assert isinstance(caught.value.__cause__, httpx.ConnectError)


def test_a_read_timeout_is_not_retried() -> None:
    # The server may be applying the request: repeating it could only add load.
    script = Script(httpx.ReadTimeout("slow"), httpx.Response(200, json=OK))
    with client(script) as cee, pytest.raises(errors.Timeout):
        cee.addsync({"EMAIL": "mike@example.com"})
    assert len(script.seen) == 1


def test_a_429_past_the_attempts_is_raised_with_its_retry_after() -> None:
    limited = {"status": "error", "error_code": 429, "details": "slow down"}
    script = Script(
        *[httpx.Response(429, json=limited, headers={"Retry-After": "0"}) for _ in range(2)]
    )
    cee = client(script, Retries(attempts=2, backoff=0.01))
    with cee, pytest.raises(errors.RateLimited) as caught:
        cee.add({"EMAIL": "mike@example.com"})
    assert len(script.seen) == 2
    assert caught.value.retry_after == 0


def test_a_retry_after_longer_than_the_cap_is_raised_not_waited_for() -> None:
    limited = {"status": "error", "error_code": 429, "details": "slow down"}
    script = Script(httpx.Response(429, json=limited, headers={"Retry-After": "3600"}))
    started = time.monotonic()
    with client(script) as cee, pytest.raises(errors.RateLimited) as caught:
        cee.add({"EMAIL": "mike@example.com"})
    assert time.monotonic() - started < 5
    assert caught.value.retry_after == 3600


def test_an_http_date_retry_after_is_understood() -> None:
    from datetime import UTC, datetime, timedelta
    from email.utils import format_datetime

    when = format_datetime(datetime.now(UTC) + timedelta(seconds=2), usegmt=True)
    script = Script(
        httpx.Response(503, headers={"Retry-After": when}), httpx.Response(200, json=OK)
    )
    with client(script) as cee:
        cee.addsync({"EMAIL": "mike@example.com"})
    assert script.times[1] - script.times[0] >= 0.5  # whole seconds in the date: at least ~1 s


def test_an_error_answered_with_a_200_is_still_an_error() -> None:
    # Netcore documents `{"result": "Invalid API key"}` for a bad key, whatever the status.
    script = Script(httpx.Response(200, json={"result": "Invalid API key"}))
    with client(script) as cee, pytest.raises(errors.InvalidApiKey):
        cee.addsync({"EMAIL": "mike@example.com"})


def test_the_async_client_retries_the_same_way() -> None:
    script = Script(
        httpx.Response(
            429,
            json={"status": "error", "error_code": 429, "details": "wait"},
            headers={"Retry-After": "1"},
        ),
        httpx.Response(302, json=DUPLICATE),
    )

    async def main() -> None:
        transport = httpx.MockTransport(script)
        async with AsyncClient("k", "http://cee.test", retries=FAST, transport=transport) as cee:
            with pytest.raises(errors.DuplicateContact):
                await cee.addsync({"EMAIL": "mike@example.com"})

    asyncio.run(main())
    assert len(script.seen) == 2  # the 429 retried once, the 302 not at all
    assert script.times[1] - script.times[0] >= 1.0


def test_regions_are_netcores_hosts() -> None:
    assert Client("k", region="us").base_url == "https://api.netcoresmartech.com"
    assert Client("k", region="in").base_url == "https://apiin.netcoresmartech.com"
    assert Client("k", region="eu").base_url == "https://jsonapi.eu-north-1.eu.netcoresmartech.com"
    assert Client("k", "http://127.0.0.1:8080/").base_url == "http://127.0.0.1:8080"
    with pytest.raises(ValueError, match="region"):
        Client("k", region="mars")
    with pytest.raises(ValueError, match="not both"):
        Client("k", "http://x", region="us")


def test_the_key_goes_in_the_body_not_the_url() -> None:
    script = Script(httpx.Response(200, json=OK))
    with client(script) as cee:
        cee.addsync({"EMAIL": "mike@example.com"}, listid=3)
    request = script.seen[0]
    assert "apikey" not in str(request.url)
    assert request.url.params["type"] == "contact"
    assert request.url.params["activity"] == "addsync"
    body = httpx.QueryParams(request.content.decode())
    assert body["apikey"] == "k" and body["listid"] == "3"


def test_a_rate_limited_error_carries_the_ratelimit_headers() -> None:
    limited = {"status": "error", "error_code": 429, "details": "key over its limit"}
    headers = {
        "Retry-After": "7",
        "RateLimit-Limit": "100",
        "RateLimit-Remaining": "0",
        "RateLimit-Reset": "7",
    }
    script = Script(httpx.Response(429, json=limited, headers=headers))
    with client(script, Retries(attempts=1)) as cee, pytest.raises(errors.RateLimited) as caught:
        cee.view("mike@example.com")
    exc = caught.value
    assert (exc.retry_after, exc.limit, exc.remaining, exc.reset) == (7, 100, 0, 7)
