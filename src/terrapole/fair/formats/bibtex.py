"""A record as a BibTeX entry (``@misc``, which every BibTeX style knows, or biblatex's
``@dataset``), with the DOI and the landing page."""

from __future__ import annotations

import re
import unicodedata

from terrapole.fair.formats.view import RecordView, family_given, is_person, licences

MEDIA_TYPE = "application/x-bibtex"

_SPECIAL = re.compile(r"([\\{}&%$#_^~])")
_ESCAPED = {"\\": r"\textbackslash{}", "^": r"\^{}", "~": r"\~{}"}


def escape(text: str) -> str:
    """``text`` safe inside a BibTeX field: LaTeX's special characters escaped."""
    return _SPECIAL.sub(lambda m: _ESCAPED.get(m.group(1), "\\" + m.group(1)), text)


def key(view: RecordView) -> str:
    """A citation key: the first creator's family name and the year (ASCII letters only)."""
    record = view.record
    first = family_given(record.creators[0])[0] if record.creators else "record"
    ascii_name = unicodedata.normalize("NFKD", first).encode("ascii", "ignore").decode()
    return (re.sub(r"[^A-Za-z]", "", ascii_name) or "record") + view.year.replace("n.d.", "")


def _author(view: RecordView) -> str:
    names = []
    for creator in view.record.creators:
        if is_person(creator):
            family, given = family_given(creator)
            names.append(f"{escape(family)}, {escape(given)}" if given else escape(family))
        else:
            names.append("{" + escape(creator.name) + "}")  # braces: not split into names
    return " and ".join(names)


def entry(view: RecordView, *, kind: str = "misc") -> str:
    """The BibTeX entry (``kind`` ``misc`` or ``dataset``)."""
    record = view.record
    fields: list[tuple[str, str]] = [
        ("author", _author(view)),
        ("title", "{" + escape(record.title) + "}"),
        ("year", view.year),
    ]
    if record.publisher:
        fields.append(("publisher", escape(record.publisher.name)))
    if record.version:
        fields.append(("version", escape(record.version)))
    if view.doi:
        fields.append(("doi", view.doi))
    fields.append(("url", view.cite_as))
    if record.subjects:
        fields.append(("keywords", escape(", ".join(s.subject for s in record.subjects))))
    if found := licences(record):
        fields.append(("copyright", escape(found[0][0])))
    fields.append(("howpublished", "Dataset" if kind == "misc" else ""))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields if value)
    return f"@{kind}{{{key(view)},\n{body}\n}}\n"
