"""The demo's DINAMIS access (``access.demo_accounts.seed``) over the real land-cover crop of
the demo bundle: what it makes, what the policy then shows to whom, and that a second run
changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from terrapole.access import AccessService
from terrapole.access.demo_accounts import (
    COLLECTION,
    LAB,
    PUBLIC_BODY,
    Credential,
    principal_of,
    seed,
)
from terrapole.access.order_workflow import Actor, State
from terrapole.access.pricing import Kind
from terrapole.access.quotas import DEBIT
from terrapole.catalog.store import open_store
from terrapole.config import Settings
from terrapole.ingest.service import Ingestor
from terrapole.services import Services
from terrapole.storage import open_storage

from ..conftest import ROOT

LANDCOVER = ROOT / "demo" / "products" / "landcover"


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    """Services over a new data folder holding the demo's land-cover crop."""
    settings = Settings(data_dir=tmp_path)
    store, access = open_store(settings), AccessService(settings.database_url)
    built = Services(store, access, settings, open_storage(settings))
    assert not Ingestor(store, built.storage).run([str(LANDCOVER)], collection=COLLECTION).rejected
    yield built
    access.close()
    store.close()


def test_seed_prints_each_password_once_and_a_second_run_duplicates_nothing(
    services: Services,
) -> None:
    first = seed(services)
    assert len(first) == 5 and all(c.password for c in first)
    assert len({c.email for c in first}) == 5
    for cred in first:  # the printed passwords are the accounts' (verified, so they log in)
        assert services.accounts.login(cred.email, cred.password or "", address="::1").email
    users, entities = len(services.accounts.all()), len(services.entities.all())
    member = services.accounts.by_email(LAB.member[0])
    orders = services.orders.owned_by(Actor(member.id))

    second = seed(services)
    assert second == [Credential(c.email, c.role, None) for c in first]
    assert (
        (len(services.accounts.all()), len(services.entities.all())) == (users, entities) == (5, 2)
    )
    assert services.orders.owned_by(Actor(member.id)) == orders
    assert len(services.licences.history("pleiades-science")) == 1


def test_the_lab_member_sees_the_licensed_collection_and_the_public_body_member_does_not(
    services: Services,
) -> None:
    seed(services)
    lab = principal_of(services.access, services.accounts.by_email(LAB.member[0]))
    public = principal_of(services.access, services.accounts.by_email(PUBLIC_BODY.member[0]))
    admin = principal_of(services.access, services.accounts.by_email("admin@demo.example"))
    assert services.access.can_read(lab, COLLECTION)
    assert COLLECTION not in services.access.hidden_for(lab)
    assert not services.access.can_read(public, COLLECTION)
    assert COLLECTION in services.access.hidden_for(public)
    assert services.access.can_read(admin, COLLECTION)
    entity = services.entities.of_user(public.user_id or "")[0]
    assert entity.profile.value == "french-public-actor" and entity.name == PUBLIC_BODY.name


def test_the_orders_are_in_their_states_and_the_archive_km2_left_the_quota(
    services: Services,
) -> None:
    seed(services)
    member = services.accounts.by_email(LAB.member[0])
    by_kind = {o.kind: o for o in services.orders.owned_by(Actor(member.id))}
    assert len(by_kind) == 2
    archive, tasking = by_kind[Kind.ARCHIVE], by_kind[Kind.TASKING]
    assert archive.state is State.APPROVED and tasking.state is State.SUBMITTED
    assert archive.request["items"] == ["BDForet_ZoneTest"] and 0.1 < archive.km2 < 5
    assert tasking.km2 >= 100
    debits = {e.order_id: e.km2 for e in services.ledger.entries(archive.quota) if e.entry == DEBIT}
    assert debits[archive.id] == pytest.approx(archive.km2)
    balance = services.ledger.balance(archive.quota)
    assert balance.remaining_km2 == pytest.approx(balance.allowance_km2 - archive.km2 - tasking.km2)
    assert balance.allowance_km2 == 5500.0
