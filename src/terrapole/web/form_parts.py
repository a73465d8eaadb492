"""A ``multipart/form-data`` body read with a size limit, into named fields and uploaded files.

The admin import takes files (a series, its mapping, side files, a pivot document and its data
files) in one form. The body is read from the stream at most ``limit`` bytes (one more and the
request is answered 413 before anything is parsed) and parsed with the standard library's MIME
parser, so no form library is needed. A file's name may keep folders (``attributes/x.txt``,
which a mapping's side files use) but never leave the upload folder.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email import policy
from email.message import Message
from email.parser import BytesParser
from pathlib import PurePosixPath

from fastapi import HTTPException

from terrapole.errors import InvalidInput


@dataclass(frozen=True)
class Upload:
    """One uploaded file: the form field it came in, its relative path and its bytes."""

    field: str
    path: str
    data: bytes


@dataclass
class Form:
    """A parsed form: text fields by name, and the uploaded files in the order sent."""

    fields: dict[str, str] = field(default_factory=dict)
    files: list[Upload] = field(default_factory=list)

    def file(self, name: str) -> Upload | None:
        """The one file sent as field ``name`` (InvalidInput when several were)."""
        found = [f for f in self.files if f.field == name]
        if len(found) > 1:
            raise InvalidInput(name, f"give one file, not {len(found)}")
        return found[0] if found else None


def too_large(limit: int) -> HTTPException:
    """The 413 answer of a body past ``limit`` bytes."""
    return HTTPException(413, f"the upload is larger than the limit of {limit} bytes")


async def read_limited(chunks: AsyncIterator[bytes], declared: str | None, limit: int) -> bytes:
    """The whole body; 413 as soon as it, or its ``Content-Length``, passes ``limit``."""
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    body = bytearray()
    async for chunk in chunks:
        body += chunk
        if len(body) > limit:
            raise too_large(limit)
    return bytes(body)


def safe_path(name: str, field_name: str) -> str:
    """A sent file name as a relative POSIX path inside the upload folder.

    >>> safe_path("attributes/camels_name.txt", "files")
    'attributes/camels_name.txt'
    """
    path = PurePosixPath(name.replace("\\", "/"))
    if not name.strip() or path.is_absolute() or any(p in ("", ".", "..") for p in path.parts):
        raise InvalidInput(field_name, f"file name {name!r} must be a relative path without '..'")
    return str(path)


def _part(part: Message) -> tuple[str, str | None, bytes]:
    name = part.get_param("name", header="content-disposition")
    if not isinstance(name, str) or not name:
        raise InvalidInput("form", "a part has no name in its Content-Disposition")
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    return name, part.get_filename(), data


def parse_form(content_type: str | None, body: bytes) -> Form:
    """The fields and files of a ``multipart/form-data`` body (InvalidInput when it is not one)."""
    if not content_type or not content_type.lower().startswith("multipart/form-data"):
        raise InvalidInput("Content-Type", "send the files as multipart/form-data")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
    if not message.is_multipart() or message.defects:
        raise InvalidInput("body", "not a readable multipart/form-data body")
    form = Form()
    for part in message.iter_parts():
        name, filename, data = _part(part)
        if filename is None:
            if name in form.fields:
                raise InvalidInput(name, "given more than once")
            form.fields[name] = data.decode("utf-8", errors="replace").strip()
        else:
            form.files.append(Upload(name, safe_path(filename, name), data))
    return form
