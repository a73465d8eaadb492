"""Text citations of a record in a few styles: DataCite's recommended form, APA (7th
edition's data set form) and Chicago author-date. Each returns plain text; the landing
page's style picker shows them."""

from __future__ import annotations

from collections.abc import Callable

from terrapole.fair.formats.view import RecordView, family_given, is_person, resource_type
from terrapole.fair.model import Creator


def _initials(given: str) -> str:
    parts = [p for p in given.replace("-", " -").split() if p]
    return " ".join(f"{p[0]}." if not p.startswith("-") else f"-{p[1]}." for p in parts)


def _apa_name(creator: Creator) -> str:
    if not is_person(creator):
        return creator.name
    family, given = family_given(creator)
    return f"{family}, {_initials(given)}" if given else family


def _plain_name(creator: Creator) -> str:
    if not is_person(creator):
        return creator.name
    family, given = family_given(creator)
    return f"{family}, {given}" if given else family


def _joined(names: list[str], last: str) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + f"{last}{names[-1]}"


def datacite(view: RecordView) -> str:
    """DataCite's form: Creator (Year): Title. Version. Publisher. (ResourceType). Identifier."""
    record = view.record
    creators = "; ".join(_plain_name(c) for c in record.creators) or "Anonymous"
    parts = [f"{creators} ({view.year}): {record.title.rstrip('.')}."]
    if record.version:
        parts.append(f"Version {record.version}.")
    if record.publisher:
        parts.append(f"{record.publisher.name}.")
    parts.append(f"({resource_type(record)}).")
    parts.append(view.cite_as)
    return " ".join(parts)


def apa(view: RecordView) -> str:
    """APA: Family, G. I., & Family, G. (Year). Title (Version v) [Data set]. Publisher. URL."""
    record = view.record
    authors = _joined([_apa_name(c) for c in record.creators], ", & ") or record.title
    version = f" (Version {record.version})" if record.version else ""
    kind = "Data set" if resource_type(record) == "Dataset" else resource_type(record)
    text = f"{authors} ({view.year}). {record.title.rstrip('.')}{version} [{kind}]."
    if record.publisher:
        text += f" {record.publisher.name}."
    return f"{text} {view.cite_as}"


def chicago(view: RecordView) -> str:
    """Chicago author-date: Family, Given, and Given Family. Year. "Title." Version. Publisher.
    URL."""
    record = view.record
    names = []
    for n, creator in enumerate(record.creators):
        family, given = family_given(creator) if is_person(creator) else (creator.name, "")
        names.append(f"{family}, {given}" if n == 0 and given else f"{given} {family}".strip())
    authors = _joined(names, ", and " if len(names) > 2 else " and ")
    text = f'{authors}. {view.year}. "{record.title.rstrip(".")}."'
    if record.version:
        text += f" Version {record.version}."
    if record.publisher:
        text += f" {record.publisher.name}."
    return f"{text} {view.cite_as}"


STYLES: dict[str, tuple[str, Callable[[RecordView], str]]] = {
    "datacite": ("DataCite", datacite),
    "apa": ("APA", apa),
    "chicago": ("Chicago", chicago),
}
"""style key → (label, formatter), in the order the landing page offers them."""


def cite(view: RecordView, style: str = "datacite") -> str:
    """The citation of ``view`` in ``style`` (one of :data:`STYLES`; KeyError otherwise)."""
    return STYLES[style][1](view)
