"""The CES directory: consortia with members (ORCID, ROR checked), products and services with a
TRL 1–9, links to catalogue collections checked against the store, curator-only changes and
their history; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from terrapole.access.policy import ANONYMOUS
from terrapole.errors import AlreadyExists, Forbidden, InvalidInput, NotFound, Unauthorized
from terrapole.fair.ces import (
    CesDirectory,
    Consortium,
    Kind,
    Maturity,
    Member,
    Offer,
    check_trl,
    maturity,
)

from .ces_fixtures import People, migrated, people

ORCID = "0000-0002-1825-0097"  # ORCID's own example iD (Josiah Carberry)
ROR = "https://ror.org/02feahw73"  # CNRS


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = migrated(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def who(engine: sa.Engine) -> People:
    return people(engine)


def _directory(
    engine: sa.Engine, collections: frozenset[str] = frozenset({"theia-snow"})
) -> CesDirectory:
    return CesDirectory(engine, collection_exists=collections.__contains__)


def _cryosphere() -> Consortium:
    return Consortium(
        id="cryosphere", name="CES Cryosphère", acronym="CRYO", themes=("Neige", "Glaciers"),
        description="Snow, glaciers and permafrost.", url="https://www.theia-land.fr/",
        members=(Member("Simon Gascoin", orcid=f"https://orcid.org/{ORCID}",
                        affiliation="CESBIO", ror="02feahw73", lead=True),
                 Member("Another Expert")),
    )  # fmt: skip


def _snow() -> Offer:
    return Offer(id="let-it-snow", ces_id="cryosphere", name="Let It Snow", kind=Kind.PRODUCT,
                 trl=7, collections=("theia-snow",), urls=("https://gitlab.orfeo-toolbox.org/remote_modules/let-it-snow",))  # fmt: skip


@pytest.mark.parametrize(
    ("trl", "stage"),
    [(1, Maturity.INCUBATION), (3, Maturity.INCUBATION), (4, Maturity.PROTOTYPING),
     (5, Maturity.PROTOTYPING), (6, Maturity.PRODUCTION), (9, Maturity.PRODUCTION)],
)  # fmt: skip
def test_a_trl_falls_in_the_decks_maturity_stages(trl: int, stage: Maturity) -> None:
    assert maturity(trl) is stage


@pytest.mark.parametrize("bad", [0, 10, -1, 7.0, "7", True, None])
def test_a_trl_outside_1_to_9_or_not_whole_is_refused(bad: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_trl(bad)
    assert caught.value.field == "trl"


def test_a_curator_builds_the_directory_and_everyone_reads_it(
    engine: sa.Engine, who: People
) -> None:
    directory = _directory(engine)
    made = directory.create(who.curator, _cryosphere())
    assert made.members[0].orcid == ORCID  # the URL form is kept bare
    assert made.members[0].ror == ROR  # the bare id is kept as its URL
    assert [m.name for m in made.leads] == ["Simon Gascoin"]
    directory.add_offer(who.curator, _snow())
    directory.add_offer(who.admin, Offer(id="snow-mountains", ces_id="cryosphere",
                                         name="Snow in mountains", kind=Kind.SERVICE, trl=4))  # fmt: skip
    read = directory.consortium("cryosphere")
    assert (read.name, read.themes, read.members) == (made.name, made.themes, made.members)
    assert [o.id for o in directory.offers(ces_id="cryosphere")] == [
        "let-it-snow",
        "snow-mountains",
    ]
    assert [o.id for o in directory.offers(min_trl=6)] == ["let-it-snow"]
    assert [o.id for o in directory.offers(kind=Kind.SERVICE)] == ["snow-mountains"]
    assert directory.offer("let-it-snow").maturity is Maturity.PRODUCTION
    assert [c.id for c in directory.consortia(theme="Glaciers")] == ["cryosphere"]
    assert directory.consortia(theme="Urbain") == []
    assert [c.id for c in directory.consortia(text="permafrost")] == ["cryosphere"]


def test_only_curators_and_admins_change_the_directory(engine: sa.Engine, who: People) -> None:
    directory = _directory(engine)
    with pytest.raises(Unauthorized):
        directory.create(ANONYMOUS, _cryosphere())
    with pytest.raises(Forbidden):
        directory.create(who.applicant, _cryosphere())
    directory.create(who.curator, _cryosphere())
    with pytest.raises(Forbidden):
        directory.add_offer(who.stranger, _snow())
    with pytest.raises(Forbidden):
        directory.delete(who.applicant, "cryosphere")
    assert directory.offers() == []


@pytest.mark.parametrize(
    ("member", "field"),
    [(Member("X", orcid="0000-0002-1825-0098"), "members[0].orcid"),  # wrong check digit
     (Member("X", ror="not-a-ror"), "members[0].ror"),
     (Member("  "), "members[0].name")],
)  # fmt: skip
def test_a_member_with_a_bad_identifier_is_refused(
    engine: sa.Engine, who: People, member: Member, field: str
) -> None:
    bad = Consortium(id="urbain", name="CES Urbain", members=(member,))
    with pytest.raises(InvalidInput) as caught:
        _directory(engine).create(who.curator, bad)
    assert caught.value.field == field
    with pytest.raises(NotFound):
        _directory(engine).consortium("urbain")  # nothing written


def test_bad_consortium_and_offer_fields_are_named(engine: sa.Engine, who: People) -> None:
    directory = _directory(engine)
    for bad, field in ((Consortium(id="Bad Id", name="x"), "id"),
                       (Consortium(id="x", name=""), "name"),
                       (Consortium(id="x", name="x", url="ftp://x"), "url")):  # fmt: skip
        with pytest.raises(InvalidInput) as caught:
            directory.create(who.curator, bad)
        assert caught.value.field == field
    directory.create(who.curator, _cryosphere())
    with pytest.raises(AlreadyExists):
        directory.create(who.curator, _cryosphere())
    offer = _snow()
    for changed, field in (({"trl": 10}, "trl"), ({"kind": "tool"}, "kind"),
                           ({"ces_id": "nowhere"}, "ces_id"),
                           ({"collections": ("no-such-collection",)}, "collections"),
                           ({"urls": ("javascript:alert(1)",)}, "urls")):  # fmt: skip
        with pytest.raises(InvalidInput) as caught:
            directory.add_offer(who.curator, Offer(**{**offer.__dict__, **changed}))
        assert caught.value.field == field
    assert directory.offers() == []


def test_changes_are_kept_in_the_history(engine: sa.Engine, who: People) -> None:
    directory = _directory(engine)
    directory.create(who.curator, _cryosphere())
    directory.add_offer(who.curator, _snow())
    directory.update_offer(who.admin, Offer(**{**_snow().__dict__, "trl": 8}))
    assert directory.offer("let-it-snow").trl == 8
    directory.delete_offer(who.curator, "let-it-snow")
    steps = [(c.target_id, c.action, c.actor) for c in directory.history()]
    assert steps == [
        ("cryosphere", "created", who.curator.name),
        ("let-it-snow", "created", who.curator.name),
        ("let-it-snow", "updated", who.admin.name),
        ("let-it-snow", "deleted", who.curator.name),
    ]
    assert directory.history("let-it-snow")[1].record["trl"] == 8  # type: ignore[index]
    with pytest.raises(NotFound):
        directory.offer("let-it-snow")


def test_updating_or_deleting_an_unknown_entry_is_not_found(engine: sa.Engine, who: People) -> None:
    directory = _directory(engine)
    with pytest.raises(NotFound):
        directory.update(who.curator, _cryosphere())
    with pytest.raises(NotFound):
        directory.delete(who.curator, "cryosphere")
    with pytest.raises(NotFound):
        directory.delete_offer(who.curator, "let-it-snow")


def test_deleting_a_consortium_takes_its_offers(engine: sa.Engine, who: People) -> None:
    directory = _directory(engine)
    directory.create(who.curator, _cryosphere())
    directory.add_offer(who.curator, _snow())
    directory.delete(who.curator, "cryosphere")
    assert directory.consortia() == [] and directory.offers() == []
