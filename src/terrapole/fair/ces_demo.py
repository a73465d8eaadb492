"""The demo's CES directory and call for projects, from the THEIA decks of December 2025.

The five thematic consortia and their expert groups, a few of their products and services,
THEIA's call for projects (open continuously) and one submitted application. The decks give
a maturity stage, not a number, for each: production is TRL 6–7, prototyping TRL 4–5; the
TRL below is the stage's upper level for what the decks describe as produced and distributed
operationally, 5 for a demonstrator being put into production, 6 for on-demand production.
Idempotent: what exists already is left as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import partial

import sqlalchemy as sa

from terrapole.access.policy import Principal
from terrapole.errors import AlreadyExists
from terrapole.fair.call_workflow import State
from terrapole.fair.calls import Call, CallBook, ProjectType, Proposal
from terrapole.fair.ces import CesDirectory, Consortium, Kind, Member, Offer

THEIA = "https://www.theia-land.fr/"
SEEDER = Principal(name="demo", admin=True)
"""Who the demo's changes are recorded as."""

CONSORTIA = (
    Consortium(
        id="imagerie-radiometrie", name="CES Imagerie & Radiométrie", acronym="I&R",
        themes=("Optique", "Radar", "Thermique", "3D", "Hyperspectral", "Lidar"),
        description="Sensors and radiometry, 3D included: surface reflectance and its "
        "atmospheric correction, land surface temperature and emissivity, 3D and lidar data.",
        url=THEIA,
        members=(Member("Vincent Lonjou"), Member("Aurélie Michel"), Member("Laure Roupioz"),
                 Member("Laurent Froideval"), Member("Jean-Philippe Malet")),
    ),
    Consortium(
        id="cryosphere", name="CES Cryosphère", acronym="CRYO",
        themes=("Glaciers", "Neige", "Permafrost", "Avalanches"),
        description="Snow cover, glaciers and the frozen ground of mountains and high latitudes.",
        url=THEIA, members=(Member("Simon Gascoin", affiliation="CESBIO"),),
    ),
    Consortium(
        id="eaux-continentales", name="CES Eaux continentales", acronym="EC",
        themes=("Bilan hydrique", "Caractéristiques hydrodynamiques",
                "Propriétés des eaux continentales"),
        description="Water balance, hydrodynamics and the properties of inland waters, "
        "along the land-sea continuum.",
        url=THEIA,
    ),
    Consortium(
        id="vegetation-sols-agrosystemes", name="CES Végétation, sols & agrosystèmes",
        acronym="VSA", themes=("Propriétés des sols", "Forêts", "Végétation", "Agrosystèmes"),
        description="Properties of soils, forests, vegetation and agricultural systems.",
        url=THEIA,
    ),
    Consortium(
        id="occupation-terres", name="CES Occupation des terres", acronym="OT",
        themes=("Occupation des sols", "Espaces forestiers", "Espaces semi-naturels",
                "Espaces urbains", "Zones humides"),
        description="Land cover and land use: forests, semi-natural and urban areas, wetlands.",
        url=THEIA,
    ),
)  # fmt: skip

OFFERS = (
    Offer(
        id="let-it-snow", ces_id="cryosphere", name="Let It Snow (snow cover)", kind=Kind.PRODUCT,
        trl=7, collections=("theia-snow",),
        description="Snow presence and cloud mask from single-date Sentinel-2 and Landsat-8 "
        "level 2A images; produced and distributed by THEIA since late 2017 and industrialised "
        "as a near-real-time Copernicus Land Monitoring Service product.",
    ),
    Offer(
        id="wasp", ces_id="imagerie-radiometrie", name="WASP (level 3A syntheses)",
        kind=Kind.PRODUCT, trl=7, collections=("theia-l3a-wasp",),
        description="Monthly weighted mean of cloud-free surface reflectances over 45 days, "
        "at 10 m; produced every 15th of the month since July 2017.",
    ),
    Offer(
        id="dsm-opt", ces_id="imagerie-radiometrie", name="DSM-OPT", kind=Kind.SERVICE, trl=7,
        description="On-demand digital surface models from Pléiades/SPOT stereo or tri-stereo "
        "images; some 2 500 jobs over five years with a 94 % success rate.",
    ),
    Offer(
        id="thermocity", ces_id="imagerie-radiometrie", name="Thermocity", kind=Kind.PRODUCT,
        trl=5,
        description="Urban heat islands and heat losses of five French cities from ASTER and "
        "ECOSTRESS thermal images; a demonstrator being put into systematic production.",
    ),
    Offer(
        id="urba-opt", ces_id="occupation-terres", name="Urba-Opt", kind=Kind.PRODUCT, trl=6,
        collections=("theia-landcover",),
        description="The artificialised area of mainland France or of a region, produced on "
        "demand.",
    ),
    Offer(
        id="hydroweb-next", ces_id="eaux-continentales", name="hydroweb.next", kind=Kind.SERVICE,
        trl=7, urls=("https://hydroweb.next.theia-land.fr/",),
        description="Portal of the spatial hydrology data and processing tools; the entry "
        "point to SWOT data over land.",
    ),
)  # fmt: skip

CALL = Call(
    id="aap-theia", title="Appel à projets THEIA (au fil de l'eau)", year=2025,
    types=tuple(ProjectType), opens=date(2025, 1, 1), closes=None,
    description="Open continuously: shared human and computing means for public bodies to "
    "reach advanced products and processing services.",
)  # fmt: skip

APPLICATION = Proposal(
    project="Îlots de chaleur de Montpellier",
    ces_id="imagerie-radiometrie",
    type=ProjectType.COMPUTING,
    description="Land surface temperature maps of the metropolis, summer and winter, day and "
    "night, to plan cooling measures.",
    resources={"cpu_hours": 20_000, "storage_tb": 2, "person_months": 3},
)


def seed_demo_ces(
    engine: sa.Engine,
    *,
    applicant: Principal | None = None,
    collection_exists: Callable[[str], bool] | None = None,
) -> int:
    """Fill the directory (links to collections the store lacks are left out), open the
    call and, with ``applicant``, submit one application; how many entries were added."""
    directory = CesDirectory(engine)
    added = 0
    for ces in CONSORTIA:
        added += _added(partial(directory.create, SEEDER, ces))
    for offer in OFFERS:
        kept = tuple(
            c for c in offer.collections if collection_exists is None or collection_exists(c)
        )
        added += _added(partial(directory.add_offer, SEEDER, _with(offer, kept)))
    book = CallBook(engine)
    added += _added(partial(book.create_call, SEEDER, CALL))
    if applicant is not None and not book.find(applicant, call_id=CALL.id):
        draft = book.draft(applicant, CALL.id, APPLICATION)
        book.move(applicant, draft.id, State.SUBMITTED)
        added += 1
    return added


def _with(offer: Offer, collections: tuple[str, ...]) -> Offer:
    return Offer(offer.id, offer.ces_id, offer.name, offer.kind, offer.trl, offer.description,
                 collections, offer.urls)  # fmt: skip


def _added(make: Callable[[], object]) -> int:
    try:
        make()
    except AlreadyExists:
        return 0
    return 1
