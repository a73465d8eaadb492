"""Shared pieces of the CES and calls tests: a migrated database, accounts and principals."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from terrapole import db
from terrapole.access.accounts import Accounts
from terrapole.access.mail import LogMailer
from terrapole.access.policy import Principal

PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class People:
    """The accounts the tests act as: an applicant, two reviewers, an admin, a curator."""

    applicant: Principal
    reviewer: Principal
    second_reviewer: Principal
    admin: Principal
    curator: Principal
    stranger: Principal


def principal(
    accounts: Accounts, email: str, name: str, roles: frozenset[str] = frozenset()
) -> Principal:
    """A principal of a new verified account, as a portal session would resolve it."""
    user = accounts.create_verified(email, PASSWORD, name, roles=roles)
    return Principal(
        name=f"user:{user.id}", admin="admin" in roles, user_id=user.id, roles=roles,
    )  # fmt: skip


def people(engine: sa.Engine) -> People:
    """Six accounts in ``engine``'s database."""
    accounts = Accounts(engine, mailer=LogMailer(), link_base="https://hub.example/account")
    return People(
        applicant=principal(accounts, "ana@lab.example", "Ana Applicant"),
        reviewer=principal(accounts, "rui@lab.example", "Rui Reviewer"),
        second_reviewer=principal(accounts, "sam@lab.example", "Sam Second"),
        admin=principal(accounts, "ada@hub.example", "Ada Admin", frozenset({"admin"})),
        curator=principal(accounts, "cy@hub.example", "Cy Curator", frozenset({"curator"})),
        stranger=principal(accounts, "zed@lab.example", "Zed Stranger"),
    )


def migrated(database_url: str) -> sa.Engine:
    """An engine on ``database_url`` with every migration applied."""
    return db.open_engine(database_url)
