"""The exports of one metadata record: schema.org JSON-LD, BibTeX, RIS, CSL JSON, text
citations and DCAT Turtle, each a pure function of a :class:`RecordView` (DataCite XML and JSON
are :mod:`terrapole.fair.datacite`'s)."""

from terrapole.fair.formats.view import DataFile, RecordView, VersionRef

__all__ = ["DataFile", "RecordView", "VersionRef"]
