"""Accounts of OpenID Connect identities on SQLite and PostgreSQL: the first login links the
account of a vouched-for address or creates one without a password, later logins find the
same account, an address the provider does not vouch for never takes an account over."""

from __future__ import annotations

import pytest

from terrapole.access.accounts import Accounts
from terrapole.access.mail import LogMailer
from terrapole.access.oidc_accounts import OidcAccounts, OidcClaims
from terrapole.errors import Forbidden, InvalidInput, Unauthorized

from .conftest import link_token

ISSUER = "https://id.lab.example"
PASSWORD = "a long passphrase 42"


def _claims(**changes: object) -> OidcClaims:
    claims = {"iss": ISSUER, "sub": "u-1", "email": "Ana@Lab.fr", "email_verified": True,
              "name": "Ana Lopez"} | changes  # fmt: skip
    return OidcClaims.of(claims)


def test_a_first_login_creates_a_verified_account_without_a_password(
    accounts: Accounts, mailer: LogMailer
) -> None:
    oidc = OidcAccounts(accounts)
    user = oidc.sign_in(_claims())
    assert (user.email, user.display_name, user.verified) == ("Ana@Lab.fr", "Ana Lopez", True)
    assert oidc.identities_of(user.id) == [(ISSUER, "u-1")]
    assert mailer.sent == []  # the provider vouched for the address: nothing to verify
    with pytest.raises(Unauthorized, match="wrong e-mail or password"):
        accounts.login("ana@lab.fr", "", address="10.0.0.1")


def test_later_logins_find_the_same_account_whatever_the_address_became(
    accounts: Accounts,
) -> None:
    oidc = OidcAccounts(accounts)
    first = oidc.sign_in(_claims())
    again = oidc.sign_in(_claims(email="ana.lopez@other.example"))
    assert again.id == first.id and len(accounts.all()) == 1


def test_the_account_of_a_vouched_for_address_is_linked(accounts: Accounts) -> None:
    mine = accounts.create_verified("ana@lab.fr", PASSWORD, "Ana")
    oidc = OidcAccounts(accounts)
    assert oidc.sign_in(_claims()).id == mine.id
    assert oidc.identities_of(mine.id) == [(ISSUER, "u-1")]
    assert accounts.login("ana@lab.fr", PASSWORD, address="10.0.0.1").id == mine.id


def test_an_address_the_provider_does_not_vouch_for_links_no_account(accounts: Accounts) -> None:
    mine = accounts.create_verified("ana@lab.fr", PASSWORD, "Ana")
    oidc = OidcAccounts(accounts)
    with pytest.raises(Forbidden, match="does not say it verified this address"):
        oidc.sign_in(_claims(email_verified=False))
    with pytest.raises(Forbidden):
        oidc.sign_in(_claims(email_verified="false"))
    assert oidc.identities_of(mine.id) == [] and oidc.linked(ISSUER, "u-1") is None


def test_an_unvouched_new_address_gets_an_unverified_account_and_a_link_by_mail(
    accounts: Accounts, mailer: LogMailer
) -> None:
    user = OidcAccounts(accounts).sign_in(_claims(email="ben@lab.fr", email_verified=None))
    assert user.verified is False
    assert mailer.sent[-1].to == "ben@lab.fr"
    assert accounts.verify_email(link_token(mailer.sent[-1].body, "verify")).verified


def test_a_disabled_account_is_refused_and_claims_without_an_address_make_none(
    accounts: Accounts,
) -> None:
    oidc = OidcAccounts(accounts)
    user = oidc.sign_in(_claims())
    accounts.set_disabled(user.id, True)
    with pytest.raises(Forbidden, match="disabled"):
        oidc.sign_in(_claims())
    with pytest.raises(InvalidInput, match="no e-mail address"):
        oidc.sign_in(_claims(sub="u-2", email=None))
    with pytest.raises(InvalidInput, match="no issuer"):
        OidcClaims.of({"sub": "u-3"})
    assert len(accounts.all()) == 1
