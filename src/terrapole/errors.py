"""The project's exception types.

Every error a caller may handle is a short subclass of :class:`TerrapoleError` that builds its
message from the offending input and keeps that input as attributes. HTTP status codes are
mapped in one table in ``app.py``; CLI exit codes in ``cli.py``.
"""

from __future__ import annotations

from typing import Any


def _rebuilt(kind: type[TerrapoleError], message: str, state: dict[str, Any]) -> TerrapoleError:
    error = kind.__new__(kind)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error


class TerrapoleError(Exception):
    """Base of every terrapole error; ``message`` is safe to show to the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __reduce__(self) -> tuple[Any, ...]:
        # pickled as message and attributes, not by the subclass's own arguments: an error
        # raised in a Dask worker or process pool reaches the caller whole
        return _rebuilt, (type(self), self.message, dict(self.__dict__))


class ConfigError(TerrapoleError):
    """A setting has a value terrapole cannot start with."""

    def __init__(self, setting: str, reason: str) -> None:
        super().__init__(f"invalid setting {setting}: {reason}")
        self.setting = setting
        self.reason = reason


class NotFound(TerrapoleError):
    """A collection, item or other resource does not exist (or is not visible to the caller)."""

    def __init__(self, kind: str, ident: str) -> None:
        super().__init__(f"{kind} {ident!r} not found")
        self.kind = kind
        self.ident = ident


class AlreadyExists(TerrapoleError):
    """A create was asked for a resource id that is already taken."""

    def __init__(self, kind: str, ident: str) -> None:
        super().__init__(f"{kind} {ident!r} already exists")
        self.kind = kind
        self.ident = ident


class InvalidInput(TerrapoleError):
    """A request or document is malformed; ``field`` names where."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"invalid {field}: {reason}")
        self.field = field
        self.reason = reason


class InvalidItem(InvalidInput):
    """A STAC item or collection document fails validation."""

    def __init__(self, ident: str, reason: str) -> None:
        super().__init__(f"STAC document {ident!r}", reason)
        self.ident = ident


class InvalidFilter(InvalidInput):
    """A CQL2 filter cannot be parsed or uses an unsupported operator."""

    def __init__(self, reason: str) -> None:
        super().__init__("filter", reason)


class InvalidToken(InvalidInput):
    """A paging token is not one this server issued."""

    def __init__(self, token: str) -> None:
        super().__init__("token", f"{token[:40]!r} is not a valid paging token")


class Unauthorized(TerrapoleError):
    """The request carries no credentials, or credentials that are not valid."""


class Forbidden(TerrapoleError):
    """The principal is known but may not do this."""


class StoreUnavailable(TerrapoleError):
    """The catalogue backend cannot be reached or is not set up."""


class InvalidProduct(InvalidInput):
    """A file or product cannot be ingested; ``path`` names it and ``reason`` says why."""

    def __init__(self, path: str, reason: str) -> None:
        TerrapoleError.__init__(self, f"{path}: {reason}")
        self.field = "product"
        self.path = path
        self.reason = reason


class EmptyProduct(InvalidProduct):
    """A product (or a chain's output) without a single valid pixel."""


class NotPublished(InvalidInput):
    """A staged item the catalogue or the storage refused: none of its files or item was kept.

    ``reason`` is the refusing error's message; that error is the exception's ``__cause__``.
    """

    def __init__(self, collection: str, item_id: str, reason: str) -> None:
        super().__init__(f"item {collection}/{item_id}", reason)
        self.collection = collection
        self.item_id = item_id


class OutsideBounds(NotFound):
    """A point asked of a raster lies outside its bounds: there is no value there to read."""

    def __init__(self, what: str, bounds: tuple[float, float, float, float]) -> None:
        west, south, east, north = bounds
        TerrapoleError.__init__(
            self,
            f"{what} is outside the raster's bounds "
            f"(west {west:g}, south {south:g}, east {east:g}, north {north:g})",
        )
        self.kind = "value"
        self.ident = what
        self.bounds = bounds


class SourceUnavailable(TerrapoleError):
    """An asset's file cannot be opened where its href points (a remote provider that cannot be
    reached, a file gone from storage): the request was right, the data is not there (502)."""

    def __init__(self, href: str) -> None:
        super().__init__(f"the file {href!r} cannot be read")
        self.href = href
