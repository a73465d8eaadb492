"""The FAIR checklist: what a bare draft misses, what a complete published record meets."""

from __future__ import annotations

from terrapole.fair.checklist import checklist, score
from terrapole.fair.model import Record, RelatedIdentifier, Title

from .records_fixtures import complete_record


def test_a_bare_draft_says_what_is_missing() -> None:
    principles = {p.code: p for p in checklist(Record(titles=(Title("x"),)))}
    assert not principles["F1"].met and "publish" in principles["F1"].missing
    assert "an abstract" in principles["F2"].missing
    assert not principles["R1.1"].met and "licence" in principles["R1.1"].missing
    assert not principles["I2"].met and not principles["I3"].met


def test_a_complete_published_record_meets_every_principle() -> None:
    record = complete_record().with_related(
        RelatedIdentifier("https://hub.example/stac/collections/s2", "URL", "IsDerivedFrom")
    )
    principles = checklist(record, published=True)
    assert [p.code for p in principles if not p.met] == []
    assert score(principles) == (13, 13)


def test_unpublished_complete_record_waits_only_for_publication() -> None:
    record = complete_record().with_related(
        RelatedIdentifier("https://hub.example/x", "URL", "IsDerivedFrom")
    )
    assert {p.code for p in checklist(record) if not p.met} == {"F1", "F3", "F4", "A1", "A2"}
