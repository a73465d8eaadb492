"""The "Which access for my profile?" page: the offer of two profiles over real collections."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from terrapole.app import create_app
from terrapole.config import Settings

from ..conftest import s2_collection


@pytest.fixture
def app(tmp_path: Path) -> Any:
    app = create_app(Settings(data_dir=tmp_path))
    services = app.state.services
    services.store.create_collection(s2_collection())
    pleiades = {**s2_collection(), "id": "pleiades", "title": "Pléiades archive"}
    services.store.create_collection(pleiades)
    admin = services.accounts.create_verified(
        "admin@hub.fr", "an operator phrase 2026", "Admin", roles=frozenset({"admin"})
    )
    services.licences.create(admin, "dinamis", "DINAMIS licence", "Licence DINAMIS v1.")
    services.licences.set_terms(
        admin, "pleiades", licence_ids=["dinamis"], profiles=["french-scientist"]
    )
    return app


def _row(html: str, attr: str, key: str) -> str:
    found = re.search(rf'<tr {attr}="{re.escape(key)}">(.*?)</tr>', html, re.S)
    assert found, f"no row {key}"
    return re.sub(r"\s+", " ", found.group(1))


def test_a_french_scientist_sees_pleiades_with_its_licence_and_5500_km2(app: Any) -> None:
    with TestClient(app) as client:
        page = client.get("/access", params={"profile": "french-scientist"})
    assert page.status_code == 200
    html = page.text
    assert '<option value="french-scientist" selected>' in html
    pleiades = _row(html, "data-collection", "pleiades")
    assert "Pléiades archive" in pleiades and "<td>yes</td>" in pleiades and "dinamis" in pleiades
    assert "open to all" in _row(html, "data-collection", "sentinel-2-l2a")
    quota = _row(html, "data-family", "pleiades")
    assert "<td>5 500</td>" in quota and "1 €/km²" in quota
    assert "18 000 km² : 5 000 €" in _row(html, "data-family", "spot")
    assert "at least 100 km²" in html
    assert "under conditions" not in html.split('id="access-conditions"')[1]


def test_a_private_rd_actor_in_french_is_not_eligible_and_pays_from_the_first_km2(
    app: Any,
) -> None:
    with TestClient(app) as client:
        client.cookies.set("lang", "fr")
        page = client.get("/access", params={"profile": "french-private-rd"})
    assert page.status_code == 200
    html = page.text
    assert "Quels accès pour votre profil ?" in html
    assert "<td>non</td>" in _row(html, "data-collection", "pleiades")
    quota = _row(html, "data-family", "pleiades")
    assert "<td>0</td>" in quota and "1.4 €/km²" in quota and "1.8 €/km²" in quota
    conditions = html.split('id="access-conditions"')[1]
    assert "cadre R&amp;D seulement" in conditions
    assert "toute commande est payante" in conditions


def test_an_unknown_profile_is_a_400_naming_the_known_ones(app: Any) -> None:
    with TestClient(app) as client:
        page = client.get("/access", params={"profile": "astronaut"})
    assert page.status_code == 400
    assert "astronaut" in page.text and "french-scientist" in page.text


def test_every_page_links_to_the_access_page_in_both_languages(app: Any) -> None:
    with TestClient(app) as client:
        english = client.get("/search").text
        client.get("/lang/fr")
        french = client.get("/search").text
    assert "/access\">Access</a>" in english
    assert "/access\">Accès</a>" in french
