"""What the thesaurus core hands out: schemes, concepts, collections, search hits, import
reports (frozen dataclasses), and the two text rules every reader shares: how a label is
folded for search and which label stands for a concept in a language."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

LabelKind = Literal["pref", "alt", "hidden"]
RelationKind = Literal["broader", "narrower", "related"]
FALLBACK_LANGUAGES = ("en", "")
"""Where a label falls back to when the asked language has none: English, then untagged."""


def fold(text: str) -> str:
    """``text`` as search compares it: accents removed, case folded, spaces collapsed.

    >>> fold("  Énergie  HYDRAULIQUE ")
    'energie hydraulique'
    """
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def pick(texts: Mapping[str, str], lang: str) -> str:
    """The text in ``lang``, else in English, else untagged, else any (``""`` if none).

    >>> pick({"nb": "Vær", "en": "Weather"}, "fr")
    'Weather'
    """
    for key in (lang, *FALLBACK_LANGUAGES):
        if key in texts:
            return texts[key]
    return next(iter(texts.values()), "")


@dataclass(frozen=True)
class Label:
    """One SKOS label: pref, alt or hidden, in a language (``""``: untagged)."""

    kind: LabelKind
    lang: str
    text: str


@dataclass(frozen=True)
class ConceptRef:
    """A concept as lists show it: its URI and preferred labels by language (empty for a
    concept outside the imported schemes, e.g. a broader concept in another vocabulary)."""

    uri: str
    pref_labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def known(self) -> bool:
        """Whether the concept was imported (its page exists here)."""
        return bool(self.pref_labels)

    def label(self, lang: str) -> str:
        """The preferred label in ``lang`` with fallback; the URI for an unknown concept."""
        return pick(self.pref_labels, lang) or self.uri


@dataclass(frozen=True)
class Concept:
    """A concept with everything its page shows."""

    uri: str
    scheme: str
    notation: str | None
    labels: tuple[Label, ...]
    definitions: Mapping[str, str]
    broader: tuple[ConceptRef, ...]
    narrower: tuple[ConceptRef, ...]
    related: tuple[ConceptRef, ...]
    collections: tuple[ConceptRef, ...]
    top: bool

    @property
    def pref_labels(self) -> dict[str, str]:
        """The preferred label of each language."""
        return {lb.lang: lb.text for lb in self.labels if lb.kind == "pref"}

    def label(self, lang: str) -> str:
        """The preferred label in ``lang`` with fallback."""
        return pick(self.pref_labels, lang) or self.uri

    def labels_by_language(self) -> dict[str, dict[LabelKind, list[str]]]:
        """``{lang: {kind: [text, ...]}}``, languages sorted, for a page's label table."""
        out: dict[str, dict[LabelKind, list[str]]] = {}
        for lb in sorted(self.labels, key=lambda lb: (lb.lang, lb.kind, lb.text)):
            out.setdefault(lb.lang, {}).setdefault(lb.kind, []).append(lb.text)
        return out


@dataclass(frozen=True)
class Scheme:
    """An imported concept scheme: its titles by language, the languages of its labels, when
    and from which file (name and SHA-256) it was imported, and its concept count."""

    uri: str
    titles: Mapping[str, str]
    languages: tuple[str, ...]
    imported: datetime
    source: str
    checksum: str
    concepts: int

    def title(self, lang: str) -> str:
        """The title in ``lang`` with fallback; the URI when the scheme has none."""
        return pick(self.titles, lang) or self.uri


@dataclass(frozen=True)
class Collection:
    """A ``skos:Collection`` of a scheme with its members."""

    uri: str
    labels: Mapping[str, str]
    members: tuple[ConceptRef, ...]

    def label(self, lang: str) -> str:
        """The preferred label in ``lang`` with fallback."""
        return pick(self.labels, lang) or self.uri


@dataclass(frozen=True)
class Hit:
    """A search result: the concept, the label that matched, and how (0 exact, 1 prefix of the
    label, 2 prefix of a word, 3 elsewhere in the label: lower ranks first)."""

    concept: ConceptRef
    scheme: str
    matched: str
    rank: int
    broader: tuple[ConceptRef, ...]


@dataclass(frozen=True)
class ImportReport:
    """What an import did: per scheme, its URI and concept count; ``replaced``: the scheme was
    there before (its content was replaced); ``unchanged``: by the same file (same checksum)."""

    source: str
    checksum: str
    schemes: tuple[tuple[str, int], ...]
    replaced: bool
    unchanged: bool

    @property
    def concepts(self) -> int:
        """Concepts imported, all schemes together."""
        return sum(count for _, count in self.schemes)
