"""Work done later on behalf of an account signed in without a token (a portal session, an
OpenID Connect bearer: principal ``user:<id>``) runs with the account as it stands then."""

from __future__ import annotations

import pytest

from terrapole.access import AccessService
from terrapole.access.accounts import Accounts
from terrapole.access.licences import Licences
from terrapole.access.mail import LogMailer
from terrapole.errors import InvalidInput
from tests.access.conftest import Clock, verified_user


def test_a_signed_in_account_queued_work_keeps_its_licences_and_loses_them_when_disabled(
    database_url: str, accounts: Accounts, mailer: LogMailer, clock: Clock
) -> None:
    user = verified_user(accounts, mailer, "ana@lab.fr", "Ana")
    admin = accounts.set_roles(verified_user(accounts, mailer, "op@hub.fr", "Op").id, {"admin"})
    licences = Licences(accounts.engine, clock=clock)
    licences.create(admin, "pleiades-science", "Pléiades for science", "terms")
    licences.accept(user, "pleiades-science", 1)
    service = AccessService(database_url)

    queued = service.principal_named(f"user:{user.id}")  # what a job runner resolves
    assert queued.user_id == user.id and "pleiades-science" in queued.licences
    assert queued == service.principal_of_user(user.id)

    accounts.set_disabled(user.id, True)
    service.forget()
    gone = service.principal_named(f"user:{user.id}")
    assert gone.user_id is None and gone.licences == frozenset()
    assert service.principal_named("user:no-such-account").user_id is None
    service.close()


def test_a_deployment_token_cannot_take_a_signed_in_account_name(database_url: str) -> None:
    service = AccessService(database_url)
    with pytest.raises(InvalidInput, match="signed-in accounts"):
        service.create_token("user:abc", groups=[])
    service.close()
