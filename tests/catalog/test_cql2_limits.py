"""Hostile CQL2 filters are refused before the parser or the validator can hurt the process.

Found by an outside review: two thousand nested parentheses overflowed the stack of cql2's text
parser (the server died with SIGSEGV), a hundred nested NOTs made its validator allocate 1.8 GB,
and a timestamp with a 13th month passed the parser and failed in PostgreSQL. Each filter runs in
a child process with a 3 GB address-space cap, so a regression fails the test instead of
killing the test run.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from terrapole.catalog.cql2 import parse_filter
from terrapole.errors import InvalidFilter, InvalidInput

NESTED_NOT_JSON = "NESTED_NOT_JSON"


def _parse_in_child(text: str, lang: str) -> subprocess.CompletedProcess[str]:
    script = textwrap.dedent(f"""
        import json, resource, sys
        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
        from terrapole.catalog.cql2 import parse_filter
        from terrapole.errors import InvalidInput
        value = {text!r}
        if value == {NESTED_NOT_JSON!r}:
            value = {{"op": "=", "args": [{{"property": "id"}}, "a"]}}
            for _ in range(900):
                value = {{"op": "not", "args": [value]}}
        try:
            parse_filter(value, {lang!r})
        except InvalidInput as exc:
            print(exc)
            sys.exit(0)
        sys.exit(1)
    """)
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60)  # fmt: skip


@pytest.mark.parametrize(
    ("text", "lang", "reason"),
    [
        ("(" * 2000 + "id='a'" + ")" * 2000, "cql2-text", "parentheses nested more than 40"),
        ("NOT " * 200 + "id='a'", "cql2-text", "more than 10 NOT, - or + in a row"),
        (
            "(id='a' AND (id='b' OR " * 12 + "id='c'" + ")" * 24,
            "cql2-text",
            "AND/OR/NOT nested more than 20",
        ),  # fmt: skip
        ("NOT (" * 60 + "id='a'" + ")" * 60, "cql2-text", "parentheses nested more than 40"),
        ("(id='a' OR NOT " * 10 + "id='b'" + ")" * 10, "cql2-text", "NOT nested more than 5"),
        ("id='" + "x" * 30_000 + "'", "cql2-text", "30,005 characters"),
        (NESTED_NOT_JSON, "cql2-json", "JSON nested more than 80"),
        # found by review: prefix operators in a row overflowed the parser's stack (SIGSEGV)
        ("id = " + "-" * 6000 + "1", "cql2-text", "more than 10 NOT, - or + in a row"),
        ("NOT " * 3500 + "id = 'a'", "cql2-text", "more than 10 NOT, - or + in a row"),
        ("id = " + "- " * 11 + "1", "cql2-text", "more than 10 NOT, - or + in a row"),
        # a chain of binary operators is a tree as deep as it is long (RecursionError)
        ("eo:cloud_cover = " + "+".join(["1"] * 9000), "cql2-text", "nested more than 80"),
    ],
)
def test_a_pathological_filter_is_a_clear_error_not_a_crash(
    text: str, lang: str, reason: str
) -> None:
    done = _parse_in_child(text, lang)
    assert done.returncode == 0, (done.returncode, done.stderr[-500:])
    assert reason in done.stdout


def test_filters_of_real_size_still_parse() -> None:
    """Deep enough for any real query: 5 NOTs, 20 logical levels, quoted parentheses."""
    five_nots = "NOT " * 5 + "id='a'"
    assert parse_filter(five_nots)["op"] == "not"
    twenty = "(id='a' AND " * 19 + "id='b'" + ")" * 19
    assert parse_filter(twenty)["op"] == "and"
    literal = "id='" + "(" * 100 + "'"  # parentheses inside a string are not nesting
    assert parse_filter(literal)["args"][1] == "(" * 100
    dashes = "id='" + "-" * 50 + "' AND eo:cloud_cover > - -1"  # in a literal, or two in a row
    assert parse_filter(dashes)["op"] == "and"


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("datetime = TIMESTAMP('2018-13-45T00:00:00Z')", "filter timestamp"),
        ("datetime > DATE('2018-02-30')", "filter date"),
        ("T_INTERSECTS(datetime, INTERVAL('2018-01-01', '2018-19-01'))", "filter interval"),
    ],
)
def test_impossible_dates_are_refused_before_any_store(text: str, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_filter(text)
    assert caught.value.field == field
    assert not isinstance(caught.value, InvalidFilter) or "RFC 3339" in str(caught.value)


def test_open_interval_ends_are_kept() -> None:
    tree = parse_filter("T_INTERSECTS(datetime, INTERVAL('2018-01-01', '..'))")
    assert tree["args"][1] == {"interval": ["2018-01-01", ".."]}


def test_an_interval_ending_before_it_starts_is_refused() -> None:
    with pytest.raises(InvalidFilter, match="ends before it starts"):
        parse_filter("T_INTERSECTS(datetime, INTERVAL('2018-01-01', '2017-01-01'))")
    same_day = parse_filter("T_INTERSECTS(datetime, INTERVAL('2018-01-01', '2018-01-01'))")
    assert same_day["args"][1] == {"interval": ["2018-01-01", "2018-01-01"]}
