"""Asset downloads: stable URLs with HTTP Range (GDAL /vsicurl/, QGIS), whole items as zip."""

from __future__ import annotations

import mimetypes
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, StreamingResponse

from terrapole.errors import NotFound
from terrapole.web.services import WebServices

CHUNK = 1 << 20
TYPES = {".tif": "image/tiff; application=geotiff; profile=cloud-optimized", ".png": "image/png"}


def _media_type(path: Path) -> str:
    return (
        TYPES.get(path.suffix.lower())
        or mimetypes.guess_type(path.name)[0]
        or "application/octet-stream"
    )


class _Sink:
    """A write-only file object whose bytes are taken out as they come (for streaming zips)."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.offset = 0

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        self.offset += len(data)
        return len(data)

    def tell(self) -> int:
        return self.offset

    def flush(self) -> None:
        return None

    def take(self) -> bytes:
        out, self.parts = b"".join(self.parts), []
        return out


def zip_stream(files: list[tuple[str, Path]]) -> Iterator[bytes]:
    """Yield a zip archive of ``files`` (name in archive, path) chunk by chunk, never whole."""
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED) as archive:  # type: ignore[call-overload]
        for name, path in files:
            with path.open("rb") as src, archive.open(name, "w", force_zip64=True) as dst:
                for block in iter(lambda: src.read(CHUNK), b""):
                    dst.write(block)
                    yield sink.take()
            yield sink.take()
    yield sink.take()


def router(services: WebServices) -> APIRouter:
    """Routes under /assets (files) and /stac/collections/{c}/items/{i}/download (zip)."""
    api = APIRouter(tags=["downloads"])

    def _readable(request: Request, collection: str) -> bool:
        return services.access.can_read(services.principal(request), collection)

    @api.api_route(
        "/assets/{collection}/{item}/{name}",
        methods=["GET", "HEAD"],
        summary="Download one asset (Range supported)",
    )
    def asset(collection: str, item: str, name: str, request: Request) -> FileResponse:
        key = f"{collection}/{item}/{name}"
        if not _readable(request, collection):
            raise NotFound("asset", key)  # a restricted file is answered as a missing one
        path = services.storage.local_path(key)
        return FileResponse(path, media_type=_media_type(path), filename=name)

    @api.get(
        "/stac/collections/{collection}/items/{item}/download",
        summary="Download every asset of an item as one zip (streamed)",
    )
    def item_zip(collection: str, item: str, request: Request) -> StreamingResponse:
        hidden = services.hidden(request)  # a restricted item is answered as a missing one
        doc: dict[str, Any] = services.store.get_item(collection, item, hidden=hidden)
        prefix = f"{collection}/{item}/"
        files = [
            (key[len(prefix) :], services.storage.local_path(key))
            for key in services.storage.list(f"{collection}/{item}")
        ]
        headers = {"Content-Disposition": f'attachment; filename="{doc["id"]}.zip"'}
        return StreamingResponse(zip_stream(files), media_type="application/zip", headers=headers)

    return api
