"""The "Order these images" link of a restricted collection's page and of its items' pages.

Shown only to whom the access policy lets order from the collection (an account in an entity,
with an eligible profile and the required licences); it opens the new-order form filled with
the collection, the products and the caller's first entity.
"""

from __future__ import annotations

from urllib.parse import urlencode

from terrapole.access import AccessService, Principal
from terrapole.access.policy import can_order
from terrapole.portal.account_strings import STRINGS


def order_link(
    access: AccessService, principal: Principal, *, root: str, lang: str, collection_id: str,
    item_ids: list[str],
) -> dict[str, str] | None:  # fmt: skip
    """The link's address (under the portal's ``root`` URL) and words in ``lang``, or None
    when there is nothing to order here (an open collection) or ``principal`` may not."""
    if not access.is_restricted(collection_id):
        return None
    if not can_order(principal, collection_id, access.restrictions(), access.terms()):
        return None
    query = [("kind", "archive"), ("collection", collection_id)]
    query += [("entity", min(principal.entities))] + [("items", i) for i in item_ids]
    words = STRINGS["order_these" if len(item_ids) != 1 else "order_this"]
    return {
        "href": f"{root}profile/orders/new?{urlencode(query)}",
        "label": words.get(lang, words["en"]),
    }
