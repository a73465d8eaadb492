"""Charter and licences by version: a new version asks again, acceptances for a user or for
an entity (by its referent only) are kept as history, and collections declare their licences
and eligible profiles; SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from terrapole.access.accounts import Accounts, User
from terrapole.access.entities import Entities
from terrapole.access.licences import CollectionTerms, Holder, Licences
from terrapole.access.mail import LogMailer
from terrapole.access.profiles import Profile
from terrapole.errors import AlreadyExists, Forbidden, InvalidInput, NotFound

from .conftest import Clock, verified_user


@pytest.fixture
def people(accounts: Accounts, mailer: LogMailer) -> dict[str, User]:
    found = {n: verified_user(accounts, mailer, f"{n}@lab.fr", n.title()) for n in ("ana", "bob")}
    found["admin"] = accounts.set_roles(
        verified_user(accounts, mailer, "admin@hub.fr", "Admin").id, {"admin"}
    )
    return found


@pytest.fixture
def licences(engine: sa.Engine, clock: Clock) -> Licences:
    return Licences(engine, clock=clock)


def test_a_new_version_asks_again_and_the_history_keeps_both(
    licences: Licences, people: dict[str, User], clock: Clock
) -> None:
    admin, ana = people["admin"], people["ana"]
    first = licences.create(admin, "pleiades", "Pléiades licence", "Use for research only.")
    assert (first.version, first.kind, first.text) == (1, "licence", "Use for research only.")
    holders = [(Holder.USER, ana.id)]
    assert licences.needs_acceptance("pleiades", holders)
    licences.accept(ana, "pleiades", 1)
    assert not licences.needs_acceptance("pleiades", holders)

    clock.advance(days=90)
    second = licences.publish(admin, "pleiades", "Use for research and teaching.")
    assert second.version == 2 and licences.get("pleiades", 1).text == "Use for research only."
    assert licences.needs_acceptance("pleiades", holders)
    with pytest.raises(InvalidInput, match="1 is not the current 2"):
        licences.accept(ana, "pleiades", 1)  # the version read is no longer current
    clock.advance(hours=1)
    licences.accept(ana, "pleiades", 2)
    assert not licences.needs_acceptance("pleiades", holders)
    assert [(a.version, a.holder_id, a.at.isoformat()) for a in licences.history("pleiades")] == [
        (1, ana.id, "2026-03-02T09:00:00+00:00"),
        (2, ana.id, "2026-05-31T10:00:00+00:00"),
    ]


def test_an_entitys_acceptance_is_made_by_its_referent_and_covers_its_members(
    licences: Licences, people: dict[str, User], engine: sa.Engine, clock: Clock
) -> None:
    admin, ana, bob = people["admin"], people["ana"], people["bob"]
    licences.create(admin, "charter", "DINAMIS charter", "The charter, v1.", kind="charter")
    lab = Entities(engine, clock=clock).create(
        ana, name="CESBIO", country="FR", kind="lab", profile_name="french-scientist"
    )
    entity = (lab.id, lab.referent_id)
    with pytest.raises(Forbidden, match="referent"):
        licences.accept(bob, "charter", 1, entity=entity)
    accepted = licences.accept(ana, "charter", 1, entity=entity)
    assert (accepted.holder, accepted.holder_id, accepted.accepted_by) == (
        Holder.ENTITY, lab.id, ana.id,
    )  # fmt: skip
    bob_in_lab = [(Holder.USER, bob.id), (Holder.ENTITY, lab.id)]
    assert not licences.needs_acceptance("charter", bob_in_lab)
    assert licences.needs_acceptance("charter", [(Holder.USER, bob.id)])
    assert licences.needs_acceptance("charter", [])


def test_only_admins_manage_licences_and_bad_input_is_named(
    licences: Licences, people: dict[str, User]
) -> None:
    admin, ana = people["admin"], people["ana"]
    with pytest.raises(Forbidden):
        licences.create(ana, "spot", "SPOT", "text")
    licences.create(admin, "spot", "SPOT licence", "text")
    with pytest.raises(Forbidden):
        licences.publish(ana, "spot", "new text")
    with pytest.raises(AlreadyExists):
        licences.create(admin, "spot", "SPOT", "text")
    with pytest.raises(InvalidInput, match="licence id"):
        licences.create(admin, "Spot Licence", "SPOT", "text")
    with pytest.raises(InvalidInput, match="neither 'licence' nor 'charter'"):
        licences.create(admin, "x", "X", "text", kind="contract")
    with pytest.raises(InvalidInput, match="licence text"):
        licences.publish(admin, "spot", "   ")
    with pytest.raises(NotFound):
        licences.accept(ana, "nothing", 1)
    with pytest.raises(NotFound, match="spot v3"):
        licences.get("spot", 3)
    assert [(lic.id, lic.version) for lic in licences.all()] == [("spot", 1)]


def test_collections_declare_licences_and_eligible_profiles(
    licences: Licences, people: dict[str, User], accounts: Accounts
) -> None:
    admin, ana = people["admin"], people["ana"]
    licences.create(admin, "pleiades", "Pléiades licence", "text")
    assert licences.terms("pleiades-ortho") == CollectionTerms("pleiades-ortho", (), ())
    with pytest.raises(Forbidden, match="admins and curators"):
        licences.set_terms(ana, "pleiades-ortho", licence_ids=["pleiades"], profiles=[])
    curator = accounts.set_roles(ana.id, {"curator"})
    terms = licences.set_terms(
        curator, "pleiades-ortho", licence_ids=["pleiades"],
        profiles=["french-public-actor", "french-scientist"],
    )  # fmt: skip
    assert terms == CollectionTerms(
        "pleiades-ortho", ("pleiades",), (Profile.FRENCH_PUBLIC_ACTOR, Profile.FRENCH_SCIENTIST)
    )
    assert licences.all_terms() == {"pleiades-ortho": terms}
    with pytest.raises(NotFound, match="licence 'unknown'"):
        licences.set_terms(admin, "x", licence_ids=["unknown"], profiles=[])
    with pytest.raises(InvalidInput, match="profile"):
        licences.set_terms(admin, "x", licence_ids=[], profiles=["tourist"])
    licences.set_terms(admin, "pleiades-ortho", licence_ids=[], profiles=[])
    assert licences.all_terms() == {}
