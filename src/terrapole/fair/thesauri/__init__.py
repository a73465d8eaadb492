"""Thesauri: SKOS concept schemes imported from RDF/XML or Turtle (rdflib) into the project
database, browsed by hierarchy and collection, and searched by label for keyword pickers.

>>> thesauri = Thesauri(engine)  # doctest: +SKIP
>>> thesauri.import_file(Path("inspire-theme.en.rdf")).concepts  # doctest: +SKIP
35
>>> [h.concept.label("en") for h in thesauri.search("hydro")]  # doctest: +SKIP
['Hydrography']
"""

from __future__ import annotations

from terrapole.fair.thesauri.model import (
    Collection,
    Concept,
    ConceptRef,
    Hit,
    ImportReport,
    Label,
    Scheme,
    fold,
    pick,
)
from terrapole.fair.thesauri.store import Thesauri

__all__ = [
    "Collection",
    "Concept",
    "ConceptRef",
    "Hit",
    "ImportReport",
    "Label",
    "Scheme",
    "Thesauri",
    "fold",
    "pick",
]
