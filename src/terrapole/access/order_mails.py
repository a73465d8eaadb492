"""The mails an order's moves send, and to whom (pure: people and texts in, Mail objects out).

submitted → the entity's referent ("an order awaits your approval"); approved → the operators
(admins), who accept it; accepted, planned, delivered, refused, cancelled, closed → the owner,
and the referent too when it is refused or cancelled. Nobody is mailed about their own move.
Texts exist in English and French; each recipient gets theirs (``Recipient.lang``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from terrapole.access.mail import Mail
from terrapole.access.order_workflow import State
from terrapole.access.orders import Order

LANGUAGES = ("en", "fr")


class Audience(StrEnum):
    """Who hears of a move."""

    OWNER = "owner"
    REFERENT = "referent"
    OPERATORS = "operators"


AUDIENCES: Mapping[State, tuple[Audience, ...]] = {
    State.SUBMITTED: (Audience.REFERENT,),
    State.APPROVED: (Audience.OPERATORS,),
    State.ACCEPTED: (Audience.OWNER,),
    State.PLANNED: (Audience.OWNER,),
    State.DELIVERED: (Audience.OWNER,),
    State.CLOSED: (Audience.OWNER,),
    State.REFUSED: (Audience.OWNER, Audience.REFERENT),
    State.CANCELLED: (Audience.OWNER, Audience.REFERENT),
}
"""The state an order reached → who is told."""


@dataclass(frozen=True)
class Recipient:
    """Someone who may be mailed: their account id, address, name and language."""

    user_id: str
    email: str
    name: str
    lang: str = "en"


@dataclass(frozen=True)
class Move:
    """What the mails tell: the order as moved, by whom, its entity, where to see it."""

    order: Order
    by: Recipient
    entity_name: str
    link: str
    note: str = ""
    delivered_to: str | None = None
    """The delivery collection's link, once delivered."""


_STATES = {
    "en": {s: s.value for s in State},
    "fr": {
        State.DRAFT: "en brouillon", State.SUBMITTED: "soumise", State.APPROVED: "approuvée",
        State.ACCEPTED: "acceptée", State.PLANNED: "planifiée", State.DELIVERED: "livrée",
        State.CLOSED: "clôturée", State.REFUSED: "refusée", State.CANCELLED: "annulée",
    },
}  # fmt: skip
_KINDS = {
    "en": {"archive": "archive order", "tasking": "tasking request"},
    "fr": {"archive": "commande d'archive", "tasking": "demande de programmation"},
}
_TEXTS = {
    "en": {
        "referent_subject": "terrapole: an order awaits your approval",
        "referent_body": "{owner_line}the {kind} {id} ({km2} km², {entity}) awaits your "
        "approval:\n{link}\n",
        "operators_subject": "terrapole: order {short} approved, to accept",
        "operators_body": "The referent of {entity} approved the {kind} {id} ({km2} km²). "
        "Accept or refuse it:\n{link}\n",
        "owner_subject": "terrapole: order {short} is {state}",
        "owner_body": "Your {kind} {id} is now {state} ({by}).\n{link}\n",
        "watch_subject": "terrapole: order {short} of {entity} is {state}",
        "watch_body": "The {kind} {id} of {entity} is now {state} ({by}).\n{link}\n",
        "note": "Note: {note}\n",
        "delivered": "Its products are in your entity's collection:\n{delivered_to}\n",
        "owner_line": "Submitted by {owner}: ",
    },
    "fr": {
        "referent_subject": "terrapole : une commande attend votre approbation",
        "referent_body": "{owner_line}la {kind} {id} ({km2} km², {entity}) attend votre "
        "approbation :\n{link}\n",
        "operators_subject": "terrapole : commande {short} approuvée, à accepter",
        "operators_body": "Le référent de {entity} a approuvé la {kind} {id} ({km2} km²). "
        "Acceptez-la ou refusez-la :\n{link}\n",
        "owner_subject": "terrapole : votre commande {short} est {state}",
        "owner_body": "Votre {kind} {id} est maintenant {state} ({by}).\n{link}\n",
        "watch_subject": "terrapole : la commande {short} de {entity} est {state}",
        "watch_body": "La {kind} {id} de {entity} est maintenant {state} ({by}).\n{link}\n",
        "note": "Note : {note}\n",
        "delivered": "Ses produits sont dans la collection de votre entité :\n{delivered_to}\n",
        "owner_line": "Soumise par {owner} : ",
    },
}


def order_mails(move: Move, people: Mapping[Audience, Sequence[Recipient]]) -> list[Mail]:
    """The mails of ``move``, one per recipient of the audiences its new state has (the
    mover and repeated addresses apart), each in the recipient's language.

    ``people``: the owner, the entity's referent(s) and the operators, by audience.
    """
    mails: list[Mail] = []
    seen = {move.by.user_id}
    for audience in AUDIENCES.get(move.order.state, ()):
        for person in people.get(audience, ()):
            if person.user_id in seen:
                continue
            seen.add(person.user_id)
            mails.append(_mail(move, audience, person))
    return mails


def _mail(move: Move, audience: Audience, to: Recipient) -> Mail:
    lang = to.lang if to.lang in LANGUAGES else "en"
    texts = _TEXTS[lang]
    order = move.order
    owner = move.by.name if move.by.user_id == order.owner else ""
    words = {
        "id": order.id,
        "short": order.id[:8],
        "kind": _KINDS[lang][order.kind.value],
        "km2": f"{order.km2:.1f}",
        "entity": move.entity_name,
        "state": _STATES[lang][order.state],
        "by": move.by.name,
        "link": move.link,
        "delivered_to": move.delivered_to or "",
        "owner_line": texts["owner_line"].format(owner=owner) if owner else "",
    }
    key = {
        Audience.REFERENT: "referent" if order.state is State.SUBMITTED else "watch",
        Audience.OPERATORS: "operators",
        Audience.OWNER: "owner",
    }[audience]
    body = texts[f"{key}_body"].format(**words)
    if key == "referent" and not owner:
        body = body[0].upper() + body[1:]
    if move.note:
        body += texts["note"].format(note=move.note)
    if order.state is State.DELIVERED and move.delivered_to:
        body += texts["delivered"].format(**words)
    return Mail(to.email, texts[f"{key}_subject"].format(**words), body)
