"""Passwords: the policy a new password must meet, and its argon2id hash.

The policy follows NIST SP 800-63B's spirit: length rather than character classes, no password
known from leaks, nothing guessable from the account (its address), no reuse of the current one.
"""

from __future__ import annotations

import argon2
from argon2.exceptions import InvalidHashError, VerificationError

from terrapole.errors import InvalidInput

MIN_LENGTH = 12
MAX_LENGTH = 1024  # argon2 hashes anything, but a megabyte password is a denial of service

COMMON_PASSWORDS = frozenset({
    "123456789012",
    "1234567890123",
    "12345678901234",
    "123456789123",
    "1q2w3e4r5t6y",
    "1qaz2wsx3edc",
    "aaaaaaaaaaaa",
    "abcdefghijkl",
    "abcd12345678",
    "azertyuiop12",
    "azertyuiop123",
    "azertyuiopqs",
    "bienvenue123",
    "changeme1234",
    "iloveyou1234",
    "jetaime12345",
    "letmein12345",
    "motdepasse12",
    "motdepasse123",
    "motdepasse1234",
    "password1234",
    "password12345",
    "password123456",
    "passwordpassword",
    "qazwsxedcrfv",
    "qwerty123456",
    "qwertyuiop12",
    "qwertyuiop123",
    "qwertyuiopas",
    "soleil123456",
    "superman1234",
    "trustno11234",
    "welcome12345",
    "administrator",
    "administrateur",
    "motdepasse!!",
    "password!!!!",
    "0987654321qwerty",
})  # fmt: skip
"""Passwords of at least twelve characters at the top of leak frequency lists (and French ones).

Shorter leaked passwords fall to :data:`MIN_LENGTH` already.
"""

_HASHER = argon2.PasswordHasher()  # argon2id with the library's RFC 9106 low-memory profile


class WeakPassword(InvalidInput):
    """A new password the policy refuses; reason says which rule."""

    def __init__(self, reason: str) -> None:
        super().__init__("password", reason)


def check_password(password: str, *, email: str, current_hash: str | None = None) -> None:
    """Raise :class:`WeakPassword` unless ``password`` may become the password of ``email``.

    ``current_hash``: the account's present hash, whose password may not be chosen again.
    """
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"must have at least {MIN_LENGTH} characters (has {len(password)})")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"must have at most {MAX_LENGTH} characters")
    folded = password.casefold()
    if folded in COMMON_PASSWORDS:
        raise WeakPassword("is one of the most common passwords")
    if len(set(folded)) < 4:
        raise WeakPassword("must use at least 4 different characters")
    local = email.casefold().partition("@")[0]
    if email.casefold() in folded or (len(local) >= 4 and local in folded):
        raise WeakPassword("must not contain the e-mail address")
    if current_hash is not None and verify_password(current_hash, password):
        raise WeakPassword("must differ from the current password")


def hash_password(password: str) -> str:
    """The argon2id hash of ``password`` (salted: two calls give two hashes)."""
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash`` (False on a malformed hash)."""
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's (rehash at next login)."""
    return _HASHER.check_needs_rehash(password_hash)
