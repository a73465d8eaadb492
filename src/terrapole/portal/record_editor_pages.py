"""The FAIRisation editor: draft a metadata record, see its problems and FAIR checklist as
you type, submit it to a curator, review it (comments per field, changes requested,
approval), publish it and start its next version.

Thin: :class:`terrapole.fair.records.RecordBook` (``services.records``) decides who may do
what and when; the form's inputs are named by DataCite JSON paths
(:mod:`terrapole.web.record_form`), the live checks call ``POST /records/check``
(:mod:`terrapole.web.record_checks`) and the keyword pickers ``/thesauri/search``. Posts carry
the session's CSRF token; the editor's form may hold more fields than other portal forms, so
it is read here with the editor's own limit and its token checked the same way.

The pages are ``/records/new``, ``/records/mine``, ``/records/review`` and
``/records/{id}/edit`` (with ``/records/{id}/act`` for the workflow's moves): their router is
included before the landing page's ``/records/{id}``.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from terrapole.access.policy import Principal
from terrapole.errors import (
    Forbidden,
    InvalidInput,
    NotFound,
    SourceUnavailable,
    TerrapoleError,
    Unauthorized,
)
from terrapole.fair import checklist as fair_checklist
from terrapole.fair import checks
from terrapole.fair.checks import IncompleteRecord, Problem
from terrapole.fair.deposits import DepositFrozen
from terrapole.fair.identifiers import IdentifierFailed
from terrapole.fair.model import Record, SourceKind
from terrapole.fair.record_workflow import InvalidRecordTransition, RecordState
from terrapole.fair.records import Comment, StoredRecord, actor_name
from terrapole.fair.thesauri import Thesauri
from terrapole.portal.account_pages import to_login
from terrapole.portal.fair_strings import EDITOR_STRINGS
from terrapole.portal.i18n import translate
from terrapole.portal.routes import _lang, _page
from terrapole.web.account_auth import AccountAuth, Caller
from terrapole.web.deposits import deposits_of
from terrapole.web.record_form import (
    COMMON_LICENCES,
    MAX_FIELDS,
    ROOTS,
    TOPIC_CATEGORIES,
    datacite_choices,
    fields_of_record,
    record_of_fields,
    steps,
)
from terrapole.web.services import WebServices
from terrapole.web.sessions import CSRF_FIELD, check_csrf
from terrapole.web.thesauri import thesauri_of

INSPIRE_THEMES = "http://inspire.ec.europa.eu/theme"
"""The INSPIRE theme register's scheme URI (its themes feed ``extras.inspireThemes``)."""

SECTIONS: dict[str, str] = {
    "titles": "titles", "creators": "creators", "contributors": "contributors",
    "publisher": "publisher_name", "publicationYear": "year", "types": "resource_type",
    "descriptions": "descriptions", "subjects": "subjects",
    "extras.inspireThemes": "inspire_themes", "extras.topicCategories": "topic_categories",
    "dates": "dates", "language": "language", "relatedIdentifiers": "related",
    "rightsList": "rights", "fundingReferences": "funding", "geoLocations": "where",
    "extras.temporalExtent": "period", "extras.lineage": "lineage", "version": "version",
}  # fmt: skip
"""The editor's sections, by the path their fields start with (a comment is made on one),
and the key of their label in the editor's strings."""

_STATUS: tuple[tuple[type[TerrapoleError], int], ...] = (
    (InvalidRecordTransition, 409),
    (DepositFrozen, 409),
    (IdentifierFailed, 502),
    (InvalidInput, 400),
    (Unauthorized, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (SourceUnavailable, 502),
)

ACTIONS = ("submit", "approve", "request_changes", "publish", "new_version", "comment")
"""The moves ``/records/{id}/act`` makes, by the ``action`` field."""


def status_of(exc: TerrapoleError) -> int:
    """The HTTP status of a refused editor form (app.py's table for these errors)."""
    return next((status for kind, status in _STATUS if isinstance(exc, kind)), 400)


def section_of(field: str | None) -> str:
    """The section a field path belongs to (``creators[0].name`` → ``creators``)."""
    if not field:
        return ""
    return next((s for s in SECTIONS if field == s or field.startswith((s + "[", s + "."))), "")


class FormValues:
    """The editor's field values by path; remembers which the page shows, so the others
    travel in hidden inputs (:meth:`hidden`) and a save loses nothing."""

    def __init__(self, fields: dict[str, str]) -> None:
        self.fields = fields
        self.shown: set[str] = set()

    def __call__(self, path: str) -> str:
        """The value at ``path`` ("" when none), now shown."""
        self.shown.add(path)
        return self.fields.get(path, "")

    def rows(self, path: str, *, extra: int = 0, least: int = 1) -> range:
        """The row indices of the list at ``path``: those with values plus ``extra`` blank ones."""
        count = 0
        for name in self.fields:
            if name.startswith(path + "["):
                count = max(count, int(name[len(path) + 1 :].split("]", 1)[0]) + 1)
        return range(max(count + extra, least))

    def values(self, path: str) -> list[str]:
        """The values of a list of strings at ``path`` (``extras.inspireThemes``), now shown."""
        found = [(k, v) for k, v in self.fields.items() if k.startswith(path + "[")]
        self.shown.update(k for k, _ in found)
        return [v for _, v in sorted(found, key=lambda kv: steps(kv[0]))]

    def hidden(self) -> list[tuple[str, str]]:
        """The values the page did not show (kept as they are)."""
        kept = [(k, v) for k, v in self.fields.items() if k not in self.shown]
        return [(k, v) for k, v in kept if not k.startswith("extras.spatialExtent")]


def _problems_by_field(found: list[Problem]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for problem in found:
        out.setdefault(problem.field, []).append(problem.message)
    return out


def _comments_by_section(comments: list[Comment]) -> dict[str, list[Comment]]:
    out: dict[str, list[Comment]] = {}
    for comment in comments:
        out.setdefault(section_of(comment.field), []).append(comment)
    return out


async def editor_fields(request: Request, caller: Caller) -> dict[str, str]:
    """The posted editor form, its CSRF token checked when it came with the session cookie."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        raise InvalidInput("form", "a URL-encoded form is required")
    text = (await request.body()).decode("utf-8", errors="replace")
    try:
        fields = dict(parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS))
    except ValueError:
        raise InvalidInput("form", f"more than {MAX_FIELDS} fields") from None
    if caller.session is not None:
        check_csrf(caller.session, fields.get(CSRF_FIELD))
    return fields


def _schemes(thesauri: Thesauri, lang: str) -> list[tuple[str, str]]:
    return [(s.uri, s.title(lang)) for s in thesauri.schemes()]


def _labels(thesauri: Thesauri, uris: list[str], lang: str) -> dict[str, str]:
    """Labels of concept URIs (the URI itself for one no imported thesaurus has)."""
    out = {}
    for uri in uris:
        try:
            out[uri] = thesauri.concept(uri).label(lang)
        except NotFound:
            out[uri] = uri
    return out


class EditorView:
    """Renders the editor and the record lists for one app (``services.records`` reads)."""

    def __init__(self, services: WebServices) -> None:
        self.book = services.records
        self.thesauri = thesauri_of(services)

    def page(
        self, request: Request, caller: Caller, stored: StoredRecord | None, *,
        fields: dict[str, str] | None = None, status: int = 200, error: str = "",
        found: list[Problem] | None = None, message: str = "",
    ) -> HTMLResponse:  # fmt: skip
        """The editor of ``stored`` (None: a new record), with ``fields`` as posted when a
        post was refused, and the problems and checklist of what the form holds."""
        lang = _lang(request)
        record = stored.record if stored else Record()
        values = FormValues(fields if fields is not None else fields_of_record(record))
        try:
            draft = record_of_fields(values.fields)
        except InvalidInput as exc:
            draft, malformed = record, [Problem(exc.field, exc.reason)]
        else:
            malformed = []
        if found is None:
            found = malformed or checks.problems(draft)
        published = stored is not None and stored.state is RecordState.PUBLISHED
        principles = fair_checklist.checklist(draft, published=published)
        comments = self.book.comments(caller.principal, stored.id) if stored else []
        themes = values.values("extras.inspireThemes")
        public = stored is not None and stored.state in (RecordState.PUBLISHED,
                                                          RecordState.WITHDRAWN)  # fmt: skip
        response = _page(
            request, "record_edit.html", u=translate(EDITOR_STRINGS, lang),
            csrf=_csrf(caller), stored=stored, v=values,
            problems=_problems_by_field(found), problem_list=found,
            checklist=principles, score=fair_checklist.score(principles),
            editable=stored is None or stored.state is RecordState.DRAFT,
            owner=stored is None or stored.owner == actor_name(caller.principal),
            curator=caller.principal.curator, states=RecordState,
            comments=_comments_by_section(comments), all_comments=comments,
            sections=SECTIONS, choices=datacite_choices(), topics=TOPIC_CATEGORIES,
            licences=COMMON_LICENCES, schemes=_schemes(self.thesauri, lang),
            inspire=INSPIRE_THEMES, themes=themes,
            theme_labels=_labels(self.thesauri, themes, lang),
            versions=self.book.versions(caller.principal, stored.id) if stored and public else [],
            error=error, message=message,
        )  # fmt: skip
        response.status_code = status
        return response

    @staticmethod
    def listing(
        request: Request, caller: Caller, title: str, found: list[StoredRecord], *,
        denied: bool = False,
    ) -> HTMLResponse:  # fmt: skip
        """A list of records (the caller's, or those waiting for a curator)."""
        response = _page(
            request, "record_list.html", u=translate(EDITOR_STRINGS, _lang(request)),
            title=title, records=found, curator=caller.principal.curator, denied=denied,
        )  # fmt: skip
        response.status_code = 403 if denied else 200
        return response


def _csrf(caller: Caller) -> str:
    return caller.session.csrf_token if caller.session else ""


def to_editor(request: Request, record_id: str, note: str = "") -> RedirectResponse:
    """Back to a record's editor after a post, saying what was done."""
    tail = f"?done={note}" if note else ""
    return RedirectResponse(f"{request.base_url}records/{record_id}/edit{tail}", 303)


def router(services: WebServices) -> APIRouter:
    """The editor's pages over ``services.records``."""
    api = APIRouter(include_in_schema=False)
    auth = AccountAuth(services)
    view = EditorView(services)
    _list_routes(api, services, auth, view)
    _edit_routes(api, services, auth, view)
    return api


def _list_routes(
    api: APIRouter, services: WebServices, auth: AccountAuth, view: EditorView
) -> None:
    """``/records/new`` (a blank editor, or a draft from a platform object), ``/records/mine``
    and ``/records/review``."""
    book = services.records

    @api.get("/records/new", response_model=None)
    async def new_page(request: Request, source: str = "") -> Response:
        caller = await auth.optional(request)
        if caller is None:
            return to_login(request)
        if source:
            return _page(
                request, "record_source.html", u=translate(EDITOR_STRINGS, _lang(request)),
                csrf=_csrf(caller), source=source,
            )  # fmt: skip
        return view.page(request, caller, None)

    @api.post("/records/new", response_model=None)
    async def create(request: Request) -> Response:
        caller = await auth.caller(request, csrf=False)
        fields = await editor_fields(request, caller)
        try:
            if fields.get("source"):
                made = _describe(services, caller, fields["source"])
            else:
                made = book.create(caller.principal, record_of_fields(fields))
        except TerrapoleError as exc:
            return view.page(request, caller, None, fields=fields, status=status_of(exc),
                             error=exc.message)  # fmt: skip
        return to_editor(request, made.id, "saved")

    @api.get("/records/mine", response_model=None)
    async def mine(request: Request) -> Response:
        caller = await auth.optional(request)
        if caller is None:
            return to_login(request)
        u = translate(EDITOR_STRINGS, _lang(request))
        found = book.find(caller.principal, owner=actor_name(caller.principal))
        return view.listing(request, caller, u["my_records"], found)

    @api.get("/records/review", response_model=None)
    async def review(request: Request) -> Response:
        caller = await auth.optional(request)
        if caller is None:
            return to_login(request)
        u = translate(EDITOR_STRINGS, _lang(request))
        if not caller.principal.curator:
            return view.listing(request, caller, u["review"], [], denied=True)
        waiting = [
            *book.find(caller.principal, state=RecordState.SUBMITTED),
            *book.find(caller.principal, state=RecordState.APPROVED),
        ]
        return view.listing(request, caller, u["review"], waiting)


def _edit_routes(
    api: APIRouter, services: WebServices, auth: AccountAuth, view: EditorView
) -> None:
    """``/records/{id}/edit`` (the editor; a post saves the draft) and ``/records/{id}/act``
    (the workflow's moves and comments)."""
    book = services.records

    @api.get("/records/{record_id}/edit", response_model=None)
    async def edit_page(request: Request, record_id: str, done: str = "") -> Response:
        caller = await auth.optional(request)
        if caller is None:
            return to_login(request)
        return view.page(request, caller, book.get(caller.principal, record_id), message=done)

    @api.post("/records/{record_id}/edit", response_model=None)
    async def save(request: Request, record_id: str) -> Response:
        caller = await auth.caller(request, csrf=False)
        fields = await editor_fields(request, caller)
        stored = book.get(caller.principal, record_id)
        try:
            book.update(caller.principal, record_id, record_of_fields(fields))
        except TerrapoleError as exc:
            return view.page(request, caller, stored, fields=fields, status=status_of(exc),
                             error=exc.message)  # fmt: skip
        return to_editor(request, record_id, "saved")

    @api.post("/records/{record_id}/act", response_model=None)
    async def act(request: Request, record_id: str) -> Response:
        caller = await auth.caller(request, csrf=False)
        fields = await editor_fields(request, caller)
        action = fields.get("action", "")
        try:
            target = _act(services, caller, record_id, action, fields)
        except TerrapoleError as exc:
            stored = book.get(caller.principal, record_id)
            found = exc.problems if isinstance(exc, IncompleteRecord) else None
            return view.page(request, caller, stored, status=status_of(exc),
                             error=exc.message, found=found)  # fmt: skip
        return to_editor(request, target, action)


def _act(
    services: WebServices, caller: Caller, record_id: str, action: str, fields: dict[str, str]
) -> str:
    """Make the workflow move ``action``; the record to show next (a new version's own id)."""
    book, who = services.records, caller.principal
    note = fields.get("note", "").strip()
    if action == "submit":
        if any(steps_root(name) in ROOTS for name in fields):  # "Save and submit"
            book.update(who, record_id, record_of_fields(fields))
        book.submit(who, record_id)
    elif action == "approve":
        book.approve(who, record_id, note)
    elif action == "request_changes":
        book.request_changes(who, record_id, note)
    elif action in ("publish", "new_version"):
        return _release(services, who, record_id, action)
    elif action == "comment":
        field = fields.get("field", "") or None
        if field is not None and field not in SECTIONS:
            raise InvalidInput("field", f"{field!r} is none of the editor's sections")
        book.comment(who, record_id, note, field=field)
    else:
        raise InvalidInput("action", f"{action!r} is none of {', '.join(ACTIONS)}")
    return record_id


def _release(services: WebServices, who: Principal, record_id: str, action: str) -> str:
    """Publish the record or start its next version; a deposit's record through its deposit,
    so that the files follow. The record to show next (a new version's own id)."""
    book = services.records
    source = book.get(who, record_id).record.extras.source
    if source is not None and source.kind is SourceKind.DEPOSIT:
        deposits = deposits_of(services)
        if action == "publish":
            return deposits.publish(who, source.id).record_id
        return deposits.new_version(who, source.id).record_id
    if action == "publish":
        return book.publish(who, record_id).id
    return book.new_version(who, record_id).id


def steps_root(name: str) -> str:
    """The top-level property a field name starts with (``creators[0].name`` → ``creators``)."""
    return name.split(".", 1)[0].split("[", 1)[0]


def _describe(services: WebServices, caller: Caller, source: str) -> StoredRecord:
    """A draft describing a platform object, ``collection:<id>`` (read as the caller may)."""
    kind, _, ident = source.partition(":")
    if kind != "collection" or not ident:
        raise InvalidInput("source", f"{source!r} is not collection:<id>")
    hidden = services.access.hidden_for(caller.principal)
    collection = services.store.get_collection(ident, hidden=hidden)
    return services.records.describe_collection(caller.principal, collection)
