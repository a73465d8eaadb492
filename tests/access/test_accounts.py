"""Accounts: the password policy, sign-up with a real mailed verification link, login and its
rate limit, password reset, roles, and user-owned API tokens next to the tokens made before
accounts (a database at revision 0002 keeps its tokens working); SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command

from terrapole import db
from terrapole.access import AccessService
from terrapole.access.accounts import Accounts, TooManyAttempts, check_email, email_key
from terrapole.access.mail import LogMailer, Mail, SmtpMailer, mailer_for
from terrapole.access.passwords import (
    WeakPassword,
    check_password,
    hash_password,
    verify_password,
)
from terrapole.access.service import hash_token
from terrapole.access.tables import api_tokens
from terrapole.config import Settings
from terrapole.errors import AlreadyExists, Forbidden, InvalidInput, NotFound, Unauthorized

from .conftest import Clock, Inbox, link_token, verified_user

PASSWORD = "a long passphrase 42"


# -- the password policy ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short pass1", "at least 12 characters (has 11)"),
        ("Password1234", "one of the most common passwords"),
        ("MotDePasse123", "one of the most common passwords"),
        ("abababababababab", "at least 4 different characters"),
        ("my ana.lopez@lab.fr pass", "must not contain the e-mail address"),
        ("xx-ANA.LOPEZ-2026-xx", "must not contain the e-mail address"),
        ("x" * 1025, "at most 1024 characters"),
    ],
)
def test_weak_passwords_are_refused_naming_the_rule(password: str, reason: str) -> None:
    with pytest.raises(WeakPassword) as caught:
        check_password(password, email="Ana.Lopez@lab.fr")
    assert caught.value.field == "password" and reason in caught.value.reason


def test_a_strong_password_passes_and_its_hash_verifies_only_it() -> None:
    check_password(PASSWORD, email="ana.lopez@lab.fr")
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first != second and first.startswith("$argon2id$")  # salted
    assert verify_password(first, PASSWORD) and not verify_password(first, PASSWORD + "!")
    assert not verify_password("not a hash", PASSWORD)
    with pytest.raises(WeakPassword, match="differ from the current password"):
        check_password(PASSWORD, email="ana.lopez@lab.fr", current_hash=first)


def test_e_mail_addresses_are_checked_and_keyed_without_case() -> None:
    assert email_key("  Ana.Lopez@Lab.FR ") == "ana.lopez@lab.fr"
    assert check_email(" ana@lab.fr ") == "ana@lab.fr"
    for bad in ("ana", "ana@lab", "ana lopez@lab.fr", "@lab.fr", "a@b@c.fr"):
        with pytest.raises(InvalidInput, match="not an e-mail address"):
            check_email(bad)


# -- mail ---------------------------------------------------------------------------------------


def test_the_verification_link_arrives_by_smtp_and_verifies_once(
    engine: sa.Engine, clock: Clock, smtp: tuple[int, Inbox]
) -> None:
    port, inbox = smtp
    settings = Settings(
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_starttls=False,
        smtp_from="hub@theia.example",
    )
    mailer = mailer_for(settings)
    assert isinstance(mailer, SmtpMailer)
    accounts = Accounts(
        engine, mailer=mailer, link_base="https://hub.example/account/", clock=clock
    )
    user = accounts.sign_up("Ana.Lopez@Lab.fr", PASSWORD, "Ana López")
    assert (user.email, user.verified, user.roles) == ("Ana.Lopez@Lab.fr", False, frozenset())

    (mail,) = inbox.messages
    assert (mail["To"], mail["From"]) == ("Ana.Lopez@Lab.fr", "hub@theia.example")
    body = mail.get_payload(decode=True)
    assert isinstance(body, bytes)
    token = link_token(body.decode(), "verify")
    with pytest.raises(Forbidden, match="not verified"):
        accounts.login("ana.lopez@lab.fr", PASSWORD, address="192.0.2.1")

    assert accounts.verify_email(token).verified
    with pytest.raises(InvalidInput, match="already used") as replay:
        accounts.verify_email(token)
    assert replay.value.field == "verification link"
    assert accounts.login("ANA.LOPEZ@lab.fr", PASSWORD, address="192.0.2.1").id == user.id


def test_without_an_smtp_host_mails_and_their_links_go_to_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    mailer = mailer_for(Settings())
    assert isinstance(mailer, LogMailer)
    with caplog.at_level("WARNING", logger="terrapole.access.mail"):
        mailer.send(Mail("ana@lab.fr", "Confirm", "open https://hub.example/verify?token=abc"))
    assert "ana@lab.fr" in caplog.text and "verify?token=abc" in caplog.text


def test_an_expired_or_unknown_verification_link_is_refused(
    accounts: Accounts, mailer: LogMailer, clock: Clock
) -> None:
    accounts.sign_up("ana@lab.fr", PASSWORD, "Ana")
    token = link_token(mailer.sent[-1].body, "verify")
    clock.advance(hours=48)
    with pytest.raises(InvalidInput, match="expired"):
        accounts.verify_email(token)
    with pytest.raises(InvalidInput, match="unknown link"):
        accounts.verify_email(token[:-2])
    assert not accounts.by_email("ana@lab.fr").verified

    accounts.resend_verification("ANA@lab.fr")  # a new link, valid 48 h from now
    clock.advance(hours=47, minutes=59)
    assert accounts.verify_email(link_token(mailer.sent[-1].body, "verify")).verified


def test_sign_up_refuses_a_taken_address_in_any_case_and_bad_input(accounts: Accounts) -> None:
    accounts.sign_up("ana@lab.fr", PASSWORD, "Ana")
    with pytest.raises(AlreadyExists):
        accounts.sign_up("ANA@Lab.FR", PASSWORD, "Another Ana")
    with pytest.raises(WeakPassword):
        accounts.sign_up("bob@lab.fr", "bob@lab.fr123456", "Bob")
    with pytest.raises(InvalidInput, match="display name"):
        accounts.sign_up("bob@lab.fr", PASSWORD, "  ")
    assert [u.email for u in accounts.all()] == ["ana@lab.fr"]


# -- login and its rate limit -------------------------------------------------------------------
def test_failed_logins_lock_the_account_for_the_window_even_with_the_right_password(
    accounts: Accounts, mailer: LogMailer, clock: Clock
) -> None:
    ana = verified_user(accounts, mailer, "ana@lab.fr", "Ana")
    for _ in range(5):
        with pytest.raises(Unauthorized, match="wrong e-mail or password"):
            accounts.login("ana@lab.fr", "not the password", address="192.0.2.1")
        clock.advance(minutes=1)
    # five failures, the first at 09:00: locked until 09:15 whatever the address
    with pytest.raises(TooManyAttempts, match="for this account: try again in 600 s"):
        accounts.login("ana@lab.fr", PASSWORD, address="198.51.100.7")
    clock.advance(minutes=10)  # 09:15: the first failure left the window
    assert accounts.login("ana@lab.fr", PASSWORD, address="192.0.2.1").id == ana.id
    # a success clears the account's count
    with pytest.raises(Unauthorized):
        accounts.login("ana@lab.fr", "wrong again", address="192.0.2.1")
    assert accounts.login("ana@lab.fr", PASSWORD, address="192.0.2.1").id == ana.id


def test_one_address_trying_many_accounts_is_limited(accounts: Accounts, mailer: LogMailer) -> None:
    verified_user(accounts, mailer, "ana@lab.fr", "Ana")
    for n in range(20):  # unknown accounts count too, with the same answer
        with pytest.raises(Unauthorized, match="wrong e-mail or password"):
            accounts.login(f"user{n}@lab.fr", PASSWORD, address="203.0.113.9")
    with pytest.raises(TooManyAttempts, match="for this address") as caught:
        accounts.login("ana@lab.fr", PASSWORD, address="203.0.113.9")
    assert caught.value.retry_after_s == 900
    assert accounts.login("ana@lab.fr", PASSWORD, address="192.0.2.1").email == "ana@lab.fr"


def test_a_disabled_account_cannot_log_in(accounts: Accounts, mailer: LogMailer) -> None:
    ana = verified_user(accounts, mailer, "ana@lab.fr", "Ana")
    accounts.set_disabled(ana.id, True)
    with pytest.raises(Forbidden, match="disabled"):
        accounts.login("ana@lab.fr", PASSWORD, address="192.0.2.1")
    accounts.set_disabled(ana.id, False)
    assert accounts.login("ana@lab.fr", PASSWORD, address="192.0.2.1").id == ana.id


# -- password reset and change ------------------------------------------------------------------
def test_a_reset_link_sets_a_new_password_once_and_refuses_the_current_one(
    accounts: Accounts, mailer: LogMailer, clock: Clock
) -> None:
    ana = verified_user(accounts, mailer, "ana@lab.fr", "Ana")
    sent = len(mailer.sent)
    accounts.request_password_reset("nobody@lab.fr")  # no mail, no error: nothing revealed
    assert len(mailer.sent) == sent
    accounts.request_password_reset("Ana@Lab.fr")
    token = link_token(mailer.sent[-1].body, "reset")
    with pytest.raises(WeakPassword, match="differ from the current password"):
        accounts.reset_password(token, PASSWORD)
    with pytest.raises(InvalidInput, match="unknown link"):
        accounts.verify_email(token)  # a reset link is no verification link
    accounts.reset_password(token, "another long phrase 7")  # the refusal did not spend it
    with pytest.raises(InvalidInput, match="already used"):
        accounts.reset_password(token, "a third long phrase 8")
    with pytest.raises(Unauthorized):
        accounts.login("ana@lab.fr", PASSWORD, address="192.0.2.1")
    assert accounts.login("ana@lab.fr", "another long phrase 7", address="192.0.2.1").id == ana.id

    accounts.request_password_reset("ana@lab.fr")
    clock.advance(hours=2)
    with pytest.raises(InvalidInput, match="expired"):
        accounts.reset_password(link_token(mailer.sent[-1].body, "reset"), "a third long one 9")


def test_changing_a_password_needs_the_current_one(accounts: Accounts, mailer: LogMailer) -> None:
    ana = verified_user(accounts, mailer, "ana@lab.fr", "Ana")
    with pytest.raises(Unauthorized, match="current password is wrong"):
        accounts.change_password(ana.id, "wrong", "another long phrase 7")
    with pytest.raises(WeakPassword, match="differ"):
        accounts.change_password(ana.id, PASSWORD, PASSWORD)
    accounts.change_password(ana.id, PASSWORD, "another long phrase 7")
    assert accounts.login("ana@lab.fr", "another long phrase 7", address="192.0.2.1").id == ana.id


def test_roles_are_admin_and_curator_only(accounts: Accounts, mailer: LogMailer) -> None:
    ana = verified_user(accounts, mailer, "ana@lab.fr", "Ana")
    assert accounts.set_roles(ana.id, {"curator", "admin"}).admin
    with pytest.raises(InvalidInput, match="unknown \\['owner'\\]"):
        accounts.set_roles(ana.id, {"owner"})
    with pytest.raises(NotFound):
        accounts.set_roles("nobody", set())


# -- API tokens ---------------------------------------------------------------------------------
def test_a_user_token_authenticates_and_only_its_owner_revokes_it(
    accounts: Accounts, mailer: LogMailer, database_url: str
) -> None:
    ana = verified_user(accounts, mailer, "ana@lab.fr", "Ana")
    bob = verified_user(accounts, mailer, "bob@lab.fr", "Bob")
    name, secret = accounts.create_token(ana.id, "laptop")
    assert name == f"{ana.id}:laptop" and accounts.tokens_of(ana.id) == [name]
    access = AccessService(database_url)
    assert access.authenticate(f"Bearer {secret}").name == name
    owner = accounts.owner_of_token(name)
    assert owner is not None and owner.id == ana.id
    with pytest.raises(AlreadyExists):
        accounts.create_token(ana.id, "laptop")
    with pytest.raises(NotFound):
        accounts.revoke_token(bob.id, name)
    accounts.revoke_token(ana.id, name)
    with pytest.raises(Unauthorized):
        access.authenticate(f"Bearer {secret}")
    access.close()


def test_tokens_of_a_revision_0002_database_keep_working_and_can_become_a_users(
    database_url: str, mailer: LogMailer, clock: Clock
) -> None:
    engine = db.create_engine(database_url)
    with engine.begin() as con:
        command.upgrade(db._config(con), "0002")
        assert db.revision(con) == "0002"
    secret = "tp_a-token-made-before-accounts"
    with engine.begin() as con:
        assert "tp_users" not in sa.inspect(con).get_table_names()
        con.execute(api_tokens.insert().values(
            name="ci-robot", token_hash=hash_token(secret), groups=["partners"], admin=False,
            created=clock(),
        ))  # fmt: skip
    engine.dispose()

    access = AccessService(database_url)  # opening migrates to the newest revision
    with access.engine.connect() as con:
        assert db.revision(con) == db.head()
    robot = access.authenticate(f"Bearer {secret}")
    assert (robot.name, robot.groups) == ("ci-robot", frozenset({"partners"}))

    accounts = Accounts(access.engine, mailer=mailer, link_base="https://hub.example/account",
                        clock=clock)  # fmt: skip
    assert accounts.owner_of_token("ci-robot") is None  # a deployment token, as before
    ana = verified_user(accounts, mailer, "ana@lab.fr", "Ana")
    accounts.assign_token("ci-robot", ana.id)
    assert accounts.tokens_of(ana.id) == ["ci-robot"]
    owned = access.authenticate(f"Bearer {secret}")  # same secret, groups, role; now Ana's
    assert (owned.name, owned.groups, owned.admin) == (robot.name, robot.groups, robot.admin)
    assert owned.user_id == ana.id and robot.user_id is None
    with pytest.raises(NotFound):
        accounts.assign_token("no-such-token", ana.id)
    with access.engine.connect() as con:
        assert con.execute(sa.select(sa.func.count()).select_from(api_tokens)).scalar() == 1
    access.close()
