"""English and French strings of the FAIR pages, one section per kind of page."""

from __future__ import annotations

# -- thesauri --------------------------------------------------------------------------------
THESAURUS_STRINGS: dict[str, dict[str, str]] = {
    "thesauri": {"en": "Thesauri", "fr": "Thésaurus"},
    "thesauri_intro": {
        "en": "Controlled vocabularies (SKOS) imported on this platform: the keywords records "
        "use, with their concepts, hierarchy and labels.",
        "fr": "Vocabulaires contrôlés (SKOS) importés sur cette plateforme : les mots-clés "
        "qu'utilisent les fiches, avec leurs concepts, leur hiérarchie et leurs libellés.",
    },
    "no_thesaurus": {
        "en": "No thesaurus imported yet (terrapole thesaurus import FILE).",
        "fr": "Aucun thésaurus importé (terrapole thesaurus import FICHIER).",
    },
    "scheme": {"en": "Thesaurus", "fr": "Thésaurus"},
    "concepts": {"en": "Concepts", "fr": "Concepts"},
    "languages": {"en": "Languages", "fr": "Langues"},
    "source": {"en": "Imported from", "fr": "Importé de"},
    "imported": {"en": "Imported on", "fr": "Importé le"},
    "uri": {"en": "URI", "fr": "URI"},
    "search": {"en": "Search the labels", "fr": "Chercher dans les libellés"},
    "search_button": {"en": "Search", "fr": "Chercher"},
    "results": {"en": "Results", "fr": "Résultats"},
    "no_match": {"en": "No concept matches.", "fr": "Aucun concept ne correspond."},
    "matched": {"en": "matched", "fr": "trouvé par"},
    "hierarchy": {"en": "Hierarchy", "fr": "Hiérarchie"},
    "top_concepts": {"en": "Top concepts", "fr": "Concepts de tête"},
    "collections": {"en": "Collections", "fr": "Collections"},
    "labels": {"en": "Labels", "fr": "Libellés"},
    "language": {"en": "Language", "fr": "Langue"},
    "untagged": {"en": "(no language)", "fr": "(sans langue)"},
    "pref": {"en": "Preferred", "fr": "Préféré"},
    "alt": {"en": "Alternative", "fr": "Alternatif"},
    "hidden": {"en": "Hidden", "fr": "Caché"},
    "definition": {"en": "Definition", "fr": "Définition"},
    "notation": {"en": "Notation", "fr": "Notation"},
    "broader": {"en": "Broader", "fr": "Générique"},
    "narrower": {"en": "Narrower", "fr": "Spécifique"},
    "related": {"en": "Related", "fr": "Associé"},
    "in_collections": {"en": "In collections", "fr": "Dans les collections"},
    "outside": {"en": "outside the imported thesauri", "fr": "hors des thésaurus importés"},
    "json": {"en": "JSON", "fr": "JSON"},
}
