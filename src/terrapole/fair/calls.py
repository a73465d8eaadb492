"""Calls for projects (appels à projets) and their applications, reviews and decisions.

A call (title, year, the project types it offers, open and close dates; no close date: open
continuously, as THEIA's call is) receives applications from accounts: a project title, the
CES it falls under, a type among the call's, a description and the resources asked. The
workflow is :mod:`terrapole.fair.call_workflow`'s table; admins assign reviewers, each
reviewer gives a score (1–5) and a comment, and admins decide. The applicant sees the state
and history of their applications (not the reviews); the committee gets a CSV of every
application of a call with its scores.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from statistics import fmean
from typing import Any

import sqlalchemy as sa

from terrapole.access.policy import Principal
from terrapole.access.tables import users
from terrapole.db import reading
from terrapole.errors import AlreadyExists, Forbidden, InvalidInput, NotFound, Unauthorized
from terrapole.fair.call_workflow import DECISIONS, EDITABLE, Role, State, check_transition
from terrapole.fair.ces import check_slug
from terrapole.fair.ces_tables import application_history, applications, calls, consortia, reviews

SCORE_MIN, SCORE_MAX = 1, 5
NOT_SENT = frozenset({State.DRAFT, State.WITHDRAWN})
"""Applications the committee does not see in its export."""
Clock = Callable[[], datetime]


class ProjectType(StrEnum):
    """The kinds of project the Data Terra hubs' calls fund (the seeds' AAP list)."""

    STORAGE = "storage"  # entrepôt: host and serve a dataset
    CAMPAIGN_SUPPORT = "campaign_support"  # support aux campagnes
    CHAIN_INDUSTRIALISATION = "chain_industrialisation"  # industrialisation de chaînes
    COMPUTING = "computing"  # ressources de calcul
    SERVICES = "services"
    DATALAB_VRE = "datalab_vre"  # DataLabs / virtual research environments


RESOURCES: Mapping[str, str] = {
    "storage_tb": "TB",
    "cpu_hours": "CPU·h",
    "gpu_hours": "GPU·h",
    "person_months": "person-months",
    "campaign_days": "days",
}
"""The resources an application may ask, with their units."""

_MAX_RESOURCE = 1e9


def check_resources(asked: Mapping[str, Any]) -> dict[str, float]:
    """The resources asked: known names, finite amounts ≥ 0 (zeros dropped)."""
    checked: dict[str, float] = {}
    for name, amount in asked.items():
        if name not in RESOURCES:
            raise InvalidInput(f"resources.{name}", f"unknown (known: {', '.join(RESOURCES)})")
        if isinstance(amount, bool) or not isinstance(amount, int | float):
            raise InvalidInput(f"resources.{name}", f"{amount!r} is not a number")
        if not 0 <= amount <= _MAX_RESOURCE:  # also refuses NaN
            raise InvalidInput(f"resources.{name}", f"{amount} is not between 0 and 1e9")
        if amount:
            checked[name] = float(amount)
    return checked


def check_score(score: object) -> int:
    """A review score: a whole number 1–5."""
    if isinstance(score, bool) or not isinstance(score, int) or not SCORE_MIN <= score <= SCORE_MAX:
        raise InvalidInput("score", f"{score!r} is not a whole number from 1 to 5")
    return score


@dataclass(frozen=True)
class Call:
    """A call for projects."""

    id: str
    title: str
    year: int
    types: tuple[ProjectType, ...]
    opens: date
    closes: date | None = None
    description: str = ""

    def is_open(self, day: date) -> bool:
        """Whether applications may be submitted on ``day``."""
        return self.opens <= day and (self.closes is None or day <= self.closes)

    def checked(self) -> Call:
        """This call with its fields verified (InvalidInput names the first bad one)."""
        check_slug(self.id, "id")
        if not self.title.strip() or len(self.title) > 300:
            raise InvalidInput("title", "required, at most 300 characters")
        if not 2000 <= self.year <= 2100:
            raise InvalidInput("year", f"{self.year} is not a year 2000–2100")
        try:
            types = tuple(dict.fromkeys(ProjectType(t) for t in self.types))
        except ValueError as exc:
            raise InvalidInput("types", f"{exc} (known: {', '.join(ProjectType)})") from None
        if not types:
            raise InvalidInput("types", "a call offers at least one project type")
        if self.closes is not None and self.closes < self.opens:
            raise InvalidInput("closes", f"{self.closes} is before the opening {self.opens}")
        return Call(self.id, self.title.strip(), self.year, types, self.opens, self.closes,
                    self.description.strip())  # fmt: skip


@dataclass(frozen=True)
class Proposal:
    """What an applicant writes: the application's fields."""

    project: str
    ces_id: str
    type: ProjectType
    description: str = ""
    resources: Mapping[str, float] | None = None

    def checked(self) -> Proposal:
        """These fields verified (the CES and the call's types are checked by the book)."""
        if not self.project.strip() or len(self.project) > 300:
            raise InvalidInput("project", "required, at most 300 characters")
        try:
            kind = ProjectType(self.type)
        except ValueError:
            raise InvalidInput(
                "type", f"{self.type!r} is none of {', '.join(ProjectType)}"
            ) from None
        if len(self.description) > 20_000:
            raise InvalidInput("description", "at most 20 000 characters")
        return Proposal(self.project.strip(), self.ces_id, kind, self.description.strip(),
                        check_resources(self.resources or {}))  # fmt: skip


@dataclass(frozen=True)
class Application:
    """An application to a call, as stored."""

    id: str
    call_id: str
    applicant: str
    project: str
    ces_id: str
    type: ProjectType
    description: str
    resources: dict[str, float]
    state: State
    created: datetime
    submitted: datetime | None


@dataclass(frozen=True)
class Review:
    """A reviewer's assignment and, once given, their score and comment."""

    application_id: str
    reviewer: str
    assigned_by: str
    assigned: datetime
    score: int | None
    comment: str
    reviewed: datetime | None


@dataclass(frozen=True)
class Step:
    """One move of an application (``start`` None: its creation)."""

    start: State | None
    finish: State
    actor: str
    role: str
    at: datetime
    note: str


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _call(row: sa.Row[Any]) -> Call:
    return Call(row.id, row.title, row.year, tuple(ProjectType(t) for t in row.types),
                row.opens, row.closes, row.description)  # fmt: skip


def _application(row: sa.Row[Any]) -> Application:
    return Application(
        id=row.id, call_id=row.call_id, applicant=row.applicant, project=row.project,
        ces_id=row.ces_id, type=ProjectType(row.type), description=row.description,
        resources=dict(row.resources), state=State(row.state), created=_utc(row.created),
        submitted=_utc(row.submitted) if row.submitted else None,
    )  # fmt: skip


def _review(row: sa.Row[Any]) -> Review:
    return Review(row.application_id, row.reviewer, row.assigned_by, _utc(row.assigned),
                  row.score, row.comment, _utc(row.reviewed) if row.reviewed else None)  # fmt: skip


def _account(principal: Principal) -> str:
    if principal.anonymous or principal.user_id is None:
        raise Unauthorized("applying to a call needs a signed-in account")
    return principal.user_id


def _admin(principal: Principal) -> None:
    if principal.anonymous:
        raise Unauthorized("this needs an admin account")
    if not principal.admin:
        raise Forbidden(f"{principal.name} is not an admin")


class CallBook:
    """Calls, applications, reviews and decisions in the project database."""

    def __init__(self, engine: sa.Engine, *, clock: Clock = lambda: datetime.now(UTC)) -> None:
        self.engine = engine
        self.clock = clock

    # -- calls ---------------------------------------------------------------------------------
    def create_call(self, principal: Principal, call: Call) -> Call:
        """Open a new call (admins)."""
        _admin(principal)
        call = call.checked()
        with self.engine.begin() as con:
            if con.execute(sa.select(calls.c.id).where(calls.c.id == call.id)).first():
                raise AlreadyExists("call", call.id)
            con.execute(calls.insert().values(
                id=call.id, title=call.title, year=call.year, types=[t.value for t in call.types],
                opens=call.opens, closes=call.closes, description=call.description,
                created=self.clock(),
            ))  # fmt: skip
        return call

    def calls(self) -> list[Call]:
        """Every call, newest opening first."""
        with reading(self.engine) as con:
            rows = con.execute(sa.select(calls).order_by(calls.c.opens.desc(), calls.c.id))
            return [_call(r) for r in rows]

    def call(self, call_id: str) -> Call:
        """One call, or NotFound."""
        with reading(self.engine) as con:
            row = con.execute(sa.select(calls).where(calls.c.id == call_id)).first()
        if row is None:
            raise NotFound("call", call_id)
        return _call(row)

    # -- applications --------------------------------------------------------------------------
    def draft(self, principal: Principal, call_id: str, proposal: Proposal) -> Application:
        """A new draft application of the caller's account to ``call_id``."""
        applicant = _account(principal)
        proposal = proposal.checked()
        call = self.call(call_id)
        now = self.clock()
        with self.engine.begin() as con:
            self._check_proposal(con, call, proposal)
            application_id = uuid.uuid4().hex
            con.execute(applications.insert().values(
                id=application_id, call_id=call.id, applicant=applicant, state=State.DRAFT.value,
                created=now, submitted=None, **self._fields(proposal),
            ))  # fmt: skip
            self._step(con, application_id, None, State.DRAFT, applicant, Role.APPLICANT, "")
        return self.get(principal, application_id)

    def edit(self, principal: Principal, application_id: str, proposal: Proposal) -> Application:
        """Change an application's fields: its applicant, in draft or needs changes."""
        applicant = _account(principal)
        proposal = proposal.checked()
        current = self.get(principal, application_id)
        if current.applicant != applicant:
            raise Forbidden(f"application {application_id}: only its applicant may change it")
        if current.state not in EDITABLE:
            raise InvalidInput("application", f"a {current.state} application cannot be changed")
        with self.engine.begin() as con:
            self._check_proposal(con, self.call(current.call_id), proposal)
            con.execute(applications.update().where(applications.c.id == application_id)
                        .values(**self._fields(proposal)))  # fmt: skip
        return self.get(principal, application_id)

    def move(
        self, principal: Principal, application_id: str, finish: State, note: str = ""
    ) -> Application:
        """Move an application to ``finish`` by the transitions table, with the move's guards:
        submission while the call is open, review once reviewers are assigned, a decision
        once a review is in. The move is kept in the history with ``note``."""
        if len(note) > 2000:
            raise InvalidInput("note", "at most 2000 characters")
        current = self.get(principal, application_id)
        roles = self._roles(principal, current)
        role = check_transition(application_id, current.state, State(finish), roles)
        now = self.clock()
        values: dict[str, Any] = {"state": State(finish).value}
        with self.engine.begin() as con:
            self._guard(con, current, State(finish), now)
            if finish is State.SUBMITTED:
                values["submitted"] = now
            done = con.execute(applications.update().where(
                applications.c.id == application_id, applications.c.state == current.state.value
            ).values(**values))  # fmt: skip
            if done.rowcount == 0:  # moved meanwhile by someone else
                raise InvalidInput("application", f"{application_id} changed meanwhile: reload it")
            actor = principal.user_id or principal.name
            self._step(con, application_id, current.state, State(finish), actor, role, note)
        return self.get(principal, application_id)

    def get(self, principal: Principal, application_id: str) -> Application:
        """An application its applicant, its reviewers and admins may read (NotFound to others,
        as for an unknown id)."""
        with reading(self.engine) as con:
            row = con.execute(
                sa.select(applications).where(applications.c.id == application_id)
            ).first()
            found = _application(row) if row is not None else None
            if found is not None and not self._may_read(con, principal, found):
                found = None
        if found is None:
            raise NotFound("application", application_id)
        return found

    def find(
        self, principal: Principal, *, call_id: str | None = None, state: State | None = None
    ) -> list[Application]:
        """The applications the caller may read, newest first: all for admins; for others
        their own and those they review."""
        if principal.anonymous:
            return []
        query = sa.select(applications).order_by(applications.c.created.desc())
        if call_id is not None:
            query = query.where(applications.c.call_id == call_id)
        if state is not None:
            query = query.where(applications.c.state == State(state).value)
        if not principal.admin:
            user = principal.user_id or ""
            reviewed = sa.select(reviews.c.application_id).where(reviews.c.reviewer == user)
            query = query.where(
                sa.or_(applications.c.applicant == user, applications.c.id.in_(reviewed))
            )
        with reading(self.engine) as con:
            return [_application(r) for r in con.execute(query)]

    def history(self, principal: Principal, application_id: str) -> list[Step]:
        """The moves of an application, oldest first (whoever may read it)."""
        self.get(principal, application_id)
        query = (sa.select(application_history)
                 .where(application_history.c.application_id == application_id)
                 .order_by(application_history.c.n))  # fmt: skip
        with reading(self.engine) as con:
            return [
                Step(State(r.start) if r.start else None, State(r.finish), r.actor, r.role,
                     _utc(r.at), r.note)
                for r in con.execute(query)
            ]  # fmt: skip

    # -- reviews -------------------------------------------------------------------------------
    def assign(self, principal: Principal, application_id: str, reviewer: str) -> Review:
        """Make the account ``reviewer`` a reviewer of a submitted or reviewed application
        (admins); never its applicant."""
        _admin(principal)
        current = self.get(principal, application_id)
        if current.state not in (State.SUBMITTED, State.UNDER_REVIEW):
            raise InvalidInput("application", f"a {current.state} application takes no reviewer")
        if reviewer == current.applicant:
            raise InvalidInput("reviewer", "the applicant cannot review their own application")
        with self.engine.begin() as con:
            if con.execute(sa.select(users.c.id).where(users.c.id == reviewer)).first() is None:
                raise InvalidInput("reviewer", f"no account {reviewer!r}")
            key = (reviews.c.application_id == application_id) & (reviews.c.reviewer == reviewer)
            if con.execute(sa.select(reviews.c.reviewer).where(key)).first():
                raise AlreadyExists("reviewer", reviewer)
            con.execute(reviews.insert().values(
                application_id=application_id, reviewer=reviewer, assigned_by=principal.name,
                assigned=self.clock(), score=None, comment="", reviewed=None,
            ))  # fmt: skip
        return next(r for r in self.reviews(principal, application_id) if r.reviewer == reviewer)

    def review(
        self, principal: Principal, application_id: str, score: int, comment: str = ""
    ) -> Review:
        """The caller's score (1–5) and comment on an application under review they were
        assigned; given again, it replaces theirs."""
        reviewer = _account(principal)
        score = check_score(score)
        if len(comment) > 20_000:
            raise InvalidInput("comment", "at most 20 000 characters")
        current = self.get(principal, application_id)
        if current.state is not State.UNDER_REVIEW:
            raise InvalidInput("application", f"a {current.state} application is not under review")
        key = (reviews.c.application_id == application_id) & (reviews.c.reviewer == reviewer)
        with self.engine.begin() as con:
            done = con.execute(reviews.update().where(key).values(
                score=score, comment=comment.strip(), reviewed=self.clock()))  # fmt: skip
            if done.rowcount == 0:
                raise Forbidden(f"application {application_id}: you are not one of its reviewers")
        with reading(self.engine) as con:
            return _review(con.execute(sa.select(reviews).where(key)).one())

    def reviews(self, principal: Principal, application_id: str) -> list[Review]:
        """The reviews of an application: all for admins, their own for a reviewer; the
        applicant gets none (Forbidden)."""
        current = self.get(principal, application_id)
        query = sa.select(reviews).where(reviews.c.application_id == application_id)
        if not principal.admin:
            if principal.user_id == current.applicant:
                raise Forbidden("the reviews of an application are for the committee")
            query = query.where(reviews.c.reviewer == principal.user_id)
        with reading(self.engine) as con:
            return [_review(r) for r in con.execute(query.order_by(reviews.c.assigned))]

    # -- the committee's export ------------------------------------------------------------------
    def export_csv(self, principal: Principal, call_id: str) -> str:
        """Every application sent to a call (drafts, never sent, and withdrawn ones, taken back
        by their applicant, are left out), one line each with its resources, its reviewers'
        scores and comments and their mean (admins)."""
        _admin(principal)
        call = self.call(call_id)
        found = sorted(
            (a for a in self.find(principal, call_id=call.id) if a.state not in NOT_SENT),
            key=lambda a: a.created,
        )
        with reading(self.engine) as con:
            rows = con.execute(sa.select(reviews).where(
                reviews.c.application_id.in_([a.id for a in found])
            ).order_by(reviews.c.assigned)).all()  # fmt: skip
            names = dict(con.execute(sa.select(users.c.id, users.c.display_name)).all())
        by_application: dict[str, list[Review]] = {}
        for row in rows:
            by_application.setdefault(row.application_id, []).append(_review(row))
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["call", "application", "project", "applicant", "ces", "type", "state",
                         "submitted", *RESOURCES, "reviewers", "scores", "mean_score",
                         "comments"])  # fmt: skip
        for a in found:
            done = sorted(  # by reviewer name: reviewers assigned in one instant keep one order
                (r for r in by_application.get(a.id, []) if r.score is not None),
                key=lambda r: names.get(r.reviewer, r.reviewer),
            )
            writer.writerow(inert_cell(cell) for cell in [
                call.id, a.id, a.project, names.get(a.applicant, a.applicant), a.ces_id,
                a.type.value, a.state.value, a.submitted.date().isoformat() if a.submitted else "",
                *(_amount(a.resources.get(name)) for name in RESOURCES),
                len(by_application.get(a.id, [])),
                "; ".join(f"{names.get(r.reviewer, r.reviewer)}={r.score}" for r in done),
                f"{fmean(r.score for r in done if r.score is not None):.2f}" if done else "",
                " | ".join(f"{names.get(r.reviewer, r.reviewer)}: {r.comment}" for r in done
                           if r.comment),
            ])  # fmt: skip
        return buffer.getvalue()

    # -- helpers -------------------------------------------------------------------------------
    def _roles(self, principal: Principal, application: Application) -> frozenset[Role]:
        held = set()
        if principal.user_id is not None and principal.user_id == application.applicant:
            held.add(Role.APPLICANT)
        if principal.admin:
            held.add(Role.ADMIN)
        return frozenset(held)

    @staticmethod
    def _may_read(con: sa.Connection, principal: Principal, application: Application) -> bool:
        if principal.admin or (principal.user_id and principal.user_id == application.applicant):
            return True
        if principal.user_id is None:
            return False
        key = (reviews.c.application_id == application.id) & (
            reviews.c.reviewer == principal.user_id
        )
        return con.execute(sa.select(reviews.c.reviewer).where(key)).first() is not None

    @staticmethod
    def _check_proposal(con: sa.Connection, call: Call, proposal: Proposal) -> None:
        if proposal.type not in call.types:
            offered = ", ".join(call.types)
            raise InvalidInput("type", f"call {call.id!r} offers {offered}, not {proposal.type}")
        known = sa.select(consortia.c.id).where(consortia.c.id == proposal.ces_id)
        if con.execute(known).first() is None:
            raise InvalidInput("ces_id", f"no CES {proposal.ces_id!r}")

    @staticmethod
    def _fields(proposal: Proposal) -> dict[str, Any]:
        return {
            "project": proposal.project, "ces_id": proposal.ces_id, "type": proposal.type.value,
            "description": proposal.description, "resources": dict(proposal.resources or {}),
        }  # fmt: skip

    def _guard(
        self, con: sa.Connection, application: Application, finish: State, now: datetime
    ) -> None:
        """The conditions a move needs beyond the table's roles."""
        mine = reviews.c.application_id == application.id
        if finish is State.SUBMITTED:
            call = _call(
                con.execute(sa.select(calls).where(calls.c.id == application.call_id)).one()
            )
            if not call.is_open(now.date()):
                raise InvalidInput("call", f"call {call.id!r} is not open on {now.date()}")
        elif finish is State.UNDER_REVIEW:
            if not con.execute(sa.select(sa.func.count()).where(mine)).scalar_one():
                raise InvalidInput("reviewers", "assign at least one reviewer first")
        elif finish in DECISIONS and application.state is State.UNDER_REVIEW:
            scored = sa.select(sa.func.count()).where(mine, reviews.c.score.is_not(None))
            if not con.execute(scored).scalar_one():
                raise InvalidInput("reviews", "no reviewer has given a score yet")

    def _step(
        self, con: sa.Connection, application_id: str, start: State | None, finish: State,
        actor: str, role: str, note: str,
    ) -> None:  # fmt: skip
        con.execute(application_history.insert().values(
            application_id=application_id, start=start.value if start else None,
            finish=finish.value, actor=actor, role=str(role), at=self.clock(), note=note,
        ))  # fmt: skip


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula."""


def inert_cell(value: object) -> str:
    """``value`` as a CSV cell a spreadsheet shows as text: a leading ``'`` when it starts
    like a formula (an applicant's project named ``=HYPERLINK(...)`` stays words).

    >>> inert_cell("=1+1"), inert_cell("Urban heat")
    ("'=1+1", 'Urban heat')
    """
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def _amount(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if value.is_integer() else str(value)
