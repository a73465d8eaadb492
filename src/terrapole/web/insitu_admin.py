"""In-situ imports over HTTP and dataset downloads: what ``terrapole insitu import|export`` do.

``POST /admin/insitu/import`` (admins and the ``producer`` role) takes a multipart form:
``file`` (a CSV/RDB/whitespace series, or a pivot ``.json`` document), ``mapping`` (the TOML
mapping of a series), further files as ``files`` (a pivot document's data files, a mapping's
station side files, named by their path relative to the mapping), and the fields ``dataset``
(import into this dataset id) and ``strict`` (refuse the whole file on any bad row). The files
are written to a temporary folder and imported by the same core calls as the CLI
(:func:`~terrapole.insitu.tabular.import_table`, :func:`~terrapole.insitu.pivot.import_pivot`):
everything is checked before anything is written, so a bad mapping, a bad document or, with
``strict``, a bad row answers 400 naming the problem and stores nothing. The body is limited to
``Settings.insitu_max_upload_bytes`` (413 beyond). An import never writes into a dataset the
caller may not read: a hidden ``dataset`` id answers 404 like an unknown one, and a mapping or
pivot document naming a hidden dataset by its identifier answers 403.

``GET /insitu/datasets/{id}/export?format=csv|pivot`` downloads a dataset the caller may read
(a hidden one answers 404 like an unknown one): every series as one CSV, or a zip of the pivot
document and its data files (validated against the pivot schemas before it is sent).
"""

from __future__ import annotations

import io
import re
import tempfile
import zipfile
from collections.abc import Set
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from terrapole.access import Principal
from terrapole.errors import Forbidden, InvalidInput, Unauthorized
from terrapole.insitu import InsituStore, access_key
from terrapole.insitu.ensure import datastreams_of_dataset
from terrapole.insitu.mapping import load_mapping
from terrapole.insitu.pivot import import_pivot, load_document
from terrapole.insitu.pivot_export import export_pivot, write_csv
from terrapole.insitu.tabular import import_table
from terrapole.web.form_parts import Form, Upload, parse_form, read_limited
from terrapole.web.insitu import RowId, insitu_store
from terrapole.web.services import WebServices

PRODUCER = "producer"
Hidden = Set[str]
FIELDS = frozenset({"dataset", "strict"})
FILE_FIELDS = frozenset({"file", "mapping", "files"})
_TRUE = {"true": True, "1": True, "on": True, "yes": True,
         "false": False, "0": False, "off": False, "no": False, "": False}  # fmt: skip


class ExportFormat(StrEnum):
    """What a dataset download holds."""

    csv = "csv"
    pivot = "pivot"


def require_importer(principal: Principal) -> None:
    """Refuse anyone but admins and the ``producer`` role: 401 anonymous, 403 others."""
    if principal.anonymous:
        raise Unauthorized("importing in-situ series needs a producer or admin token")
    if not principal.admin and PRODUCER not in principal.roles:
        raise Forbidden(f"{principal.name} has neither the producer role nor admin")


def _options(form: Form) -> tuple[int | None, bool]:
    unknown = sorted(set(form.fields) - FIELDS)
    if unknown:
        raise InvalidInput(unknown[0], f"unknown field (known: {', '.join(sorted(FIELDS))})")
    text = form.fields.get("dataset", "")
    try:
        dataset = int(text) if text else None
    except ValueError as exc:
        raise InvalidInput("dataset", f"{text!r} is not a dataset id") from exc
    strict = _TRUE.get(form.fields.get("strict", "").lower())
    if strict is None:
        raise InvalidInput("strict", f"{form.fields['strict']!r} is not true or false")
    return dataset, strict


def _write(folder: Path, upload: Upload) -> Path:
    path = folder / upload.path
    if path.exists():
        raise InvalidInput(upload.field, f"{upload.path} is sent twice")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(upload.data)
    return path


def _refuse_hidden(store: InsituStore, producer: Any, dataset: Any, hidden: Hidden) -> None:
    """403 when the producer's dataset named ``dataset`` exists and ``hidden`` holds it (an
    import would otherwise add to a dataset its importer may not read)."""
    if not isinstance(producer, str) or not isinstance(dataset, str):
        return  # the mapping or document checks word what is wrong with them
    found = store.producer_by_identifier(producer)
    stored = None if found is None else store.dataset_by_identifier(found.id or 0, dataset)
    if stored is not None and access_key(stored.id or 0) in hidden:
        raise Forbidden(f"dataset {dataset!r} of {producer!r} is restricted to other groups")


def _refuse_hidden_pivot(store: InsituStore, doc: Any, hidden: Hidden) -> None:
    """:func:`_refuse_hidden` for each dataset a pivot document names."""
    if not isinstance(doc, dict) or not isinstance(doc.get("producer"), dict):
        return
    for entry in doc.get("datasets") or []:
        if isinstance(entry, dict):
            _refuse_hidden(store, doc["producer"].get("producerId"), entry.get("datasetId"), hidden)


def import_form(
    store: InsituStore, form: Form, folder: Path, hidden: Hidden = frozenset()
) -> dict[str, Any]:
    """Import a parsed form's files (written under ``folder``) for a caller who may not read
    the ``hidden`` datasets; the report as JSON."""
    unknown = sorted({f.field for f in form.files} - FILE_FIELDS)
    if unknown:
        raise InvalidInput(unknown[0], f"unknown file field (known: {', '.join(FILE_FIELDS)})")
    dataset, strict = _options(form)
    if dataset is not None:
        store.get_dataset(dataset, hidden=hidden)  # hidden: 404 exactly like an unknown id
    main, mapping = form.file("file"), form.file("mapping")
    if main is None:
        raise InvalidInput("file", "required: the series or pivot document to import")
    # one folder holds every file: a mapping's side files are relative to it, a pivot
    # document's data files sit beside it
    mapping_path = None if mapping is None else _write(folder, mapping)
    main_path = _write(folder, main)
    for extra in (f for f in form.files if f.field == "files"):
        _write(folder, extra)
    if main_path.suffix.lower() == ".json":
        if mapping is not None:
            raise InvalidInput("mapping", "a pivot document takes no mapping")
        if dataset is not None:
            raise InvalidInput("dataset", "a pivot document names its own datasets")
        document = load_document(main_path)
        _refuse_hidden_pivot(store, document, hidden)
        report = import_pivot(store, document, main_path.parent)
        return {"format": "pivot", "file": main.path, **report.to_json()}
    if mapping_path is None:
        raise InvalidInput("mapping", f"required for a CSV or RDB file ({main.path})")
    rules = load_mapping(mapping_path)
    if dataset is None:
        producer, named = rules.producer["identifier"], rules.dataset["identifier"]
        _refuse_hidden(store, producer, named, hidden)
    table = import_table(store, main_path, rules, dataset_id=dataset, strict=strict)
    return {"format": "table", "file": main.path, **table.to_json()}


def _download_name(identifier: str | None, dataset_id: int, suffix: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", identifier or "") or f"dataset-{dataset_id}"
    return f"{stem}{suffix}"


def export_zip(store: InsituStore, dataset_id: int) -> bytes:
    """The pivot document of a dataset and its data files, as a zip (PivotInvalid: 400)."""
    with tempfile.TemporaryDirectory(prefix="tp-pivot-") as tmp:
        folder = Path(tmp)
        export_pivot(store, dataset_id, folder / "pivot.json")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(folder.iterdir()):
                archive.write(path, path.name)
        return buffer.getvalue()


def router(services: WebServices, store: InsituStore | None = None) -> APIRouter:
    """The admin import and the dataset download (``store``: by default the project's)."""
    api = APIRouter(tags=["insitu"])
    insitu = store or insitu_store(services)
    limit = services.settings.insitu_max_upload_bytes

    @api.post("/admin/insitu/import", summary="Import an in-situ series or pivot document")
    async def import_upload(request: Request) -> dict[str, Any]:
        """Import the uploaded files as ``terrapole insitu import`` does (see the module)."""
        require_importer(services.principal(request))
        hidden = services.hidden(request)
        body = await read_limited(request.stream(), request.headers.get("content-length"), limit)
        form = parse_form(request.headers.get("content-type"), body)
        with tempfile.TemporaryDirectory(prefix="tp-insitu-") as tmp:
            return await run_in_threadpool(import_form, insitu, form, Path(tmp), hidden)

    @api.get("/insitu/datasets/{dataset_id}/export", summary="Download a dataset")
    def export(
        dataset_id: RowId,
        request: Request,
        fmt: Annotated[ExportFormat, Query(alias="format")] = ExportFormat.csv,
    ) -> Response:
        """Every series of a visible dataset as CSV, or its pivot document and data as zip."""
        dataset = insitu.get_dataset(dataset_id, hidden=services.hidden(request))
        if fmt is ExportFormat.pivot:
            name = _download_name(dataset.identifier, dataset_id, "-pivot.zip")
            content, media = export_zip(insitu, dataset_id), "application/zip"
        else:
            out = io.StringIO()
            write_csv(insitu, datastreams_of_dataset(insitu, dataset_id), out)
            name = _download_name(dataset.identifier, dataset_id, ".csv")
            content, media = out.getvalue().encode("utf-8"), "text/csv; charset=utf-8"
        return Response(
            content,
            media_type=media,
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    return api
