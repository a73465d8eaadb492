"""Calls for projects: the application workflow (each move by the right role only, with its
guards), reviews and scores, what the applicant sees, and the committee's CSV export; on SQLite
and PostgreSQL."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from terrapole.access.policy import ANONYMOUS
from terrapole.errors import AlreadyExists, Forbidden, InvalidInput, NotFound, Unauthorized
from terrapole.fair.call_workflow import (
    TERMINAL,
    TRANSITIONS,
    InvalidApplicationTransition,
    Role,
    State,
    check_transition,
)
from terrapole.fair.calls import Call, CallBook, ProjectType, Proposal, check_resources
from terrapole.fair.ces import CesDirectory, Consortium

from .ces_fixtures import People, migrated, people

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = migrated(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def who(engine: sa.Engine) -> People:
    found = people(engine)
    CesDirectory(engine).create(found.curator, Consortium(id="occupation-terres",
                                                          name="CES Occupation des terres"))  # fmt: skip
    return found


@pytest.fixture
def book(engine: sa.Engine, who: People) -> CallBook:
    book = CallBook(engine, clock=lambda: NOW)
    book.create_call(who.admin, Call(
        id="aap-2026", title="Appel à projets THEIA 2026", year=2026,
        types=(ProjectType.STORAGE, ProjectType.COMPUTING, ProjectType.DATALAB_VRE),
        opens=date(2026, 1, 1),
    ))  # fmt: skip
    return book


def _proposal(**changed: object) -> Proposal:
    fields: dict[str, object] = {
        "project": "Urban heat islands of Toulouse", "ces_id": "occupation-terres",
        "type": ProjectType.COMPUTING, "description": "Land surface temperature time series.",
        "resources": {"cpu_hours": 20000, "storage_tb": 1.5, "gpu_hours": 0},
    }  # fmt: skip
    return Proposal(**{**fields, **changed})  # type: ignore[arg-type]


def _under_review(book: CallBook, who: People) -> str:
    draft = book.draft(who.applicant, "aap-2026", _proposal())
    book.move(who.applicant, draft.id, State.SUBMITTED)
    book.assign(who.admin, draft.id, who.reviewer.user_id or "")
    book.move(who.admin, draft.id, State.UNDER_REVIEW)
    return draft.id


# -- the table alone (sans I/O) -------------------------------------------------------------------
def test_terminal_states_have_no_way_out_and_every_state_has_a_row() -> None:
    assert set(TRANSITIONS) == set(State)
    assert all(TRANSITIONS[state] == {} for state in TERMINAL)


def test_the_table_names_the_role_of_each_move() -> None:
    assert (
        check_transition("a", State.DRAFT, State.SUBMITTED, frozenset({Role.APPLICANT}))
        is Role.APPLICANT
    )
    assert check_transition("a", State.UNDER_REVIEW, State.ACCEPTED, frozenset(Role)) is Role.ADMIN
    with pytest.raises(Forbidden):
        check_transition("a", State.UNDER_REVIEW, State.ACCEPTED, frozenset({Role.APPLICANT}))
    with pytest.raises(InvalidApplicationTransition) as caught:
        check_transition("a", State.DRAFT, State.ACCEPTED, frozenset(Role))
    assert (caught.value.start, caught.value.finish) == (State.DRAFT, State.ACCEPTED)


# -- the workflow on a database ------------------------------------------------------------------
def test_an_application_goes_from_draft_to_accepted(book: CallBook, who: People) -> None:
    draft = book.draft(who.applicant, "aap-2026", _proposal())
    assert draft.state is State.DRAFT and draft.submitted is None
    assert draft.resources == {"cpu_hours": 20000.0, "storage_tb": 1.5}  # zero dropped
    submitted = book.move(who.applicant, draft.id, State.SUBMITTED, "please consider")
    assert submitted.state is State.SUBMITTED and submitted.submitted == NOW
    book.assign(who.admin, draft.id, who.reviewer.user_id or "")
    book.assign(who.admin, draft.id, who.second_reviewer.user_id or "")
    book.move(who.admin, draft.id, State.UNDER_REVIEW)
    book.review(who.reviewer, draft.id, 4, "Sound and feasible.")
    book.review(who.second_reviewer, draft.id, 5, "Excellent.")
    accepted = book.move(who.admin, draft.id, State.ACCEPTED, "funded")
    assert accepted.state is State.ACCEPTED
    steps = [(s.start, s.finish, s.role) for s in book.history(who.applicant, draft.id)]
    assert steps == [
        (None, State.DRAFT, "applicant"),
        (State.DRAFT, State.SUBMITTED, "applicant"),
        (State.SUBMITTED, State.UNDER_REVIEW, "admin"),
        (State.UNDER_REVIEW, State.ACCEPTED, "admin"),
    ]
    assert book.history(who.applicant, draft.id)[-1].note == "funded"
    with pytest.raises(InvalidApplicationTransition):
        book.move(who.applicant, draft.id, State.WITHDRAWN)  # accepted is terminal


def test_each_move_is_made_by_its_role_only(book: CallBook, who: People) -> None:
    draft = book.draft(who.applicant, "aap-2026", _proposal())
    with pytest.raises(Forbidden):
        book.move(who.admin, draft.id, State.SUBMITTED)  # only the applicant submits
    book.move(who.applicant, draft.id, State.SUBMITTED)
    book.assign(who.admin, draft.id, who.reviewer.user_id or "")
    with pytest.raises(Forbidden):
        book.move(who.applicant, draft.id, State.UNDER_REVIEW)
    with pytest.raises(Forbidden):
        book.move(who.reviewer, draft.id, State.UNDER_REVIEW)  # a reviewer does not decide
    with pytest.raises(NotFound):
        book.move(who.stranger, draft.id, State.UNDER_REVIEW)  # hidden from strangers
    with pytest.raises(Forbidden):
        book.assign(who.applicant, draft.id, who.second_reviewer.user_id or "")
    assert book.get(who.applicant, draft.id).state is State.SUBMITTED


def test_the_moves_guards_refuse_with_the_reason(book: CallBook, who: People) -> None:
    draft = book.draft(who.applicant, "aap-2026", _proposal())
    book.move(who.applicant, draft.id, State.SUBMITTED)
    with pytest.raises(InvalidInput) as caught:
        book.move(who.admin, draft.id, State.UNDER_REVIEW)
    assert caught.value.field == "reviewers"
    with pytest.raises(InvalidInput) as caught:
        book.assign(who.admin, draft.id, who.applicant.user_id or "")
    assert caught.value.field == "reviewer"
    with pytest.raises(InvalidInput):
        book.assign(who.admin, draft.id, "no-such-account")
    book.assign(who.admin, draft.id, who.reviewer.user_id or "")
    with pytest.raises(AlreadyExists):
        book.assign(who.admin, draft.id, who.reviewer.user_id or "")
    book.move(who.admin, draft.id, State.UNDER_REVIEW)
    with pytest.raises(InvalidInput) as caught:
        book.move(who.admin, draft.id, State.ACCEPTED)
    assert caught.value.field == "reviews"


def test_needs_changes_sends_it_back_to_the_applicant(book: CallBook, who: People) -> None:
    app_id = _under_review(book, who)
    with pytest.raises(InvalidInput):
        book.edit(who.applicant, app_id, _proposal(project="changed while under review"))
    book.review(who.reviewer, app_id, 2, "Ask fewer CPU hours.")
    book.move(who.admin, app_id, State.NEEDS_CHANGES, "reduce the CPU hours")
    edited = book.edit(who.applicant, app_id, _proposal(resources={"cpu_hours": 5000}))
    assert edited.resources == {"cpu_hours": 5000.0}
    assert book.move(who.applicant, app_id, State.SUBMITTED).state is State.SUBMITTED


def test_submission_needs_the_call_open(engine: sa.Engine, who: People) -> None:
    book = CallBook(engine, clock=lambda: NOW)
    book.create_call(who.admin, Call(id="aap-2025", title="AAP 2025", year=2025,
                                     types=(ProjectType.STORAGE,), opens=date(2025, 1, 1),
                                     closes=date(2025, 12, 31)))  # fmt: skip
    draft = book.draft(who.applicant, "aap-2025", _proposal(type=ProjectType.STORAGE))
    with pytest.raises(InvalidInput) as caught:
        book.move(who.applicant, draft.id, State.SUBMITTED)
    assert caught.value.field == "call" and "not open" in caught.value.reason
    assert book.get(who.applicant, draft.id).state is State.DRAFT


def test_reviews_are_for_assigned_reviewers_and_the_committee(book: CallBook, who: People) -> None:
    app_id = _under_review(book, who)
    with pytest.raises(NotFound):
        book.review(who.second_reviewer, app_id, 3)  # not assigned: cannot even read it
    for bad in (0, 6, 4.5, True):
        with pytest.raises(InvalidInput):
            book.review(who.reviewer, app_id, bad)  # type: ignore[arg-type]
    book.review(who.reviewer, app_id, 3, "first")
    book.review(who.reviewer, app_id, 4, "second thoughts")  # replaces the first
    assert [(r.score, r.comment) for r in book.reviews(who.admin, app_id)] == [
        (4, "second thoughts")
    ]
    assert [r.reviewer for r in book.reviews(who.reviewer, app_id)] == [who.reviewer.user_id]
    with pytest.raises(Forbidden):
        book.reviews(who.applicant, app_id)  # the applicant sees the state, not the reviews


def test_the_applicant_sees_their_own_applications_only(book: CallBook, who: People) -> None:
    mine = book.draft(who.applicant, "aap-2026", _proposal())
    theirs = book.draft(who.stranger, "aap-2026", _proposal(project="Another project"))
    assert [a.id for a in book.find(who.applicant)] == [mine.id]
    assert {a.id for a in book.find(who.admin)} == {mine.id, theirs.id}
    assert book.find(ANONYMOUS) == []
    with pytest.raises(NotFound):
        book.get(who.applicant, theirs.id)
    with pytest.raises(Unauthorized):
        book.draft(ANONYMOUS, "aap-2026", _proposal())


def test_bad_proposals_are_named(book: CallBook, who: People) -> None:
    cases = [
        (_proposal(project=" "), "project"),
        (_proposal(type="tasking"), "type"),
        (_proposal(type=ProjectType.CAMPAIGN_SUPPORT), "type"),  # not offered by this call
        (_proposal(ces_id="nowhere"), "ces_id"),
        (_proposal(resources={"cpu_hours": -1}), "resources.cpu_hours"),
        (_proposal(resources={"bitcoins": 1}), "resources.bitcoins"),
        (_proposal(resources={"storage_tb": "lots"}), "resources.storage_tb"),
        (_proposal(resources={"gpu_hours": float("nan")}), "resources.gpu_hours"),
    ]
    for proposal, field in cases:
        with pytest.raises(InvalidInput) as caught:
            book.draft(who.applicant, "aap-2026", proposal)
        assert caught.value.field == field
    assert book.find(who.admin) == []
    with pytest.raises(NotFound):
        book.draft(who.applicant, "no-such-call", _proposal())


def test_bad_calls_are_named_and_only_admins_open_them(book: CallBook, who: People) -> None:
    good = Call(
        id="aap-x", title="X", year=2026, types=(ProjectType.SERVICES,), opens=date(2026, 1, 1)
    )
    for changed, field in (({"types": ()}, "types"), ({"types": ("lunch",)}, "types"),
                           ({"closes": date(2025, 1, 1)}, "closes"), ({"year": 1900}, "year"),
                           ({"id": "A B"}, "id")):  # fmt: skip
        with pytest.raises(InvalidInput) as caught:
            book.create_call(who.admin, Call(**{**good.__dict__, **changed}))
        assert caught.value.field == field
    with pytest.raises(Forbidden):
        book.create_call(who.curator, good)
    with pytest.raises(AlreadyExists):
        book.create_call(who.admin, Call(**{**good.__dict__, "id": "aap-2026"}))


def test_check_resources_keeps_known_positive_amounts() -> None:
    assert check_resources({"person_months": 6, "campaign_days": 0}) == {"person_months": 6.0}


def test_the_committee_csv_has_one_line_per_application_with_its_scores(
    book: CallBook, who: People
) -> None:
    reviewed = _under_review(book, who)
    book.assign(who.admin, reviewed, who.second_reviewer.user_id or "")
    book.review(who.reviewer, reviewed, 4, "Sound, feasible")
    book.review(who.second_reviewer, reviewed, 5, "Excellent\non two lines")
    book.draft(who.stranger, "aap-2026", _proposal(project="A draft", type=ProjectType.STORAGE))
    taken_back = book.draft(who.applicant, "aap-2026", _proposal(project="Taken back"))
    book.move(who.applicant, taken_back.id, State.SUBMITTED)
    book.move(who.applicant, taken_back.id, State.WITHDRAWN)
    sent = book.draft(who.stranger, "aap-2026", _proposal(project="Sent",
                                                           type=ProjectType.STORAGE))  # fmt: skip
    book.move(who.stranger, sent.id, State.SUBMITTED)
    text = book.export_csv(who.admin, "aap-2026")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["project"] for r in rows] == ["Urban heat islands of Toulouse", "Sent"]
    first, second = rows
    assert first["application"] == reviewed and first["project"] == "Urban heat islands of Toulouse"
    assert first["applicant"] == "Ana Applicant" and first["state"] == "under_review"
    assert (first["cpu_hours"], first["storage_tb"], first["gpu_hours"]) == ("20000", "1.5", "")
    assert first["reviewers"] == "2"
    assert first["scores"] == "Rui Reviewer=4; Sam Second=5"
    assert first["mean_score"] == "4.50"
    assert "Excellent\non two lines" in first["comments"]
    assert (second["state"], second["type"], second["scores"], second["mean_score"]) == (
        "submitted", "storage", "", "")  # fmt: skip
    with pytest.raises(Forbidden):
        book.export_csv(who.reviewer, "aap-2026")


def test_the_committee_csv_keeps_formulas_as_text(book: CallBook, who: People) -> None:
    reviewed = _under_review(book, who)
    book.review(who.reviewer, reviewed, 3, "-1+1 would be my mean")
    formula = book.draft(who.stranger, "aap-2026", _proposal(
        project='=HYPERLINK("http://evil.example/x","open")', type=ProjectType.STORAGE))  # fmt: skip
    book.move(who.stranger, formula.id, State.SUBMITTED)
    plus = book.draft(who.stranger, "aap-2026", _proposal(project="+SUM(A1:A9)"))
    book.move(who.stranger, plus.id, State.SUBMITTED)
    at = book.draft(who.stranger, "aap-2026", _proposal(project="@cmd"))
    book.move(who.stranger, at.id, State.SUBMITTED)
    rows = list(csv.DictReader(io.StringIO(book.export_csv(who.admin, "aap-2026"))))
    projects = {r["application"]: r["project"] for r in rows}
    assert projects[formula.id] == '\'=HYPERLINK("http://evil.example/x","open")'
    assert projects[plus.id] == "'+SUM(A1:A9)" and projects[at.id] == "'@cmd"
    assert projects[reviewed] == "Urban heat islands of Toulouse"  # words stay as they are
    first = next(r for r in rows if r["application"] == reviewed)
    assert first["comments"] == "Rui Reviewer: -1+1 would be my mean"  # not at the cell's start
    assert all(not cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r.values())
