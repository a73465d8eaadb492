"""The demo's DINAMIS access: accounts, entities, a licence, terms and orders, made through the
same core calls as users make them.

:func:`seed` creates an admin; a French lab (profile french-scientist) and a French public body
(french-public-actor), each with a referent and one approved member; the licence "Pléiades for
science" (v1), required with the profile french-scientist by the collection ``landcover`` and
accepted by the lab's referent for the lab; and, by the lab's member, one archive order of
that collection (submitted, then approved by the referent) and one tasking request (submitted).
A second run skips what exists, so it neither fails nor duplicates; passwords exist only for
the accounts it created (they are stored hashed, so they cannot be shown again).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from terrapole.access.accounts import Accounts, User
from terrapole.access.entities import Entities, Entity, Status
from terrapole.access.licences import Holder, Licences
from terrapole.access.order_workflow import Actor, State
from terrapole.access.orders import OrderBook, TaskingRequest
from terrapole.access.passwords import WeakPassword, check_password
from terrapole.access.policy import Principal, can_order
from terrapole.access.pricing import Family, Kind
from terrapole.access.profiles import Profile
from terrapole.access.service import AccessService
from terrapole.access.view import VisibleCatalogue
from terrapole.catalog.model import SearchQuery
from terrapole.catalog.store import ReadStore
from terrapole.errors import InvalidInput, NotFound

COLLECTION = "landcover"
LICENCE = "pleiades-science"
LICENCE_TITLE = "Pléiades for science"
LICENCE_TEXT = (
    "Pléiades images ordered through this hub are for non-commercial research by the members "
    "of the adhering entity. Cite 'Pléiades © CNES, distribution Airbus DS' in every "
    "publication. (Demo licence.)"
)
TASKING_AOI = {  # about 121 km² around the demo's land-cover zone (Lorraine)
    "type": "Polygon",
    "coordinates": [[[5.28, 49.23], [5.43, 49.23], [5.43, 49.33], [5.28, 49.33], [5.28, 49.23]]],
}
ADMIN = ("admin@demo.example", "Demo operator")


@dataclass(frozen=True)
class DemoEntity:
    """One demo entity with its referent and member accounts (address, display name)."""

    name: str
    kind: str
    profile: Profile
    referent: tuple[str, str]
    member: tuple[str, str]


LAB = DemoEntity(
    "Laboratoire Terre et Espace (demo)", "lab", Profile.FRENCH_SCIENTIST,
    ("referent@lab.demo.example", "Claire Martin"),
    ("member@lab.demo.example", "Hugo Bernard"),
)  # fmt: skip
PUBLIC_BODY = DemoEntity(
    "Direction départementale des territoires (demo)", "public-body",
    Profile.FRENCH_PUBLIC_ACTOR,
    ("referent@ddt.demo.example", "Sophie Petit"),
    ("member@ddt.demo.example", "Louis Durand"),
)  # fmt: skip


class DemoServices(Protocol):
    """What :func:`seed` uses of the service container (``terrapole.services.Services``)."""

    @property
    def store(self) -> ReadStore:
        """The catalogue (read through the member's view)."""
        ...

    access: AccessService
    accounts: Accounts
    entities: Entities
    licences: Licences
    orders: OrderBook


@dataclass(frozen=True)
class Credential:
    """A demo account: its address, what it is, and its password (None: made by an earlier
    run, whose output showed it)."""

    email: str
    role: str
    password: str | None


def seed(services: DemoServices) -> list[Credential]:
    """Create (or find) the demo's accounts, entities, licence, terms and orders."""
    made: list[Credential] = []
    admin = _account(services.accounts, *ADMIN, "admin", made, admin=True)
    lab, lab_member = _entity(services, LAB, made)
    _entity(services, PUBLIC_BODY, made)
    _licence(services, admin, lab)
    services.access.forget()
    _orders(services, lab, lab_member)
    return made


def _password(email: str) -> str:
    """A random password the policy accepts."""
    while True:
        candidate = secrets.token_urlsafe(12)
        try:
            check_password(candidate, email=email)
        except WeakPassword:
            continue
        return candidate


def _account(
    accounts: Accounts, email: str, name: str, role: str, made: list[Credential],
    *, admin: bool = False,
) -> User:  # fmt: skip
    try:
        user = accounts.by_email(email)
    except NotFound:
        password = _password(email)
        roles = frozenset({"admin"}) if admin else frozenset()
        made.append(Credential(email, role, password))
        return accounts.create_verified(email, password, name, roles=roles)
    made.append(Credential(email, role, None))
    return user


def _entity(
    services: DemoServices, demo: DemoEntity, made: list[Credential]
) -> tuple[Entity, User]:
    """The entity with its referent and its approved member."""
    label = f"{demo.kind}, {demo.profile.value}"
    referent = _account(services.accounts, *demo.referent, f"referent ({label})", made)
    member = _account(services.accounts, *demo.member, f"member ({label})", made)
    found = [e for e in services.entities.of_user(referent.id) if e.name == demo.name]
    entity = found[0] if found else services.entities.create(
        referent, name=demo.name, country="FR", kind=demo.kind, profile_name=demo.profile.value
    )  # fmt: skip
    try:
        status = services.entities.membership(entity.id, member.id).status
    except NotFound:
        status = None
    if status is not Status.MEMBER:
        if status is not Status.PENDING:
            services.entities.request(member, entity.id)
        services.entities.approve(referent, entity.id, member.id)
    return entity, member


def _licence(services: DemoServices, admin: User, lab: Entity) -> None:
    """The licence, the collection's terms, and the lab's acceptance (by its referent)."""
    licences = services.licences
    try:
        licence = licences.get(LICENCE)
    except NotFound:
        licence = licences.create(admin, LICENCE, LICENCE_TITLE, LICENCE_TEXT)
    licences.set_terms(
        admin, COLLECTION, licence_ids=[LICENCE], profiles=[Profile.FRENCH_SCIENTIST.value]
    )
    if licences.needs_acceptance(LICENCE, [(Holder.ENTITY, lab.id)]):
        referent = services.accounts.get(lab.referent_id)
        licences.accept(referent, LICENCE, licence.version, entity=(lab.id, lab.referent_id))


def principal_of(access: AccessService, user: User) -> Principal:
    """The principal a token of ``user`` stands for now (what the policy decides over)."""
    held = access.standing(user.id)
    if held is None:
        raise NotFound("user", user.id)
    return Principal(
        name=f"{user.id}:demo", admin="admin" in held.roles, user_id=user.id, roles=held.roles,
        entities=held.entities, profiles=held.profiles, licences=held.licences,
    )  # fmt: skip


def _orders(services: DemoServices, lab: Entity, member: User) -> None:
    """The member's archive order (submitted, approved) and tasking request (submitted)."""
    book, owner = services.orders, Actor(member.id)
    kinds = {order.kind for order in book.owned_by(owner)}
    if Kind.ARCHIVE not in kinds:
        principal = principal_of(services.access, member)
        access = services.access
        if not can_order(principal, COLLECTION, access.restrictions(), access.terms()):
            raise InvalidInput("demo", f"the lab's member may not order from {COLLECTION!r}")
        view = VisibleCatalogue(services.store, access.hidden_for(principal))
        page = view.search(SearchQuery(collections=(COLLECTION,), limit=100))
        if not page.items:
            raise InvalidInput("demo", f"collection {COLLECTION!r} has no items to order")
        footprints = {str(item["id"]): item["geometry"] for item in page.items}
        order = book.draft_archive(
            owner, entity_id=lab.id, profile=lab.profile, family=Family.PLEIADES,
            collection_id=COLLECTION, footprints=footprints,
        )  # fmt: skip
        book.submit(owner, order.id)
        referent = Actor(lab.referent_id, referent_of=frozenset({lab.id}))
        book.move(referent, order.id, State.APPROVED, "approved for the demo")
    if Kind.TASKING not in kinds:
        request = TaskingRequest(
            aoi=TASKING_AOI, start=date(2027, 4, 1), end=date(2027, 6, 30),
            sensor=Family.PLEIADES, mode="stereo", max_cloud=10,
            note="Spring stereo pair over the forest zone (demo)",
        )  # fmt: skip
        order = book.draft_tasking(owner, entity_id=lab.id, profile=lab.profile, request=request)
        book.submit(owner, order.id)
