"""The units an import may name: a small UCUM-based table (code → SensorThings unit).

Mapping files and pivot documents name a unit by its UCUM code (``[ft_i]3/s``, ``mm/d``,
``Cel``) or by one of the common spellings listed beside it (``cfs``, ``degC``). Anything
else is refused with the list of known codes: a misspelt unit imported silently would make
every later comparison between series wrong.
"""

from __future__ import annotations

from terrapole.errors import InvalidInput
from terrapole.insitu.model import Unit

UCUM = "http://unitsofmeasure.org/ucum.html#"
"""Base of a unit's ``definition``: the UCUM specification, anchored by the code."""

# code: (name, symbol, other spellings accepted for it)
_TABLE: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "m3/s": ("cubic metre per second", "m³/s", ("m³/s", "cms")),
    "[ft_i]3/s": ("cubic foot per second", "ft³/s", ("ft3/s", "ft³/s", "cfs")),
    "L/s": ("litre per second", "L/s", ("l/s",)),
    "m": ("metre", "m", ("meter", "metre")),
    "cm": ("centimetre", "cm", ()),
    "mm": ("millimetre", "mm", ()),
    "[ft_i]": ("foot", "ft", ("ft", "feet")),
    "mm/d": ("millimetre per day", "mm/d", ("mm/day",)),
    "m/d": ("metre per day", "m/d", ("m/day",)),
    "mm/h": ("millimetre per hour", "mm/h", ()),
    "Cel": ("degree Celsius", "°C", ("degC", "°C", "C")),
    "[degF]": ("degree Fahrenheit", "°F", ("degF", "°F")),
    "W/m2": ("watt per square metre", "W/m²", ("W/m²",)),
    "Pa": ("pascal", "Pa", ()),
    "hPa": ("hectopascal", "hPa", ()),
    "s": ("second", "s", ()),
    "%": ("percent", "%", ()),
    "uS/cm": ("microsiemens per centimetre", "µS/cm", ("µS/cm",)),
    "mg/L": ("milligram per litre", "mg/L", ("mg/l",)),
    "ug/L": ("microgram per litre", "µg/L", ("µg/L", "ug/l")),
    "[pH]": ("pH", "pH", ("pH", "std units")),
    "[NTU]": ("nephelometric turbidity unit", "NTU", ("NTU",)),
    "{count}": ("count", "1", ("count",)),
}
_SPELLINGS = {
    spelling: code for code, (_, _, others) in _TABLE.items() for spelling in (code, *others)
}


def known_units() -> tuple[str, ...]:
    """The UCUM codes of the table, sorted."""
    return tuple(sorted(_TABLE))


def unit_of(text: str, field: str = "unit") -> Unit:
    """The SensorThings unit named ``text`` (a UCUM code or a listed spelling).

    >>> unit_of("cfs").symbol
    'ft³/s'
    """
    code = _SPELLINGS.get(text.strip()) if isinstance(text, str) else None
    if code is None:
        raise InvalidInput(
            field, f"unknown unit {text!r}; known UCUM codes: {', '.join(known_units())}"
        )
    name, symbol, _ = _TABLE[code]
    return Unit(name=name, symbol=symbol, definition=UCUM + code)


def code_of(unit: Unit) -> str:
    """The UCUM code of a stored unit (its definition's anchor, else its symbol)."""
    if unit.definition.startswith(UCUM):
        return unit.definition.removeprefix(UCUM)
    return unit.symbol or unit.name
