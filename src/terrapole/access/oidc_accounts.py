"""Accounts of users who sign in with an OpenID Connect provider.

A provider names a user by its issuer and the ``sub`` claim of the ID token; that pair is linked
to one account (table ``tp_oidc_identities``). On the first login of a pair, an account with the
same e-mail address is linked only when the provider vouches for the address
(``email_verified``): otherwise anyone who could type that address at the provider would take
the account over. Without such an account, one is created from the claims, with no password
(password login stays refused until the user sets one with a reset link); it is verified when
the provider vouches for its address, else a verification link is mailed as at sign-up.

No HTTP here: the web adapter verifies the ID token and hands over its claims.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from terrapole import db
from terrapole.access.accounts import Accounts, User, check_email, email_key
from terrapole.access.tables import oidc_identities, users
from terrapole.errors import AlreadyExists, Forbidden, InvalidInput, NotFound

MAX_NAME = 200


@dataclass(frozen=True)
class OidcClaims:
    """What terrapole reads of a verified ID token (and of the user info, where merged)."""

    issuer: str
    subject: str
    email: str | None = None
    email_verified: bool = False
    name: str | None = None

    @classmethod
    def of(cls, claims: Mapping[str, Any]) -> OidcClaims:
        """The claims of a verified ID token (``iss`` and ``sub`` required).

        >>> OidcClaims.of({"iss": "https://id.example.org", "sub": "42", "email_verified": "true"})
        OidcClaims(issuer='https://id.example.org', subject='42', email=None, email_verified=True, name=None)
        """  # noqa: E501
        issuer, subject = claims.get("iss"), claims.get("sub")
        if not isinstance(issuer, str) or not issuer or not isinstance(subject, str) or not subject:
            raise InvalidInput("ID token", "it names no issuer ('iss') or no subject ('sub')")
        email = claims.get("email")
        verified = claims.get("email_verified")  # some providers send the string "true"
        names = (claims.get("name"), claims.get("preferred_username"))
        name = next((n for n in names if isinstance(n, str) and n.strip()), None)
        return cls(
            issuer=issuer,
            subject=subject,
            email=email.strip() if isinstance(email, str) and email.strip() else None,
            email_verified=verified is True or verified == "true",
            name=name.strip()[:MAX_NAME] if name else None,
        )


class OidcAccounts:
    """Links provider identities to the accounts of ``accounts``, creating them when needed."""

    def __init__(self, accounts: Accounts) -> None:
        self.accounts = accounts
        self.engine = accounts.engine

    def linked(self, issuer: str, subject: str) -> User | None:
        """The account an identity is linked to (None: never signed in)."""
        query = sa.select(oidc_identities.c.user_id).where(
            oidc_identities.c.issuer == issuer, oidc_identities.c.subject == subject
        )
        with db.reading(self.engine) as con:
            user_id = con.scalar(query)
        return None if user_id is None else self.accounts.get(user_id)

    def identities_of(self, user_id: str) -> list[tuple[str, str]]:
        """The (issuer, subject) pairs linked to an account."""
        query = (
            sa.select(oidc_identities.c.issuer, oidc_identities.c.subject)
            .where(oidc_identities.c.user_id == user_id)
            .order_by(oidc_identities.c.issuer, oidc_identities.c.subject)
        )
        with db.reading(self.engine) as con:
            return [(row.issuer, row.subject) for row in con.execute(query)]

    def sign_in(self, claims: OidcClaims) -> User:
        """The account of a verified ID token's claims: the linked one, else the account of
        its vouched-for address (linked now), else a new account.

        Raises :class:`Forbidden` for a disabled account, or when an account has the address
        but the provider does not vouch for it; :class:`InvalidInput` when a new account is
        needed and the claims carry no e-mail address.
        """
        user = self.linked(claims.issuer, claims.subject)
        if user is None:
            user = self._first_login(claims)
        if user.disabled:
            raise Forbidden("this account is disabled")
        self._touch(claims)
        return user

    def _first_login(self, claims: OidcClaims) -> User:
        if not claims.email:
            raise InvalidInput(
                "ID token",
                "the provider gave no e-mail address (ask for the 'email' scope), and an "
                "account needs one",
            )
        email = check_email(claims.email)
        try:
            existing: User | None = self.accounts.by_email(email)
        except NotFound:
            existing = None
        if existing is not None:
            if not claims.email_verified:
                raise Forbidden(
                    f"an account with the address {email} exists, but the provider does not "
                    "say it verified this address (email_verified): log in with your password "
                    "instead"
                )
            self._link(claims, existing.id)
            return existing
        return self._create(claims, email)

    def _create(self, claims: OidcClaims, email: str) -> User:
        """A new account of the claims, linked to them in the same transaction."""
        user_id = uuid.uuid4().hex
        name = claims.name or email.partition("@")[0]
        now = self.accounts.clock()
        try:
            with self.engine.begin() as con:
                con.execute(
                    users.insert().values(
                        id=user_id, email=email, email_key=email_key(email),
                        display_name=name[:MAX_NAME], password_hash=None,
                        verified=claims.email_verified, roles=[], disabled=False, created=now,
                    )
                )  # fmt: skip
                self._insert_identity(con, claims, user_id)
        except sa.exc.IntegrityError:
            # the same identity's other login (two tabs) made it first: use that account
            user = self.linked(claims.issuer, claims.subject)
            if user is None:
                raise AlreadyExists("account", email) from None
            return user
        if not claims.email_verified:
            self.accounts.resend_verification(email)
        return self.accounts.get(user_id)

    def _link(self, claims: OidcClaims, user_id: str) -> None:
        try:
            with self.engine.begin() as con:
                self._insert_identity(con, claims, user_id)
        except sa.exc.IntegrityError:
            if self.linked(claims.issuer, claims.subject) is None:
                raise

    def _insert_identity(self, con: sa.Connection, claims: OidcClaims, user_id: str) -> None:
        now = self.accounts.clock()
        con.execute(
            oidc_identities.insert().values(
                issuer=claims.issuer, subject=claims.subject, user_id=user_id,
                email=claims.email, created=now, last_login=now,
            )
        )  # fmt: skip

    def _touch(self, claims: OidcClaims) -> None:
        with self.engine.begin() as con:
            con.execute(
                oidc_identities.update()
                .where(
                    oidc_identities.c.issuer == claims.issuer,
                    oidc_identities.c.subject == claims.subject,
                )
                .values(email=claims.email, last_login=self.accounts.clock())
            )
