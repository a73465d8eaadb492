"""Tables of the access pillar (SQLAlchemy Core; the same on SQLite and PostgreSQL).

They belong to the database layer's one MetaData; a change here needs a new revision in
``terrapole/migrations/versions`` (tests/test_db.py fails until the two agree).
"""

from __future__ import annotations

import sqlalchemy as sa

from terrapole.db import metadata

api_tokens = sa.Table(
    "tp_api_tokens",
    metadata,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("groups", sa.JSON, nullable=False),
    sa.Column("admin", sa.Boolean, nullable=False, default=False),
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
)

collection_access = sa.Table(
    "tp_collection_access",
    metadata,
    sa.Column("collection_id", sa.String(256), primary_key=True),
    sa.Column("groups", sa.JSON, nullable=False),
)

# -- accounts, entities, charter and licences (revision 0003) -----------------------------------
users = sa.Table(
    "tp_users",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("email", sa.String(320), nullable=False),
    # the address folded to lower case: one account per address, whatever its spelling
    sa.Column("email_key", sa.String(320), nullable=False, unique=True),
    sa.Column("display_name", sa.String(200), nullable=False),
    sa.Column("password_hash", sa.String(256), nullable=True),
    sa.Column("verified", sa.Boolean, nullable=False),
    sa.Column("roles", sa.JSON, nullable=False),
    sa.Column("disabled", sa.Boolean, nullable=False),
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
)

account_links = sa.Table(
    "tp_account_links",
    metadata,
    # one-use links sent by mail (purpose 'verify' or 'reset'), kept as SHA-256 hashes
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.String(32), sa.ForeignKey("tp_users.id"), nullable=False, index=True),
    sa.Column("purpose", sa.String(16), nullable=False),
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires", sa.DateTime(timezone=True), nullable=False),
    sa.Column("used", sa.DateTime(timezone=True), nullable=True),
)

login_failures = sa.Table(
    "tp_login_failures",
    metadata,
    sa.Column("n", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("email_key", sa.String(320), nullable=False, index=True),
    sa.Column("address", sa.String(64), nullable=False, index=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)

token_owners = sa.Table(
    "tp_token_owners",
    metadata,
    # an API token that belongs to a user (tokens made before accounts have no row here)
    sa.Column("token_name", sa.String(200), sa.ForeignKey("tp_api_tokens.name"), primary_key=True),
    sa.Column("user_id", sa.String(32), sa.ForeignKey("tp_users.id"), nullable=False, index=True),
)

entities = sa.Table(
    "tp_entities",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("country", sa.String(2), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("siren", sa.String(9), nullable=True),
    sa.Column("ror", sa.String(9), nullable=True),
    sa.Column("profile", sa.String(32), nullable=False),
    sa.Column("referent_id", sa.String(32), sa.ForeignKey("tp_users.id"), nullable=False),
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
)

memberships = sa.Table(
    "tp_memberships",
    metadata,
    sa.Column("entity_id", sa.String(32), sa.ForeignKey("tp_entities.id"), primary_key=True),
    sa.Column("user_id", sa.String(32), sa.ForeignKey("tp_users.id"), primary_key=True),
    # pending, member, refused, left, removed
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("profile", sa.String(32), nullable=True),
    sa.Column("requested", sa.DateTime(timezone=True), nullable=False),
    sa.Column("decided", sa.DateTime(timezone=True), nullable=True),
)

entity_events = sa.Table(
    "tp_entity_events",
    metadata,
    # append-only history: who did what to whom, when
    sa.Column("n", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("entity_id", sa.String(32), nullable=False, index=True),
    sa.Column("actor_id", sa.String(32), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("subject_id", sa.String(32), nullable=True),
    sa.Column("detail", sa.JSON, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)

licences = sa.Table(
    "tp_licences",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("title", sa.String(200), nullable=False),
    # 'charter' (the hub's charter, accepted by entities and users) or 'licence'
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
)

licence_versions = sa.Table(
    "tp_licence_versions",
    metadata,
    sa.Column("licence_id", sa.String(64), sa.ForeignKey("tp_licences.id"), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("published", sa.DateTime(timezone=True), nullable=False),
)

licence_acceptances = sa.Table(
    "tp_licence_acceptances",
    metadata,
    sa.Column("n", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("licence_id", sa.String(64), sa.ForeignKey("tp_licences.id"), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    # who is bound: a user ('user') or an entity ('entity', accepted by its referent)
    sa.Column("holder_kind", sa.String(8), nullable=False),
    sa.Column("holder_id", sa.String(32), nullable=False),
    sa.Column("accepted_by", sa.String(32), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_tp_licence_acceptances_holder", "holder_kind", "holder_id", "licence_id"),
)

collection_terms = sa.Table(
    "tp_collection_terms",
    metadata,
    sa.Column("collection_id", sa.String(256), primary_key=True),
    sa.Column("licences", sa.JSON, nullable=False),
    sa.Column("profiles", sa.JSON, nullable=False),
    # revision 0007: the entities whose members alone may read (NULL: no such restriction)
    sa.Column("entities", sa.JSON, nullable=True),
)

# --- quotas ledger and orders (revision 0004). Entities and users are named by their ids,
# without foreign keys, so a ledger can be kept for ids the accounts tables do not hold.

quota_balances = sa.Table(
    "tp_quota_balances",
    metadata,
    # one row per (entity, family, quarter): the row PostgreSQL locks (SELECT ... FOR UPDATE)
    # while an order is debited, so concurrent debits of one quota run one after the other
    sa.Column("entity_id", sa.String(64), primary_key=True),
    sa.Column("family", sa.String(32), primary_key=True),
    sa.Column("period", sa.String(7), primary_key=True),
    sa.Column("allowance_km2", sa.Float, nullable=False),
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
)

quota_ledger = sa.Table(
    "tp_quota_ledger",
    metadata,
    sa.Column("n", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("entity_id", sa.String(64), nullable=False),
    sa.Column("family", sa.String(32), nullable=False),
    sa.Column("period", sa.String(7), nullable=False),
    sa.Column("order_id", sa.String(64), nullable=False, index=True),
    # 'debit' (an order took km² of the quota) or 'credit' (a refund, or a grant by an admin)
    sa.Column("entry", sa.String(8), nullable=False),
    sa.Column("km2", sa.Float, nullable=False),  # of the quota; the overage is not counted in it
    sa.Column("overage_km2", sa.Float, nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("reason", sa.String(500), nullable=False),
    sa.Index("ix_tp_quota_ledger_quota", "entity_id", "family", "period"),
)

orders = sa.Table(
    "tp_orders",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(8), nullable=False),  # 'archive' or 'tasking'
    sa.Column("state", sa.String(16), nullable=False, index=True),
    sa.Column("entity_id", sa.String(64), nullable=False, index=True),
    sa.Column("owner", sa.String(64), nullable=False, index=True),
    sa.Column("profile", sa.String(32), nullable=False),
    sa.Column("family", sa.String(32), nullable=False),
    sa.Column("period", sa.String(7), nullable=False),  # the quarter whose quota it draws on
    # what is ordered: archive items (ids and, when ordered from a search, the search) or a
    # tasking request's parameters; the AOI as GeoJSON (none: whole footprints)
    sa.Column("request", sa.JSON, nullable=False),
    sa.Column("aoi", sa.JSON, nullable=True),
    sa.Column("km2", sa.Float, nullable=False),
    sa.Column("quota_km2", sa.Float, nullable=True),  # set by the debit at submission
    sa.Column("overage_km2", sa.Float, nullable=True),
    sa.Column("price_eur", sa.Float, nullable=True),
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
)

order_history = sa.Table(
    "tp_order_history",
    metadata,
    sa.Column("n", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("order_id", sa.String(64), sa.ForeignKey("tp_orders.id"), nullable=False, index=True),
    sa.Column("start", sa.String(16), nullable=True),  # None: the order was created
    sa.Column("finish", sa.String(16), nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("note", sa.String(2000), nullable=False),
)

# --- usage statistics (revision 0006): the daily rollup of searches, downloads and tiles. One
# row per day x kind x service x collection x profile x entity x user, incremented in batches;
# never an IP address, never a single request.
usage_daily = sa.Table(
    "tp_usage_daily",
    metadata,
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("kind", sa.String(16), primary_key=True),  # search, download, tile
    sa.Column("service", sa.String(32), primary_key=True),  # stac, assets, zip, xyz, wms, ...
    sa.Column("collection", sa.String(256), primary_key=True),  # '' when not one collection
    sa.Column("profile", sa.String(32), primary_key=True),  # '' for anonymous callers
    sa.Column("entity_id", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.String(200), primary_key=True),  # a user id, or token:<name>
    sa.Column("count", sa.Integer, nullable=False),
    sa.Column("succeeded", sa.Integer, nullable=False),
    sa.Column("failed", sa.Integer, nullable=False),
    sa.Column("files", sa.Integer, nullable=False),
    sa.Column("bytes", sa.BigInteger, nullable=False),
    sa.Column("km2", sa.Float, nullable=False),
)

# --- OpenID Connect login (revision 0008): which provider identity is which account, and the
# logins a browser has started at the provider and not finished yet.
oidc_identities = sa.Table(
    "tp_oidc_identities",
    metadata,
    # the ID token's 'iss' and 'sub': the provider's stable name of the user
    sa.Column("issuer", sa.String(500), primary_key=True),
    sa.Column("subject", sa.String(255), primary_key=True),
    sa.Column("user_id", sa.String(32), sa.ForeignKey("tp_users.id"), nullable=False, index=True),
    sa.Column("email", sa.String(320), nullable=True),  # as the provider gave it, last login
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_login", sa.DateTime(timezone=True), nullable=False),
)

oidc_logins = sa.Table(
    "tp_oidc_logins",
    metadata,
    # one row per login sent to the provider, keyed by the SHA-256 of its 'state'; used once
    sa.Column("state_hash", sa.String(64), primary_key=True),
    sa.Column("nonce", sa.String(128), nullable=False),
    sa.Column("code_verifier", sa.String(128), nullable=False),  # PKCE
    sa.Column("redirect_uri", sa.String(2000), nullable=False),
    sa.Column("next", sa.String(2000), nullable=False),  # the page to go back to
    sa.Column("expires", sa.DateTime(timezone=True), nullable=False, index=True),
)
