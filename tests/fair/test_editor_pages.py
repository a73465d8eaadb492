"""The FAIRisation editor: the form (mandatory fields marked, DataCite paths as names, the
round trip of a record through it), the live check endpoint (a bad ORCID named by its field,
the FAIR checklist), CSRF on every post, curator-only review, French; and the whole flow in
Chromium (draft with a keyword picked from the INSPIRE thesaurus → submit → curator comments
and approves → publish → landing page → new version → v1 names a newer version)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page

from terrapole.app import create_app
from terrapole.config import Settings
from terrapole.fair.checks import spdx_id
from terrapole.fair.record_workflow import RecordState
from terrapole.fair.thesauri import Thesauri
from terrapole.web.record_form import (
    COMMON_LICENCES,
    fields_of_record,
    json_of_fields,
    record_of_fields,
)

from ..conftest import needs_chromium
from ..stac_api.live import serve
from .records_fixtures import complete_record

PASSWORD = "a long passphrase 42"
THESAURI = Path(__file__).resolve().parents[1] / "data" / "thesauri"
SHOTS: str | None = None  # set to a folder to keep the screenshots when looking at the pages
BAD_ORCID = "0000-0002-1825-0098"  # Josiah Carberry's iD with a wrong checksum digit


@pytest.fixture
def app(tmp_path: Path) -> Any:
    built = create_app(Settings(data_dir=tmp_path))
    accounts = built.state.services.accounts
    accounts.create_verified("ana@lab.fr", PASSWORD, "Ana")
    accounts.create_verified("cur@hub.fr", PASSWORD, "Cleo", roles=frozenset({"curator"}))
    return built


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def _logged_in(app: Any, email: str) -> TestClient:
    client = TestClient(app)
    token = _csrf(client.get("/login").text)
    done = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert done.status_code == 200 and "tp_session" in client.cookies
    return client


def _principal(app: Any, email: str) -> Any:
    services = app.state.services
    return services.access.principal_of_user(services.accounts.by_email(email).id)


# -- the form ↔ the record --------------------------------------------------------------------
def test_a_record_goes_through_the_form_unchanged() -> None:
    record = replace(complete_record(), sizes=("12 GiB",), formats=("image/tiff",), version="2")
    fields = fields_of_record(record)
    assert fields["creators[0].nameIdentifiers[0].nameIdentifier"].endswith("1825-0097")
    assert record_of_fields({**fields, "csrf_token": "x", "action": "submit"}) == record


def test_empty_rows_and_lone_schemes_are_dropped_and_the_box_is_the_spatial_extent() -> None:
    data = json_of_fields({
        "titles[0].title": " Snow ", "titles[1].title": "", "titles[1].lang": "fr",
        "creators[0].name": "Ana", "creators[0].nameIdentifiers[0].nameIdentifier": "",
        "creators[0].nameIdentifiers[0].nameIdentifierScheme": "ORCID",
        "rightsList[0].rightsIdentifier": "", "rightsList[0].rightsIdentifierScheme": "SPDX",
        "rightsList[0].schemeUri": "https://spdx.org/licenses/",
        "geoLocations[0].geoLocationBox.westBoundLongitude": "-2",
        "geoLocations[0].geoLocationBox.southBoundLatitude": "42,5",
        "geoLocations[0].geoLocationBox.eastBoundLongitude": "3.5",
        "geoLocations[0].geoLocationBox.northBoundLatitude": "43.5",
    })  # fmt: skip
    assert data["titles"] == [{"title": "Snow"}]
    assert data["creators"] == [{"name": "Ana"}]
    assert "rightsList" not in data
    assert data["extras"]["spatialExtent"] == [-2.0, 42.5, 3.5, 43.5]


def test_a_malformed_field_is_named() -> None:
    with pytest.raises(Exception, match=r"geoLocations\[0\].geoLocationBox.westBoundLongitude"):
        record_of_fields({"geoLocations[0].geoLocationBox.westBoundLongitude": "west"})
    with pytest.raises(Exception, match="creators.0..nickname"):
        record_of_fields({"creators[0].nickname": "Jo"})


def test_the_licences_offered_are_spdx_ids() -> None:
    assert all(spdx_id(licence) for licence in COMMON_LICENCES)


# -- the check endpoint -----------------------------------------------------------------------
def test_the_check_names_a_bad_orcid_by_its_field_and_scores_the_checklist(app: Any) -> None:
    with TestClient(app) as client:
        form = {**fields_of_record(complete_record()),
                "creators[0].nameIdentifiers[0].nameIdentifier": BAD_ORCID}  # fmt: skip
        answer = client.post("/records/check", data=form)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["complete"] is False
        assert [p["field"] for p in body["problems"]] == [
            "creators[0].nameIdentifiers[0].nameIdentifier"
        ]
        assert "not a valid ORCID" in body["problems"][0]["message"]
        good = client.post("/records/check", json=complete_record().to_json()).json()
        assert good["problems"] == [] and good["complete"] is True
        assert good["total"] == 13 and good["met"] >= 6
        empty = client.post("/records/check", json={}).json()
        assert empty["met"] < good["met"]
        assert {"titles", "creators", "publisher"} <= {p["field"] for p in empty["problems"]}
        typed = client.post("/records/check", data={"extras.spatialExtent[0]": "x"}).json()
        assert typed["problems"][0]["field"] == "extras.spatialExtent[0]"
        assert (
            client.post(
                "/records/check", content=b"{nope", headers={"content-type": "application/json"}
            ).status_code
            == 400
        )


# -- the pages --------------------------------------------------------------------------------
def test_the_editor_marks_mandatory_fields_and_needs_a_session(app: Any) -> None:
    with TestClient(app) as visitor:
        away = visitor.get("/records/new", follow_redirects=False)
        assert away.status_code == 303 and "/login?next=/records/new" in away.headers["location"]
    page = _logged_in(app, "ana@lab.fr").get("/records/new")
    assert page.status_code == 200
    for name in ("titles[0].title", "creators[0].name", "publisher.name", "publicationYear",
                 "descriptions[0].description", "rightsList[0].rightsIdentifier"):  # fmt: skip
        marked = re.search(
            rf'<label class="fld[^"]* req[^"]*">\s*<span class="lbl">[^<]+<abbr class="star"[^>]*>\*</abbr>'
            rf'</span>\s*<(input|textarea)[^>]* name="{re.escape(name)}"',
            page.text,
        )
        assert marked, f"{name} is not marked mandatory"
    assert 'id="fair-checklist"' in page.text and 'id="keyword-q"' in page.text
    assert 'name="types.resourceTypeGeneral"' in page.text and ">Dataset</option>" in page.text


def test_saving_a_bad_orcid_keeps_the_draft_and_shows_the_problem_beside_it(app: Any) -> None:
    client = _logged_in(app, "ana@lab.fr")
    csrf = _csrf(client.get("/records/new").text)
    made = client.post("/records/new", data={
        "csrf_token": csrf, "titles[0].title": "Snow", "creators[0].name": "Carberry, Josiah",
        "creators[0].nameIdentifiers[0].nameIdentifier": BAD_ORCID,
        "creators[0].nameIdentifiers[0].nameIdentifierScheme": "ORCID",
    }, follow_redirects=False)  # fmt: skip
    assert made.status_code == 303, made.text
    page = client.get(made.headers["location"])
    spot = re.search(
        r'data-for="creators\[0\]\.nameIdentifiers\[0\]\.nameIdentifier" role="status">([^<]*)<',
        page.text,
    )
    assert spot and "not a valid ORCID" in spot.group(1)
    record_id = made.headers["location"].split("/")[-2]
    refused = client.post(
        f"/records/{record_id}/act", data={"csrf_token": csrf, "action": "submit"}
    )
    assert refused.status_code == 400 and "not a valid ORCID" in refused.text
    stored = app.state.services.records.get(_principal(app, "ana@lab.fr"), record_id)
    assert stored.state is RecordState.DRAFT and stored.record.title == "Snow"


def test_every_post_needs_the_sessions_csrf_token(app: Any) -> None:
    client = _logged_in(app, "ana@lab.fr")
    book = app.state.services.records
    ana = _principal(app, "ana@lab.fr")
    forged = client.post("/records/new", data={"titles[0].title": "Forged"})
    assert forged.status_code == 403 and "CSRF" in forged.text
    assert book.find(ana, owner=f"user:{ana.user_id}") == []
    draft = book.create(ana, complete_record())
    for path, fields in ((f"/records/{draft.id}/edit", {"titles[0].title": "Changed"}),
                         (f"/records/{draft.id}/act", {"action": "submit"})):  # fmt: skip
        refused = client.post(path, data={**fields, "csrf_token": "not the token"})
        assert refused.status_code == 403, path
    kept = book.get(ana, draft.id)
    assert kept.state is RecordState.DRAFT and kept.record == draft.record


def test_only_curators_review(app: Any) -> None:
    book = app.state.services.records
    ana, cur = _principal(app, "ana@lab.fr"), _principal(app, "cur@hub.fr")
    draft = book.create(ana, complete_record())
    book.submit(ana, draft.id)
    owner = _logged_in(app, "ana@lab.fr")
    denied = owner.get("/records/review")
    assert denied.status_code == 403 and "Only curators" in denied.text
    csrf = _csrf(owner.get(f"/records/{draft.id}/edit").text)
    approve = owner.post(f"/records/{draft.id}/act", data={"csrf_token": csrf, "action": "approve"})
    assert approve.status_code == 403
    assert book.get(ana, draft.id).state is RecordState.SUBMITTED
    curator = _logged_in(app, "cur@hub.fr")
    listed = curator.get("/records/review")
    assert listed.status_code == 200 and f'data-id="{draft.id}"' in listed.text
    csrf = _csrf(curator.get(f"/records/{draft.id}/edit").text)
    said = curator.post(f"/records/{draft.id}/act", data={
        "csrf_token": csrf, "action": "comment", "field": "titles", "note": "Say where.",
    }, follow_redirects=False)  # fmt: skip
    assert said.status_code == 303
    bad = curator.post(f"/records/{draft.id}/act", data={
        "csrf_token": csrf, "action": "comment", "field": "nowhere", "note": "x"})  # fmt: skip
    assert bad.status_code == 400 and "nowhere" in bad.text
    done = curator.post(f"/records/{draft.id}/act", data={"csrf_token": csrf, "action": "approve"})
    assert done.status_code == 200 and book.get(cur, draft.id).state is RecordState.APPROVED
    seen = owner.get(f"/records/{draft.id}/edit").text
    assert "Say where." in seen and 'class="field-comment"' in seen


def test_the_editor_speaks_french(app: Any) -> None:
    client = _logged_in(app, "ana@lab.fr")
    client.cookies.set("lang", "fr")
    page = client.get("/records/new").text
    assert "Décrire un jeu de données" in page and "Grille FAIR" in page and "Mots-clés" in page


def test_a_record_starts_from_a_collection(app: Any) -> None:
    store = app.state.services.store
    store.create_collection({
        "type": "Collection", "stac_version": "1.0.0", "id": "snow", "title": "Snow cover",
        "description": "Daily snow maps.", "license": "CC-BY-4.0", "links": [],
        "extent": {"spatial": {"bbox": [[-2, 42, 3.5, 43.5]]},
                   "temporal": {"interval": [["2018-01-01T00:00:00Z", None]]}},
    })  # fmt: skip
    client = _logged_in(app, "ana@lab.fr")
    page = client.get("/records/new?source=collection:snow")
    made = client.post("/records/new", data={"csrf_token": _csrf(page.text),
                                             "source": "collection:snow"},
                       follow_redirects=False)  # fmt: skip
    assert made.status_code == 303, made.text
    editor = client.get(made.headers["location"]).text
    assert 'value="Snow cover"' in editor and 'value="-2"' in editor


# -- the whole flow in a browser --------------------------------------------------------------
@pytest.fixture
def live(app: Any) -> Iterator[tuple[Any, str]]:
    thesauri = Thesauri(app.state.services.access.engine)
    thesauri.import_file(THESAURI / "inspire-theme.en.rdf")
    thesauri.import_file(THESAURI / "mmd-vocabulary.ttl")
    with serve(app) as url:
        yield app, url


def _log_in(page: Page, url: str, email: str) -> None:
    page.goto(f"{url}/login?next=/records/mine")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button")
    page.wait_for_url("**/records/mine")


def _score(page: Page) -> int:
    return int(page.inner_text("#fair-score"))


@needs_chromium
def test_draft_review_publish_and_new_version_in_a_browser(
    browser: Browser, live: tuple[Any, str], tmp_path: Path
) -> None:
    app, url = live
    shots = Path(SHOTS) if SHOTS else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    ana = browser.new_context(viewport={"width": 1360, "height": 1000}).new_page()
    _log_in(ana, url, "ana@lab.fr")
    ana.click("#new-record")
    ana.wait_for_url("**/records/new")
    ana.wait_for_function("() => document.querySelectorAll('#problems li').length > 0")
    before = _score(ana)
    ana.fill("input[name='titles[0].title']", "Snow cover of the Pyrenees, 2018-2023")
    ana.wait_for_function("() => !document.querySelector('#problems [data-field=titles]')")
    ana.fill("input[name='creators[0].name']", "Carberry, Josiah")
    ana.fill("input[name='creators[0].nameIdentifiers[0].nameIdentifier']", BAD_ORCID)
    orcid_problem = "[data-for='creators[0].nameIdentifiers[0].nameIdentifier']"
    ana.wait_for_function(
        f"() => document.querySelector(\"{orcid_problem}\").textContent.includes('ORCID')"
    )
    ana.fill("input[name='creators[0].nameIdentifiers[0].nameIdentifier']",
             "https://orcid.org/0000-0002-1825-0097")  # fmt: skip
    ana.wait_for_function(f"() => document.querySelector(\"{orcid_problem}\").textContent === ''")
    ana.fill("input[name='publisher.name']", "Theia")
    ana.fill("input[name='publicationYear']", "2024")
    ana.fill("textarea[name='descriptions[0].description']", "Daily snow cover maps.")
    ana.fill("input[name='rightsList[0].rightsIdentifier']", "CC-BY-4.0")
    ana.wait_for_function("() => document.getElementById('no-problem').hidden === false")
    typed = _score(ana)
    # a keyword from the INSPIRE thesaurus, through the autocomplete
    ana.select_option("#keyword-picker .picker-scheme", "http://inspire.ec.europa.eu/theme")
    ana.fill("#keyword-q", "land cov")
    ana.wait_for_selector("#keyword-picker .suggestions li")
    assert "Land cover" in ana.inner_text("#keyword-picker .suggestions li >> nth=0")
    ana.click("#keyword-picker .suggestions li >> nth=0")
    assert "Land cover" in ana.inner_text("#keywords")
    ana.wait_for_function(
        f"() => Number(document.getElementById('fair-score').textContent) > {typed}"
    )
    assert before < typed < _score(ana)
    assert ana.screenshot(path=str(shots / "editor.png"), full_page=True)
    ana.click("#save")
    ana.wait_for_url("**/records/*/edit?done=saved")
    record_id = ana.url.split("/records/")[1].split("/")[0]
    stored = app.state.services.records.get(_principal(app, "ana@lab.fr"), record_id)
    (keyword,) = stored.record.subjects
    assert keyword.value_uri == "http://inspire.ec.europa.eu/theme/lc"
    assert keyword.scheme_uri == "http://inspire.ec.europa.eu/theme"
    ana.click("#submit-record")
    ana.wait_for_url("**/edit?done=submit")
    assert ana.inner_text("#record-state") == "submitted"

    cleo = browser.new_context(viewport={"width": 1360, "height": 1000}).new_page()
    _log_in(cleo, url, "cur@hub.fr")
    cleo.goto(f"{url}/records/review")
    cleo.click(f"#records tr[data-id='{record_id}'] a")
    cleo.wait_for_url(f"**/records/{record_id}/edit")
    cleo.select_option("#comment-form select[name=field]", "titles")
    cleo.fill("#comment-form textarea[name=note]", "A clear title, thank you.")
    cleo.click("#comment-form button")
    cleo.wait_for_url("**/edit?done=comment")
    cleo.click("#approve-form button")
    cleo.wait_for_url("**/edit?done=approve")
    assert cleo.inner_text("#record-state") == "approved"

    ana.reload()
    assert "A clear title, thank you." in ana.inner_text("#sec-titles")
    ana.click("#publish-form button")
    ana.wait_for_url("**/edit?done=publish")
    assert ana.inner_text("#record-state") == "published"
    ana.click("#landing-link")
    ana.wait_for_url(f"**/records/{record_id}")
    assert "Snow cover of the Pyrenees" in ana.inner_text("h1")

    ana.goto(f"{url}/records/{record_id}/edit")
    ana.click("#version-form button")
    ana.wait_for_url("**/edit?done=new_version")
    v2 = ana.url.split("/records/")[1].split("/")[0]
    assert v2 != record_id and ana.input_value("input[name=version]") == "2"
    ana.fill("input[name='titles[0].title']", "Snow cover of the Pyrenees, 2018-2024")
    ana.click("#submit-record")  # saves what was typed, then submits
    ana.wait_for_url("**/edit?done=submit")
    saved = app.state.services.records.get(_principal(app, "ana@lab.fr"), v2)
    assert saved.record.title.endswith("2018-2024") and saved.state is RecordState.SUBMITTED
    cleo.goto(f"{url}/records/{v2}/edit")
    cleo.click("#approve-form button")
    cleo.wait_for_url("**/edit?done=approve")
    ana.reload()
    ana.click("#publish-form button")
    ana.wait_for_url("**/edit?done=publish")
    ana.goto(f"{url}/records/{record_id}")
    versions = ana.locator("#versions li")
    assert versions.count() == 2
    assert v2 in (ana.get_attribute("#versions li.newest a", "href") or "")
    ana.goto(f"{url}/records/{record_id}/edit")
    assert "A newer version exists" in ana.inner_text("#newer-version")
