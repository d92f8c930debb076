"""Store.export_page: keyset pages of an account's contacts (or one list's), on both backends."""

from __future__ import annotations

from cee.admin import accounts
from cee.domain.writes import ContactOp
from cee.storage import Store
from tests.storage.test_store import ctx, record, run


def test_pages_cover_every_contact_once_in_id_order(url: str) -> None:
    async def test(store: Store, account: int) -> None:
        listid = await store.create_list(account, "news")
        emails = [f"p{i}@example.com" for i in range(25)]
        await store.write_contacts(
            ctx(account), ContactOp.CREATE, [record(e, CITY="Pune") for e in emails[:10]], listid
        )
        await store.write_contacts(
            ctx(account), ContactOp.CREATE, [record(e) for e in emails[10:]], None
        )
        other = await accounts.create_account(store, "other", "EMAIL")
        await store.write_contacts(
            ctx(other.account_id), ContactOp.CREATE, [record("stranger@example.com")], None
        )

        async def everything(only: int | None) -> list[tuple[int, str, list[int]]]:
            seen, after = [], 0
            while page := await store.export_page(account, only, after, 7):
                assert len(page) <= 7
                seen += [(i, c.primary_key, c.lists) for i, c in page]
                after = page[-1][0]
            return seen

        all_rows = await everything(None)
        assert [pk for _, pk, _ in all_rows] == emails  # the other account's contact is not here
        assert [i for i, _, _ in all_rows] == sorted(i for i, _, _ in all_rows)
        assert [lists for _, _, lists in all_rows] == [[listid]] * 10 + [[]] * 15
        members = await everything(listid)
        assert [pk for _, pk, _ in members] == emails[:10]
        [(_, first)] = await store.export_page(account, None, 0, 1)
        assert first.attributes == {"EMAIL": "p0@example.com", "CITY": "Pune"}

    run(url, test)
