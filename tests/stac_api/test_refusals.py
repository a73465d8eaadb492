"""Below the HTTP guard, the query path refuses NUL itself, and both stores turn what the
database refuses into terrapole errors that name the parameter and carry no SQL."""

from __future__ import annotations

from typing import Any

import pytest

from terrapole.catalog.model import SearchQuery
from terrapole.catalog.query import search_query
from terrapole.catalog.store import Store
from terrapole.errors import InvalidFilter, InvalidInput, NotFound

from ..conftest import s2_items

ITEM = s2_items()[0]["id"]
SQL_WORDS = ("SELECT", "CONTEXT", "LINE 1", "portal", "to_float", "statement")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"q": "\x00"}, "q"),
        ({"q": ["a", "b\x00"]}, "q"),
        ({"ids": "\x00"}, "ids"),
        ({"collections": ["sentinel-2-l2a\x00"]}, "collections"),
        ({"filter": "platform = 'a\x00'"}, "filter"),
        ({"filter": {"op": "=", "args": [{"property": "platform"}, "\x00"]}}, "filter"),
        ({"token": "next:\x00"}, "token"),
        ({"fields": ["properties.\x00"]}, "fields"),
        ({"intersects": {"type": "Point", "coordinates": [0, 0], "x\x00": 1}}, "intersects"),
    ],
)
def test_search_query_refuses_nul_naming_the_parameter(params: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        search_query(params, max_limit=10, hidden=frozenset())
    assert raised.value.field == field


def test_stores_refuse_nul_in_free_text(s2_store: Store) -> None:
    """SQLite's FTS5 would end the query at the NUL; PostgreSQL cannot hold it."""
    query = SearchQuery(q=("cloud\x00",))
    with pytest.raises(InvalidInput, match="NUL"):
        s2_store.search(query)
    with pytest.raises(InvalidInput, match="NUL"):
        s2_store.aggregate(query, ["total_count"])


@pytest.mark.parametrize(
    "query", [SearchQuery(ids=("\x00",)), SearchQuery(collections=("sentinel-2-l2a", "\x00"))]
)
def test_stores_match_nothing_or_refuse_an_id_with_nul(s2_store: Store, query: SearchQuery) -> None:
    """No stored id holds a NUL: SQLite finds nothing, PostgreSQL refuses to compare it."""
    try:
        page = s2_store.search(query)
    except InvalidInput as exc:
        assert "NUL" in str(exc)
    else:
        expected = 0 if query.ids else 10  # nothing, or a page of the real collection
        assert len(page.items) == expected


def test_lookups_of_an_id_with_nul_are_terrapole_errors(s2_store: Store) -> None:
    for lookup in (
        lambda: s2_store.get_collection("\x00"),
        lambda: s2_store.get_item("sentinel-2-l2a", f"{ITEM}\x00"),
        lambda: s2_store.delete_item("sentinel-2-l2a", "\x00"),
    ):
        with pytest.raises((NotFound, InvalidInput)):
            lookup()
    assert s2_store.get_item("sentinel-2-l2a", ITEM)["id"] == ITEM


def test_a_filter_value_the_database_cannot_cast_is_a_clean_filter_error(s2_store: Store) -> None:
    """pgstac casts eo:cloud_cover to a number: 'abc' is refused by PostgreSQL (SQL state 22),
    which must come back as the filter's error in one sentence, without PostgreSQL's context."""
    query = search_query({"filter": "eo:cloud_cover = 'abc'"}, max_limit=10, hidden=frozenset())
    calls = (lambda: s2_store.search(query), lambda: s2_store.aggregate(query, ["total_count"]))
    for call in calls:
        if type(s2_store).__name__ == "SqliteStore":  # compares as JSON values: no match
            assert call() is not None
            continue
        with pytest.raises(InvalidFilter) as raised:
            call()
        message = str(raised.value)
        assert "abc" in message and "\n" not in message
        assert not any(word in message for word in SQL_WORDS), message


@pytest.mark.parametrize(
    ("q", "reason"),
    [
        (",".join(["a"] * 21), "21 terms; at most 20"),
        ([f"t{n}" for n in range(50)], "50 terms"),
        ("x" * 1001, "longer than 1000 characters"),
    ],
)
def test_free_text_is_bounded(q: Any, reason: str) -> None:
    """On pgstac each term costs time (500: 19 s, 5,000: ran for 15 minutes)."""
    with pytest.raises(InvalidInput, match=reason) as raised:
        search_query({"q": q}, max_limit=10, hidden=frozenset())
    assert raised.value.field == "q"
    twenty = search_query({"q": ",".join(["a"] * 20)}, max_limit=10, hidden=frozenset())
    assert twenty.q is not None and len(twenty.q) == 20


@pytest.mark.pg
def test_a_pgstac_query_past_the_statement_timeout_is_cancelled(pg_dsn: str) -> None:
    from terrapole.catalog.pgstac import PgstacStore
    from terrapole.errors import StoreUnavailable

    store = PgstacStore(pg_dsn, statement_timeout_s=0.2)
    try:
        store._call("pg_sleep", 0.01, tx=False)  # well within the timeout: answered
        with pytest.raises(StoreUnavailable, match="statement timeout"):
            store._call("pg_sleep", 2.0, tx=False)
        with store._cursor() as cur:  # the server cancelled it: the connection still serves
            cur.execute("SELECT 1")
            assert cur.fetchone() == (1,)
    finally:
        store.close()
    with pytest.raises(StoreUnavailable, match="cannot reach PostgreSQL"):
        store.get_collection("anything")  # closed pool: 503, not a 500
