"""Entities: SIREN and ROR checks (check digits computed by hand below), creation with the
creator as referent, membership requests decided by the referent only, leave/remove, member
profiles and the append-only history; SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from terrapole.access.accounts import Accounts, User
from terrapole.access.entities import Entities, Status
from terrapole.access.identifiers import check_ror, check_siren, luhn_valid, ror_checksum
from terrapole.access.mail import LogMailer
from terrapole.access.profiles import EntityKind, Profile
from terrapole.errors import AlreadyExists, Forbidden, InvalidInput, NotFound

from .conftest import Clock, verified_user

CNRS_SIREN = "180089013"  # CNRS, from the French company register
CNRS_ROR = "02feahw73"
STRASBOURG_ROR = "00pg6eq24"  # Université de Strasbourg


# -- identifiers --------------------------------------------------------------------------------
def test_siren_luhn_check_by_hand() -> None:
    # 180089013 from the right: 3, 1*2=2, 0, 9*2=18->9, 8, 0*2=0, 0, 8*2=16->7, 1
    # sum 3+2+0+9+8+0+0+7+1 = 30, a multiple of 10
    assert luhn_valid(CNRS_SIREN)
    assert check_siren("180 089 013") == CNRS_SIREN
    with pytest.raises(InvalidInput, match="fails its check digit"):
        check_siren("180089014")  # sum 31
    with pytest.raises(InvalidInput, match="not nine digits"):
        check_siren("18008901")


def test_ror_checksum_by_hand() -> None:
    # 2feahw in Crockford base 32: 2, 15, 14, 10, 17, 28
    # = ((((2*32+15)*32+14)*32+10)*32+17)*32+28 = 83307068; 8330706800 mod 97 = 25; 98-25 = 73
    assert ror_checksum("2feahw") == 73
    assert check_ror(f"https://ror.org/{CNRS_ROR.upper()}") == CNRS_ROR
    assert check_ror(STRASBOURG_ROR) == STRASBOURG_ROR
    with pytest.raises(InvalidInput, match="fails its check digits"):
        check_ror("02feahw74")
    for bad in ("12feahw73", "02feahu73", "02feahw7"):  # no leading 0, 'u', one digit
        with pytest.raises(InvalidInput, match="not 0 \\+ six base-32"):
            check_ror(bad)


# -- entities and membership --------------------------------------------------------------------
@pytest.fixture
def people(accounts: Accounts, mailer: LogMailer) -> dict[str, User]:
    names = ("ana", "bob", "eve", "zoe")
    return {n: verified_user(accounts, mailer, f"{n}@lab.fr", n.title()) for n in names}


@pytest.fixture
def entities(engine: sa.Engine, clock: Clock) -> Entities:
    return Entities(engine, clock=clock)


def test_the_creator_is_referent_and_first_member(
    entities: Entities, people: dict[str, User]
) -> None:
    lab = entities.create(
        people["ana"], name="CESBIO", country="fr", kind="lab",
        profile_name="french-scientist", siren=CNRS_SIREN, ror=CNRS_ROR,
    )  # fmt: skip
    assert (lab.country, lab.kind, lab.profile, lab.referent_id, lab.siren, lab.ror) == (
        "FR",
        EntityKind.LAB,
        Profile.FRENCH_SCIENTIST,
        people["ana"].id,
        CNRS_SIREN,
        CNRS_ROR,
    )
    (member,) = entities.members(lab.id)
    assert (member.user_id, member.profile) == (people["ana"].id, Profile.FRENCH_SCIENTIST)
    assert [e.name for e in entities.of_user(people["ana"].id)] == ["CESBIO"]
    with pytest.raises(AlreadyExists):
        entities.create(people["bob"], name="Other", country="FR", kind="lab",
                        profile_name="french-scientist", siren=CNRS_SIREN)  # fmt: skip


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("country", "FRA", "not an ISO 3166 two-letter code"),
        ("kind", "club", "'club' is none of lab, public-body, company, teaching"),
        ("profile_name", "tourist", "'tourist' is none of french-scientist"),
        ("siren", "123456789", "fails its check digit"),
        ("ror", "02feahw74", "fails its check digits"),
        ("name", " ", "must have 1 to 200 characters"),
    ],
)
def test_bad_entity_fields_are_refused_by_name(
    entities: Entities, people: dict[str, User], field: str, value: str, message: str
) -> None:
    fields = {"name": "CESBIO", "country": "FR", "kind": "lab", "profile_name": "teaching"}
    with pytest.raises(InvalidInput, match=message):
        entities.create(people["ana"], **{**fields, field: value})
    assert entities.all() == []


def test_the_referent_approves_and_refuses_requests_and_another_referent_may_not(
    entities: Entities, people: dict[str, User], clock: Clock
) -> None:
    ana, bob, eve, zoe = (people[n] for n in ("ana", "bob", "eve", "zoe"))
    lab = entities.create(ana, name="CESBIO", country="FR", kind="lab",
                          profile_name="french-scientist")  # fmt: skip
    agency = entities.create(zoe, name="DDT 31", country="FR", kind="public-body",
                             profile_name="french-public-actor")  # fmt: skip
    assert entities.request(bob, lab.id).status is Status.PENDING
    clock.advance(minutes=5)
    entities.request(eve, lab.id)
    with pytest.raises(InvalidInput, match="already pending"):
        entities.request(bob, lab.id)
    assert [m.user_id for m in entities.members(lab.id, status=Status.PENDING)] == [bob.id, eve.id]

    with pytest.raises(Forbidden, match="only the referent of 'CESBIO'"):
        entities.approve(zoe, lab.id, bob.id)  # referent, but of another entity
    with pytest.raises(Forbidden):
        entities.approve(bob, lab.id, eve.id)  # not a referent at all
    assert entities.membership(lab.id, bob.id).status is Status.PENDING

    approved = entities.approve(ana, lab.id, bob.id, member_profile="foreign-scientist")
    assert (approved.status, approved.profile) == (Status.MEMBER, Profile.FOREIGN_SCIENTIST)
    assert entities.refuse(ana, lab.id, eve.id).status is Status.REFUSED
    with pytest.raises(NotFound, match="membership request"):
        entities.approve(ana, lab.id, eve.id)  # refused is decided: no second decision
    assert {m.user_id for m in entities.members(lab.id)} == {ana.id, bob.id}
    assert entities.members(agency.id)[0].user_id == zoe.id


def test_members_leave_or_are_removed_and_the_referent_hands_over_first(
    entities: Entities, people: dict[str, User], accounts: Accounts
) -> None:
    ana, bob, eve, zoe = (people[n] for n in ("ana", "bob", "eve", "zoe"))
    lab = entities.create(ana, name="CESBIO", country="FR", kind="lab",
                          profile_name="french-scientist")  # fmt: skip
    for user in (bob, eve):
        entities.request(user, lab.id)
        entities.approve(ana, lab.id, user.id)
    assert entities.leave(bob, lab.id).status is Status.LEFT
    with pytest.raises(InvalidInput, match="name another referent first"):
        entities.leave(ana, lab.id)
    with pytest.raises(Forbidden):
        entities.remove(zoe, lab.id, eve.id)
    admin = accounts.set_roles(zoe.id, {"admin"})  # an admin acts for any entity
    assert (
        entities.set_member_profile(admin, lab.id, eve.id, "teaching").profile is Profile.TEACHING
    )
    assert entities.remove(ana, lab.id, eve.id).status is Status.REMOVED
    with pytest.raises(NotFound):
        entities.remove(ana, lab.id, eve.id)
    assert entities.request(bob, lab.id).status is Status.PENDING  # a former member asks again
    entities.approve(ana, lab.id, bob.id)
    assert entities.set_referent(ana, lab.id, bob.id).referent_id == bob.id
    assert entities.leave(ana, lab.id).status is Status.LEFT
    with pytest.raises(Forbidden):
        entities.approve(ana, lab.id, bob.id)  # no longer the referent


def test_the_history_lists_who_did_what_when(
    entities: Entities, people: dict[str, User], clock: Clock
) -> None:
    ana, bob = people["ana"], people["bob"]
    lab = entities.create(ana, name="CESBIO", country="FR", kind="lab",
                          profile_name="french-scientist")  # fmt: skip
    clock.advance(hours=1)
    entities.request(bob, lab.id)
    clock.advance(hours=1)
    entities.approve(ana, lab.id, bob.id)
    clock.advance(days=30)
    entities.leave(bob, lab.id)
    history = entities.history(lab.id)
    assert [(e.actor_id, e.action, e.subject_id, e.detail) for e in history] == [
        (ana.id, "created", ana.id, {"name": "CESBIO"}),
        (bob.id, "requested", bob.id, {}),
        (ana.id, "approved", bob.id, {"profile": "french-scientist"}),
        (bob.id, "left", bob.id, {}),
    ]
    assert [e.at.isoformat() for e in history] == [
        "2026-03-02T09:00:00+00:00", "2026-03-02T10:00:00+00:00",
        "2026-03-02T11:00:00+00:00", "2026-04-01T11:00:00+00:00",
    ]  # fmt: skip


def test_an_unverified_user_neither_creates_nor_joins(
    entities: Entities, people: dict[str, User], accounts: Accounts
) -> None:
    newcomer = accounts.sign_up("new@lab.fr", "a long passphrase 42", "New")
    lab = entities.create(people["ana"], name="CESBIO", country="FR", kind="lab",
                          profile_name="french-scientist")  # fmt: skip
    with pytest.raises(Forbidden, match="verify your e-mail"):
        entities.request(newcomer, lab.id)
    with pytest.raises(Forbidden, match="verify your e-mail"):
        entities.create(newcomer, name="X", country="FR", kind="lab", profile_name="teaching")
