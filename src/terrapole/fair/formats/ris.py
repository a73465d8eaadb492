"""A record as an RIS reference (``TY  - DATA``), as reference managers import it."""

from __future__ import annotations

from terrapole.fair.formats.view import RecordView, family_given, is_person, issued, licences

MEDIA_TYPE = "application/x-research-info-systems"


def _line(tag: str, value: str) -> str:
    return f"{tag}  - {' '.join(value.split())}"  # one line: RIS has no continuation


def reference(view: RecordView) -> str:
    """The RIS text of the record (CRLF line ends, as the format's readers expect)."""
    record = view.record
    lines = [_line("TY", "DATA"), _line("TI", record.title)]
    for creator in record.creators:
        if is_person(creator):
            family, given = family_given(creator)
            lines.append(_line("AU", f"{family}, {given}" if given else family))
        else:
            lines.append(_line("AU", creator.name))
    lines.append(_line("PY", view.year))
    if (date := issued(record)) and len(date) >= 10:
        lines.append(_line("DA", date[:10].replace("-", "/")))
    if record.publisher:
        lines.append(_line("PB", record.publisher.name))
    if record.version:
        lines.append(_line("ET", record.version))
    if view.doi:
        lines.append(_line("DO", view.doi))
    lines.append(_line("UR", view.cite_as))
    if record.abstract:
        lines.append(_line("AB", record.abstract))
    lines.extend(_line("KW", s.subject) for s in record.subjects)
    if record.language:
        lines.append(_line("LA", record.language))
    for name, url in licences(record):
        lines.append(_line("C1", f"{name} {url or ''}".strip()))  # no licence tag: custom 1
    lines.append("ER  - ")
    return "\r\n".join(lines) + "\r\n"
