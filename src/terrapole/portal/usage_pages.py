"""The admins' usage statistics page: a plot per kind and the aggregates table, with CSV export.

The page holds no figures: the browser reads them from ``/admin/usage`` with the admin's
token, so the rule (admins only, aggregates only) stays the API's. A caller known not to be an
admin is refused the page itself.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from terrapole.errors import Forbidden
from terrapole.portal.routes import _lang, _page
from terrapole.web.services import WebServices

STRINGS: dict[str, dict[str, str]] = {
    "title": {"en": "Usage statistics", "fr": "Statistiques d'usage"},
    "by": {"en": "Group by", "fr": "Grouper par"},
    "show": {"en": "Show", "fr": "Afficher"},
    "csv": {"en": "Export CSV", "fr": "Exporter en CSV"},
    "kind": {"en": "Kind", "fr": "Type"},
    "count": {"en": "Count", "fr": "Nombre"},
    "note": {
        "en": "Aggregates only: searches, downloads and tiles are counted per day; jobs, "
        "orders and sign-ups are read from their own records.",
        "fr": "Agrégats seulement : recherches, téléchargements et tuiles sont comptés par "
        "jour ; traitements, commandes et inscriptions sont lus dans leurs propres registres.",
    },
}


def router(services: WebServices) -> APIRouter:
    """The page ``/admin/statistics``."""
    api = APIRouter(tags=["portal"], include_in_schema=False)

    @api.get("/admin/statistics", response_class=HTMLResponse)
    def statistics(request: Request) -> HTMLResponse:
        principal = services.principal(request)
        if not principal.anonymous and not principal.admin:
            raise Forbidden("the usage statistics are for admins")
        lang = _lang(request)
        u = {key: text[lang] for key, text in STRINGS.items()}
        return _page(request, "usage.html", u=u)

    return api
