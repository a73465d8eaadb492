"""``POST /records/check``: what is wrong with a draft and which FAIR principles it meets.

The FAIRisation editor calls it as you type; any client may (nothing is stored, no sign-in:
it only reads what it is sent). The body is the record's JSON (DataCite camelCase plus
``extras``) or the editor's form (fields named by their DataCite JSON paths, see
:mod:`terrapole.web.record_form`). The answer lists :func:`terrapole.fair.checks.problems`
(field path + message) and :func:`terrapole.fair.checklist.checklist` with its score; a
malformed draft is a 200 too, its one problem naming the malformed field, since a form being
typed is often half-made.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from pydantic import BaseModel

from terrapole.errors import InvalidInput
from terrapole.fair import checklist as fair_checklist
from terrapole.fair import checks
from terrapole.fair.model import Record
from terrapole.web.record_form import MAX_FIELDS, record_of_fields
from terrapole.web.services import WebServices

MAX_BODY = 1_000_000
"""The largest draft checked, in bytes."""


class ProblemOut(BaseModel):
    """One problem: the DataCite JSON path of the field and what is expected."""

    field: str
    message: str


class PrincipleOut(BaseModel):
    """One FAIR principle: met, or what is missing."""

    code: str
    text: str
    met: bool
    missing: str


class CheckAnswer(BaseModel):
    """The problems (none: it may be submitted), the FAIR checklist and its score."""

    problems: list[ProblemOut]
    checklist: list[PrincipleOut]
    met: int
    total: int
    complete: bool


def answer_for(record: Record | None, malformed: InvalidInput | None = None) -> CheckAnswer:
    """The check of ``record`` (None with ``malformed``: the one problem is the draft's shape)."""
    found = (
        [ProblemOut(field=malformed.field, message=malformed.reason)]
        if malformed is not None
        else [ProblemOut(field=p.field, message=p.message) for p in checks.problems(record)]
        if record is not None
        else []
    )
    principles = fair_checklist.checklist(record or Record())
    met, total = fair_checklist.score(principles)
    return CheckAnswer(
        problems=found,
        checklist=[
            PrincipleOut(code=p.code, text=p.text, met=p.met, missing=p.missing)
            for p in principles
        ],
        met=met, total=total, complete=not found,
    )  # fmt: skip


async def posted_record(request: Request) -> Record:
    """The draft a request carries: a JSON body, or the editor's URL-encoded form (a body
    too large, not JSON, or nested past the interpreter's recursion limit: InvalidInput)."""
    body = await request.body()
    if len(body) > MAX_BODY:
        raise InvalidInput("body", f"a draft is at most {MAX_BODY} bytes")
    kind = request.headers.get("content-type", "")
    if kind.startswith("application/x-www-form-urlencoded"):
        try:
            pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True,
                              max_num_fields=MAX_FIELDS)  # fmt: skip
        except ValueError:
            raise InvalidInput("form", f"more than {MAX_FIELDS} fields") from None
        return record_of_fields(dict(pairs))
    try:
        data: Any = json.loads(body or b"{}")
    except ValueError as exc:
        raise InvalidInput("body", f"not JSON: {exc}") from None
    except RecursionError:  # the decoder recurses once per level of nesting
        raise InvalidInput("body", "the JSON is nested too deeply to be a record") from None
    try:
        return Record.from_json(data)
    except RecursionError:
        raise InvalidInput("body", "the JSON is nested too deeply to be a record") from None


def router(services: WebServices) -> APIRouter:
    """The route ``POST /records/check``."""
    api = APIRouter(tags=["fair"])

    @api.post(
        "/records/check",
        summary="Problems and FAIR checklist of a draft (nothing stored)",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"type": "object"}},
                    "application/x-www-form-urlencoded": {"schema": {"type": "object"}},
                },
            }
        },
    )
    async def check(request: Request) -> CheckAnswer:
        """Every problem of the posted draft (mandatory fields, ORCID/ROR/DOI/URL, SPDX,
        dates, geometry), each by its field's DataCite JSON path, and the FAIR principles it
        meets or what each misses; ``complete`` when it may be submitted."""
        try:
            record = await posted_record(request)
        except InvalidInput as exc:
            if exc.field == "body":
                raise
            return answer_for(None, exc)
        return answer_for(record)

    return api
