"""Checks of the public identifiers an entity may give: its SIREN and its ROR id."""

from __future__ import annotations

import re

from terrapole.errors import InvalidInput

_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"  # base 32 without i, l, o, u
_ROR = re.compile(r"^0[0-9a-hjkmnp-tv-z]{6}[0-9]{2}$")


def luhn_valid(digits: str) -> bool:
    """Whether a string of digits passes the Luhn check (every second digit from the right
    doubled, 9 taken off above 9, the sum a multiple of 10).

    >>> luhn_valid("180089013"), luhn_valid("180089014")
    (True, False)
    """
    total = 0
    for i, char in enumerate(reversed(digits)):
        digit = int(char) * (2 if i % 2 else 1)
        total += digit - 9 if digit > 9 else digit
    return total % 10 == 0


def check_siren(value: str) -> str:
    """A French company or public-body number: nine digits passing the Luhn check (spaces
    allowed in the input, none in the result)."""
    siren = value.replace(" ", "")
    if not re.fullmatch(r"[0-9]{9}", siren):
        raise InvalidInput("SIREN", f"{value!r} is not nine digits")
    if not luhn_valid(siren):
        raise InvalidInput("SIREN", f"{value!r} fails its check digit (Luhn)")
    return siren


def ror_checksum(body: str) -> int:
    """The two check digits of a ROR id's six base-32 characters (ISO 7064 MOD 97-10).

    >>> ror_checksum("2feahw")
    73
    """
    number = 0
    for char in body:
        number = number * 32 + _CROCKFORD.index(char)
    return 98 - (number * 100) % 97


def check_ror(value: str) -> str:
    """A ROR id (``0`` + six base-32 characters + two check digits), given bare or as its
    ``https://ror.org/`` URL; returned bare and in lower case."""
    ror = value.strip().lower().removeprefix("https://ror.org/").removeprefix("ror.org/")
    if not _ROR.match(ror):
        raise InvalidInput("ROR id", f"{value!r} is not 0 + six base-32 characters + two digits")
    if ror_checksum(ror[1:7]) != int(ror[7:]):
        raise InvalidInput("ROR id", f"{value!r} fails its check digits (ISO 7064 MOD 97-10)")
    return ror
