"""The email fast path never accepts an address that email-validator rejects.

`_plain_email_ok` decides the usual `local@domain` without the library's slow parts; were it
wrong, CEE would store contacts the library (and so the contract) calls invalid. Generated
addresses here aim at the edges the fast path reasons about: the local part's dot-atom rule
(leading, trailing and doubled dots, specials, quotes, spaces), the domain's labels (hyphens at
the edges, underscores, digits-only top-level labels, 63/64-character labels, punycode), a
trailing dot, a second '@', non-ASCII, and the total-length limits near 254.
"""

from __future__ import annotations

import email_validator
from email_validator import EmailNotValidError, validate_email
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cee.domain.attributes import Datatype, ValueRejected, _plain_email_ok, convert

LOCAL_CHARS = "abcxyzABC0189.+-_!#$%&'*/=?^`{|}~\"() ,:;<>[]\\@é"
LABEL_CHARS = "abcxyz0189-_é"


def label() -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(LABEL_CHARS, min_size=0, max_size=8),
        st.integers(min_value=55, max_value=70).map(lambda n: "a" * n),
        st.sampled_from(["xn--bcher-kva", "xn--", "com", "123", "a-", "-a", "ex_ample", "co"]),
    )


def domain() -> st.SearchStrategy[str]:
    return st.builds(
        lambda labels, dot: ".".join(labels) + dot,
        st.lists(label(), min_size=1, max_size=5),
        st.sampled_from(["", "", "", "."]),
    )


def local_part() -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(LOCAL_CHARS, min_size=0, max_size=12),
        st.integers(min_value=60, max_value=70).map(lambda n: "x" * n),
        st.sampled_from([".a", "a.", "a..b", '"quoted"', "a b", "Mike.Smith+tag"]),
    )


def padded(address: str, extra: int) -> str:
    """The address lengthened in its domain by `extra` characters, toward the 254 limit."""
    local, at, rest = address.partition("@")
    return f"{local}{at}{'d' * extra}.{rest}" if at else address


ADDRESSES = st.one_of(
    st.emails(),
    st.builds(lambda lp, d: f"{lp}@{d}", local_part(), domain()),
    st.builds(padded, st.emails(), st.integers(min_value=150, max_value=260)),
    st.builds(lambda lp, d: f"{lp}@{d}@{d}", local_part(), domain()),
)


def library_accepts(text: str) -> bool:
    try:
        validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ADDRESSES)
@example("a@" + "b" * 63 + ".com")
@example("a@" + "b" * 64 + ".com")
@example("x" * 64 + "@example.com")
@example("x" * 65 + "@example.com")
@example("a@example.123")
@example("a@-example.com")
@example("a..b@example.com")
@example("a@example.com.")
@example("mike@xn--bcher-kva.example")
def test_the_fast_path_accepts_only_what_email_validator_accepts(address: str) -> None:
    assert not email_validator.STRICT  # the fast path's own precondition, as deployed
    if _plain_email_ok(address):
        assert library_accepts(address), address
    # And as a user sees it: an EMAIL value is stored exactly when the library accepts it.
    try:
        convert(Datatype.EMAIL, address)
        stored = True
    except ValueRejected:
        stored = False
    assert stored == library_accepts(address.strip()), address


def test_the_generated_addresses_reach_both_verdicts_of_the_fast_path() -> None:
    """The property above is only worth as much as its inputs: they must include addresses
    the fast path accepts and ones it sends to the library, accepted and refused."""
    fast: set[bool] = set()
    library: set[bool] = set()

    @settings(max_examples=400, deadline=None, database=None)
    @given(ADDRESSES)
    def sample(address: str) -> None:
        fast.add(_plain_email_ok(address))
        library.add(library_accepts(address))

    sample()
    assert fast == {True, False} and library == {True, False}
