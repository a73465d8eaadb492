"""The imported thesauri in the project database: import a SKOS file, read schemes, concepts,
hierarchy and collections, and search labels for the editor's keyword pickers.

An import is one transaction: a scheme already there has its content replaced (same URI,
new rows), so importing a file again leaves the same thesaurus; a bad file raises before
anything is written.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa

from terrapole.db import reading
from terrapole.errors import InvalidInput, NotFound
from terrapole.fair.thesauri import tables as t
from terrapole.fair.thesauri.model import (
    Collection,
    Concept,
    ConceptRef,
    Hit,
    ImportReport,
    Label,
    LabelKind,
    Scheme,
    fold,
)
from terrapole.fair.thesauri.skos import Parsed, ParsedScheme, parse

MAX_FILE_BYTES = 64 * 1024 * 1024
"""Largest SKOS file an import reads (rdflib holds the whole graph in memory)."""
SEARCH_LIMIT = 100
"""Most hits a search returns, whatever ``limit`` asks."""
_KIND_ORDER = {"pref": 0, "alt": 1, "hidden": 2}


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class Thesauri:
    """The thesauri on one database engine (the project database, migrated)."""

    def __init__(self, engine: sa.Engine, *, clock: Any = None) -> None:
        self.engine = engine
        self._clock = clock or (lambda: datetime.now(UTC))

    # -- import ---------------------------------------------------------------------------

    def import_file(self, path: Path) -> ImportReport:
        """Import a SKOS file (RDF/XML or Turtle): InvalidInput naming it when it is not."""
        if not path.is_file():
            raise InvalidInput("FILE", f"{path.name} is not a file")
        if path.stat().st_size > MAX_FILE_BYTES:
            raise InvalidInput(path.name, f"larger than {MAX_FILE_BYTES // 2**20} MiB")
        return self.import_bytes(path.name, path.read_bytes())

    def import_bytes(self, name: str, data: bytes) -> ImportReport:
        """Import SKOS content read from a file called ``name`` (its extension picks the
        parser; content is sniffed otherwise)."""
        parsed = parse(name, data)
        with self.engine.begin() as con:
            before = {
                row.uri: row.checksum
                for row in con.execute(
                    sa.select(t.schemes.c.uri, t.schemes.c.checksum).where(
                        t.schemes.c.uri.in_([s.uri for s in parsed.schemes])
                    )
                )
            }
            counts = tuple(
                (scheme.uri, self._write_scheme(con, parsed, scheme)) for scheme in parsed.schemes
            )
        return ImportReport(
            source=parsed.source, checksum=parsed.checksum, schemes=counts,
            replaced=bool(before),
            unchanged=bool(before) and set(before.values()) == {parsed.checksum}
            and len(before) == len(parsed.schemes),
        )  # fmt: skip

    def _write_scheme(self, con: sa.Connection, parsed: Parsed, scheme: ParsedScheme) -> int:
        scheme_id = self._fresh_scheme(con, parsed, scheme)
        mine = [c for c in parsed.concepts if c.scheme == scheme.uri]
        if mine:
            con.execute(t.concepts.insert(), [
                {"scheme_id": scheme_id, "uri": c.uri, "notation": c.notation, "top": c.top,
                 "definitions": c.definitions}
                for c in mine
            ])  # fmt: skip
        ids = {
            uri: concept_id
            for uri, concept_id in con.execute(
                sa.select(t.concepts.c.uri, t.concepts.c.id).where(
                    t.concepts.c.scheme_id == scheme_id
                )
            )
        }
        label_rows = [
            {"concept_id": ids[c.uri], "kind": lb.kind, "lang": lb.lang, "text": lb.text,
             "folded": fold(lb.text)}
            for c in mine for lb in c.labels
        ]  # fmt: skip
        relation_rows = [
            {"concept_id": ids[c.uri], "kind": kind, "target": target}
            for c in mine for kind, target in sorted(c.relations)
        ]  # fmt: skip
        for table, rows in ((t.labels, label_rows), (t.relations, relation_rows)):
            if rows:
                con.execute(table.insert(), rows)
        for collection in (c for c in parsed.collections if c.scheme == scheme.uri):
            collection_id = _insert(
                con,
                t.collections.insert().values(
                    scheme_id=scheme_id, uri=collection.uri, labels=collection.labels
                ),
            )
            if collection.members:
                con.execute(t.members.insert(), [
                    {"collection_id": collection_id, "member": m} for m in collection.members
                ])  # fmt: skip
        return len(mine)

    def _fresh_scheme(self, con: sa.Connection, parsed: Parsed, scheme: ParsedScheme) -> int:
        """The scheme's row, emptied of its content (updated), or a new one."""
        values = {
            "titles": scheme.titles, "languages": list(scheme.languages),
            "imported": self._clock(), "source": parsed.source, "checksum": parsed.checksum,
            "concept_count": sum(1 for c in parsed.concepts if c.scheme == scheme.uri),
        }  # fmt: skip
        found = con.execute(
            sa.select(t.schemes.c.id).where(t.schemes.c.uri == scheme.uri)
        ).scalar_one_or_none()
        if found is None:
            return _insert(con, t.schemes.insert().values(uri=scheme.uri, **values))
        concept_ids = sa.select(t.concepts.c.id).where(t.concepts.c.scheme_id == found)
        collection_ids = sa.select(t.collections.c.id).where(t.collections.c.scheme_id == found)
        con.execute(t.members.delete().where(t.members.c.collection_id.in_(collection_ids)))
        con.execute(t.collections.delete().where(t.collections.c.scheme_id == found))
        con.execute(t.relations.delete().where(t.relations.c.concept_id.in_(concept_ids)))
        con.execute(t.labels.delete().where(t.labels.c.concept_id.in_(concept_ids)))
        con.execute(t.concepts.delete().where(t.concepts.c.scheme_id == found))
        con.execute(t.schemes.update().where(t.schemes.c.id == found).values(**values))
        return int(found)

    # -- reads ----------------------------------------------------------------------------

    def schemes(self) -> list[Scheme]:
        """Every imported scheme, by URI."""
        with reading(self.engine) as con:
            rows = con.execute(sa.select(t.schemes).order_by(t.schemes.c.uri)).all()
        return [_scheme(row) for row in rows]

    def scheme(self, uri: str) -> Scheme:
        """The scheme ``uri`` (NotFound when it was not imported)."""
        with reading(self.engine) as con:
            row = con.execute(sa.select(t.schemes).where(t.schemes.c.uri == uri)).first()
        if row is None:
            raise NotFound("thesaurus", uri)
        return _scheme(row)

    def concept(self, uri: str) -> Concept:
        """The concept ``uri`` with its labels, definitions, relations and collections
        (NotFound when no imported scheme has it)."""
        with reading(self.engine) as con:
            row = con.execute(
                sa.select(t.concepts, t.schemes.c.uri.label("scheme_uri"))
                .join(t.schemes, t.schemes.c.id == t.concepts.c.scheme_id)
                .where(t.concepts.c.uri == uri)
                .order_by(t.concepts.c.id)
            ).first()
            if row is None:
                raise NotFound("concept", uri)
            labels = con.execute(
                sa.select(t.labels.c.kind, t.labels.c.lang, t.labels.c.text)
                .where(t.labels.c.concept_id == row.id)
            ).all()  # fmt: skip
            related = con.execute(
                sa.select(t.relations.c.kind, t.relations.c.target)
                .where(t.relations.c.concept_id == row.id)
            ).all()  # fmt: skip
            in_collections = con.execute(
                sa.select(t.collections.c.uri, t.collections.c.labels)
                .join(t.members, t.members.c.collection_id == t.collections.c.id)
                .where(t.members.c.member == uri, t.collections.c.scheme_id == row.scheme_id)
                .order_by(t.collections.c.uri)
            ).all()  # fmt: skip
            refs = _refs(con, [target for _, target in related])
        by_kind: dict[str, list[ConceptRef]] = defaultdict(list)
        for kind, target in sorted(related, key=lambda r: (r.kind, refs[r.target].label("en"))):
            by_kind[kind].append(refs[target])
        return Concept(
            uri=row.uri, scheme=row.scheme_uri, notation=row.notation,
            labels=tuple(Label(cast(LabelKind, k), lang, text) for k, lang, text in labels),
            definitions=dict(row.definitions), broader=tuple(by_kind["broader"]),
            narrower=tuple(by_kind["narrower"]), related=tuple(by_kind["related"]),
            collections=tuple(ConceptRef(c.uri, dict(c.labels)) for c in in_collections),
            top=bool(row.top),
        )  # fmt: skip

    def hierarchy(self, scheme_uri: str) -> tuple[list[ConceptRef], dict[str, list[ConceptRef]]]:
        """The scheme as a tree: its top concepts (those it declares, else those with no
        broader concept in the scheme) and each concept's narrower concepts in the scheme,
        sorted by English label."""
        with reading(self.engine) as con:
            scheme_id = _scheme_id(con, scheme_uri)
            concept_rows = con.execute(
                sa.select(t.concepts.c.id, t.concepts.c.uri, t.concepts.c.top)
                .where(t.concepts.c.scheme_id == scheme_id)
            ).all()  # fmt: skip
            ids = [r.id for r in concept_rows]
            links = con.execute(
                sa.select(t.concepts.c.uri, t.relations.c.kind, t.relations.c.target)
                .join(t.relations, t.relations.c.concept_id == t.concepts.c.id)
                .where(
                    t.concepts.c.scheme_id == scheme_id,
                    t.relations.c.kind.in_(("broader", "narrower")),
                )
            ).all()  # fmt: skip
            refs = _refs(con, [r.uri for r in concept_rows], ids=ids)
        children: dict[str, list[ConceptRef]] = defaultdict(list)
        has_parent: set[str] = set()
        for uri, kind, target in links:
            if kind == "narrower" and target in refs:
                children[uri].append(refs[target])
            if kind == "broader" and target in refs:
                has_parent.add(uri)
        declared = [refs[r.uri] for r in concept_rows if r.top]
        roots = declared or [refs[r.uri] for r in concept_rows if r.uri not in has_parent]
        for kids in children.values():
            kids.sort(key=_sort_key)
        return sorted(roots, key=_sort_key), dict(children)

    def collections(self, scheme_uri: str) -> list[Collection]:
        """The scheme's collections with their members, by label."""
        with reading(self.engine) as con:
            scheme_id = _scheme_id(con, scheme_uri)
            rows = con.execute(
                sa.select(t.collections.c.id, t.collections.c.uri, t.collections.c.labels)
                .where(t.collections.c.scheme_id == scheme_id)
            ).all()  # fmt: skip
            membership = con.execute(
                sa.select(t.members.c.collection_id, t.members.c.member).where(
                    t.members.c.collection_id.in_([r.id for r in rows])
                )
            ).all()
            refs = _refs(con, [m.member for m in membership])
        members: dict[int, list[ConceptRef]] = defaultdict(list)
        for collection_id, member in membership:
            members[collection_id].append(refs[member])
        found = [
            Collection(r.uri, dict(r.labels), tuple(sorted(members[r.id], key=_sort_key)))
            for r in rows
        ]
        return sorted(found, key=lambda c: c.label("en").casefold())

    def search(
        self, text: str, *, lang: str = "en", scheme: str | None = None, limit: int = 20
    ) -> list[Hit]:
        """Concepts whose preferred, alternative or hidden labels contain ``text``, accents
        and case ignored; best first: whole label, then label prefix, then word prefix, then
        elsewhere; preferred before alternative labels, ``lang`` before other languages,
        shorter labels first. One hit per concept, at most ``limit`` (≤ 100)."""
        query = fold(text)
        limit = max(1, min(limit, SEARCH_LIMIT))
        if not query:
            return []
        esc = _escape_like(query)
        folded = t.labels.c.folded
        rank = sa.case(
            (folded == query, 0),
            (folded.like(f"{esc}%", escape="\\"), 1),
            ((sa.literal(" ") + folded).like(f"% {esc}%", escape="\\"), 2),
            else_=3,
        )
        kind_rank = sa.case((t.labels.c.kind == "pref", 0), (t.labels.c.kind == "alt", 1), else_=2)
        lang_rank = sa.case((t.labels.c.lang == lang, 0), else_=1)
        stmt = (
            sa.select(
                t.concepts.c.id, t.concepts.c.uri, t.schemes.c.uri.label("scheme"),
                t.labels.c.kind, t.labels.c.text, rank.label("rank"),
            )
            .join(t.concepts, t.concepts.c.id == t.labels.c.concept_id)
            .join(t.schemes, t.schemes.c.id == t.concepts.c.scheme_id)
            .where(folded.like(f"%{esc}%", escape="\\"))
            .order_by(rank, kind_rank, lang_rank, sa.func.length(folded), folded, t.concepts.c.id)
            .limit(limit * 10)
        )  # fmt: skip
        if scheme is not None:
            stmt = stmt.where(t.schemes.c.uri == scheme)
        with reading(self.engine) as con:
            rows = con.execute(stmt).all()
            best: dict[int, Any] = {}
            for row in rows:
                best.setdefault(row.id, row)
                if len(best) == limit:
                    break
            chosen = list(best.values())
            refs = _refs(con, [r.uri for r in chosen], ids=[r.id for r in chosen])
            broader_rows = con.execute(
                sa.select(t.relations.c.concept_id, t.relations.c.target).where(
                    t.relations.c.concept_id.in_(list(best)), t.relations.c.kind == "broader"
                )
            ).all()
            broader_refs = _refs(con, [r.target for r in broader_rows])
        broader: dict[int, list[ConceptRef]] = defaultdict(list)
        for concept_id, target in broader_rows:
            broader[concept_id].append(broader_refs[target])
        return [
            Hit(
                concept=refs[r.uri],
                scheme=r.scheme,
                matched=refs[r.uri].label(lang) if r.kind == "hidden" else r.text,
                rank=int(r.rank),
                broader=tuple(sorted(broader[r.id], key=_sort_key)),
            )  # fmt: skip
            for r in chosen
        ]


def _insert(con: sa.Connection, statement: sa.Insert) -> int:
    """Run an insert of one row; the new row's id."""
    key = con.execute(statement).inserted_primary_key
    assert key is not None
    return int(key[0])


def _sort_key(ref: ConceptRef) -> str:
    return ref.label("en").casefold()


def _scheme(row: Any) -> Scheme:
    imported: datetime = row.imported
    if imported.tzinfo is None:  # SQLite gives back naive datetimes
        imported = imported.replace(tzinfo=UTC)
    return Scheme(
        uri=row.uri, titles=dict(row.titles), languages=tuple(row.languages),
        imported=imported, source=row.source, checksum=row.checksum,
        concepts=row.concept_count,
    )  # fmt: skip


def _scheme_id(con: sa.Connection, uri: str) -> int:
    found = con.execute(
        sa.select(t.schemes.c.id).where(t.schemes.c.uri == uri)
    ).scalar_one_or_none()
    if found is None:
        raise NotFound("thesaurus", uri)
    return int(found)


def _refs(
    con: sa.Connection, uris: Iterable[str], *, ids: Sequence[int] | None = None
) -> dict[str, ConceptRef]:
    """A reference per URI with its preferred labels (none for a URI no scheme has).

    ``ids``: the concept rows, when the caller has them (saves matching on URIs)."""
    wanted = set(uris)
    where = (
        t.labels.c.concept_id.in_(list(ids))
        if ids is not None
        else t.concepts.c.uri.in_(list(wanted))
    )
    labels: dict[str, dict[str, str]] = defaultdict(dict)
    if wanted:
        rows = con.execute(
            sa.select(t.concepts.c.uri, t.labels.c.lang, t.labels.c.text)
            .join(t.labels, t.labels.c.concept_id == t.concepts.c.id)
            .where(where, t.labels.c.kind == "pref")
            .order_by(t.concepts.c.id)
        ).all()  # fmt: skip
        for uri, lang, text in rows:
            labels[uri].setdefault(lang, text)
    return {uri: ConceptRef(uri, dict(labels.get(uri, {}))) for uri in wanted}
