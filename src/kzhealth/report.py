"""The conflicts report as JSON, built group by group so that an unchanged group is not compared
or encoded again.

A group's conflicts depend only on its key, its members' records in the dataset's order, and
what their records show of their source and metric (``records.source_details`` and
``records.metric_details``). Their hash keys the group's rendered conflicts in the cache; any
change to any of those inputs makes a new key, so a stored result is used only for the very
inputs it was computed from. Changed groups are compared again from their claims' records; the
report is then the conflicts of every group in the engine's order, byte for byte what
``render.jsonfmt.conflicts`` writes for the whole dataset.

A stored group result is a header line, ``severity kind first-claim-id bytes`` per conflict
joined by ``;``, and a body, each conflict's JSON back to back (``store.cache``): a warm run
decodes no conflict for JSON, it only puts them in order and writes them. The arithmetic
relations, which link groups, are stored as one result per folder (``_Related``). A cold run
compares on every core (``store.cores``).

Every format renders the same ``Report``: JSON writes its conflicts' JSON as it is, the other
formats decode each conflict as they print it.
"""

from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterator, Sequence
from typing import TypeVar, overload

from kzhealth.engine import (
    Conflict,
    ConflictKind,
    GroupKey,
    Severity,
    Tally,
    classify,
    kind_of,
    order,
    order_prefix,
    rank,
)
from kzhealth.model import Claim, Measure
from kzhealth.query import ClaimFilter
from kzhealth.records import REPORT_HEAD, REPORT_SEPARATOR, REPORT_TAIL, Tables, conflict_json
from kzhealth.store.cache import Cache, content_key
from kzhealth.store.cores import mapped
from kzhealth.store.index import DatasetIndex, Group

R = TypeVar("R")
Piece = tuple[str, ConflictKind, memoryview]  # its place (engine.order), kind and JSON


def _encode(index: DatasetIndex, group: Group, drafts: bool) -> tuple[str, bytes, list[Piece]]:
    """Compare one group's claims (its drafts only when ``drafts``): its stored form (a header
    line; each conflict's JSON back to back) and its pieces, as views of that form (each
    conflict's bytes are kept once)."""
    claims = index.records(group)
    if not drafts:
        claims = [c for c in claims if not c.draft]
    metric_kind = kind_of(group.key.metric, index.metrics)
    return _stored(index, classify(group.key, claims, metric_kind))


def _stored(index: DatasetIndex, conflicts: list[Conflict]) -> tuple[str, bytes, list[Piece]]:
    """Conflicts in their stored form, and as pieces (views of it)."""
    encoded: dict[str, str] = {}
    header: list[str] = []
    pieces: list[bytes] = []
    places: list[tuple[str, ConflictKind]] = []
    from kzhealth.relations import with_official  # noqa: PLC0415 - only to compare

    for conflict in conflicts:
        conflict = with_official(conflict, index.sources)  # noqa: PLW2901
        piece = conflict_json(index, conflict, encoded).encode()
        first = conflict.claims[0].id  # an id has no space, ";" or newline (schema.SLUG)
        header.append(f"{int(conflict.severity)} {conflict.kind.value} {first} {len(piece)}")
        pieces.append(piece)
        key = conflict.key
        places.append((order(conflict.severity, conflict.kind, key, first), conflict.kind))
    body = b"".join(pieces)
    view, at, found = memoryview(body), 0, []
    for (where, kind), piece in zip(places, pieces, strict=True):
        found.append((where, kind, view[at : at + len(piece)]))
        at += len(piece)
    return ";".join(header), body, found


def _related(
    index: DatasetIndex, chosen: list[Group], drafts: bool, cache: Cache | None
) -> list[Piece]:
    """The broken arithmetic relations (``kzhealth.relations``) among the claims of every
    bundle of groups that holds one of the ``chosen`` groups.

    The folder's relations are stored as one result (``_Related``): each bundle's members'
    signatures with its conflicts, and every group's signature. An unchanged folder takes them
    all at once. After an edit, only the bundles that hold a group whose signature is new or
    gone are compared again (every bundle's members, should the groups that stayed have moved),
    and the result is stored again."""
    if not index.groups:
        return []
    metrics = index.metrics
    every = len(chosen) == len(index.groups)
    signatures = ",".join([g.signature for g in index.groups]) if every else ""
    whole = content_key(f"arithmetic-all\x1e{signatures}".encode()) if every else ""
    stored = _Related.read(cache, index, drafts, whole)
    if isinstance(stored, list):  # unchanged since they were stored
        return stored
    from kzhealth import relations  # noqa: PLC0415 - only when a bundle may be compared

    roots: dict[str, str] = {}

    def bundle_of(group: Group) -> Bundle:
        key = group.key
        root = roots.get(key.metric)
        if root is None:
            root = roots[key.metric] = relations.root_of(key.metric, metrics)
        return (root, key.subject, key.scope)

    found = _Related(whole, {}, signatures)
    touched = stored.touched(index.groups, bundle_of) if every else None
    if touched is not None:
        found.bundles = {n: known for n, known in stored.bundles.items() if n not in touched}
    bundles: dict[Bundle, list[Group]] = defaultdict(list)
    for group in index.groups:
        name = bundle_of(group)
        if touched is None or name in touched:
            bundles[name].append(group)
    if not every:
        wanted = {bundle_of(g) for g in chosen}
        bundles = defaultdict(list, {n: m for n, m in bundles.items() if n in wanted})
    alone: dict[tuple[str, str], bool] = {}  # whether one group may relate, by metric and measure
    todo: list[tuple[Bundle, str, list[Group]]] = []  # to compare
    for name, members in bundles.items():
        signed = ",".join([g.signature for g in members])
        known = stored.bundles.get(name)
        if known is not None and known[0] == signed:
            found.bundles[name] = known
            continue
        if len(members) == 1:
            key = members[0].key
            relates = alone.get((key.metric, key.measure))
            if relates is None:
                relates = alone[key.metric, key.measure] = relations.may_relate([key], metrics)
        else:
            relates = relations.may_relate([g.key for g in members], metrics)
        if relates:
            todo.append((name, signed, members))
    jobs = [members for _, _, members in todo]
    for (name, signed, _), sent in zip(
        todo, _spread(_bundle_result, index, jobs, drafts), strict=True
    ):
        view, at, pieces = memoryview(b"".join(piece for _, _, piece in sent)), 0, []
        for place, kind, piece in sent:
            pieces.append((place, ConflictKind(kind), view[at : at + len(piece)]))
            at += len(piece)
        found.bundles[name] = (signed, pieces)
    if (
        every
        and cache is not None
        and (found.whole, found.bundles) != (stored.whole, stored.bundles)
    ):
        found.write(cache, index, drafts)
    return [piece for _, pieces in found.bundles.values() for piece in pieces]


Bundle = tuple[str, str, str]  # relations.bundle_key: a metric's root, a subject, a scope

# What the children comparing groups or bundles read (store.cores): the index, each job's
# groups, and the choice of drafts, as they were when the children were forked.
_WORK: tuple[DatasetIndex, list[list[Group]], bool] | None = None


def _spread(
    function: Callable[[int], R], index: DatasetIndex, jobs: list[list[Group]], drafts: bool
) -> Iterator[R]:
    """``function`` of each job, in order: on every core when every file was parsed in this
    run (a cold run: the children need no cache), here otherwise."""
    global _WORK  # noqa: PLW0603 - what forked children read
    _WORK = (index, jobs, drafts)
    try:
        loaded = all(f.loaded is not None for f in index.files)
        yield from mapped(function, range(len(jobs)), spread=loaded, chunk=64)
    finally:
        _WORK = None


def _group_result(job: int) -> tuple[str, bytes]:
    """A group compared (``_encode``), as its stored form."""
    assert _WORK is not None, "set by _spread"
    index, jobs, drafts = _WORK
    head, body, _ = _encode(index, jobs[job][0], drafts)
    return head, body


def _bundle_result(job: int) -> list[tuple[str, str, bytes]]:
    """A bundle's broken relations: each conflict's place, kind and JSON."""
    from kzhealth.relations import relate  # noqa: PLC0415 - only when a bundle is compared

    assert _WORK is not None, "set by _spread"
    index, jobs, drafts = _WORK
    claims = [c for g in jobs[job] for c in index.records(g) if drafts or not c.draft]
    pieces = _stored(index, relate(claims, index.metrics))[2]
    return [(place, kind.value, bytes(piece)) for place, kind, piece in pieces]


class _Related:
    """A folder's stored relations: the hash of every group's signature they were found for
    (empty when not known), those signatures, and per bundle that may relate its members'
    signatures and its conflicts.

    Stored as a group result is (``Cache.put_group``), under a hash of the folder's location,
    the choice of drafts and what the metrics declare (``part_of``). Its header holds the whole
    hash; every group's signature in the folder's order; the bundles, a line each (``root
    subject scope signature,signature... conflicts``); then each conflict as ``rank metric
    subject first-claim-id kind bytes`` (its place in the report, ``engine.order``), bundle
    after bundle. The body holds the conflicts' JSON. An unchanged folder reads the conflicts
    alone."""

    def __init__(
        self,
        whole: str,
        bundles: dict[Bundle, tuple[str, list[Piece]]],
        signatures: str = "",
        table: str = "",
    ) -> None:
        self.whole = whole
        self.bundles = bundles
        self.signatures = signatures  # every group's, in order, "," between
        self.table = table  # the bundles' lines as stored

    @staticmethod
    def _key(index: DatasetIndex, drafts: bool) -> str:
        declared = sorted(f"{m.id}<{m.part_of}" for m in index.metrics.values() if m.part_of)
        parts = [os.fsencode(index.root.resolve()), b"drafts" if drafts else b""]
        parts += [d.encode() for d in declared]
        return content_key(b"\x1e".join([b"arithmetic-folder", *parts]))

    @staticmethod
    def read(
        cache: Cache | None, index: DatasetIndex, drafts: bool, whole: str
    ) -> list[Piece] | _Related:
        """The folder's stored relations: their conflicts alone when they were found for
        ``whole``; none when there are none or they do not decode."""
        empty = _Related("", {})
        key = _Related._key(index, drafts) if cache is not None else ""
        result = cache.get_groups([key]).get(key) if cache is not None else None
        if result is None:
            return empty
        head, body = result
        pieces: list[Piece] = []
        at = 0
        try:
            stored, signatures, table, *items = head.split(";")
            for item in items:
                ranked, metric, subject, first, name, size = item.split(" ")
                kind = ConflictKind(name)
                end = at + int(size)
                if not at < end <= len(body):
                    return empty
                pieces.append((f"{ranked}\0{metric}\0{subject}\0{first}", kind, body[at:end]))
                at = end
            if at != len(body):
                return empty
            if stored == whole:
                return pieces
            found = _Related(stored, {}, signatures, table)
            at = 0
            for line in table.split("\n") if table else ():
                root, subject, scope, signed, count = line.split(" ")
                end = at + int(count)
                found.bundles[root, subject, scope] = (signed, pieces[at:end])
                at = end
        except ValueError:  # not the fields written, not a number, not a kind
            return empty
        return found if at == len(pieces) else empty

    def touched(
        self, groups: list[Group], bundle_of: Callable[[Group], Bundle]
    ) -> set[Bundle] | None:
        """The bundles that hold a group whose signature is not among those stored, or held
        one that is gone; None when nothing is stored, or the groups both hold are not in the
        same order (their bundles' members would be in another order)."""
        if not self.signatures:
            return None
        before = self.signatures.split(",")
        now = [g.signature for g in groups]
        kept, known = set(now), set(before)
        if [s for s in before if s in kept] != [s for s in now if s in known]:
            return None
        touched = {bundle_of(g) for g in groups if g.signature not in known}
        table = self.table
        for gone in known - kept:  # its stored bundle's line, if it has one
            at = table.find(gone)
            while at >= 0:
                start = table.rfind("\n", 0, at) + 1
                end = table.find("\n", at)
                root, subject, scope, signed, _ = table[start : end if end >= 0 else None].split(
                    " "
                )
                if gone in signed.split(","):
                    touched.add((root, subject, scope))
                    break
                at = table.find(gone, at + 1)
        return touched

    def write(self, cache: Cache, index: DatasetIndex, drafts: bool) -> None:
        table, head, body = [], [], []
        for (root, subject, scope), (signed, pieces) in self.bundles.items():
            table.append(f"{root} {subject} {scope} {signed} {len(pieces)}")
            for place, kind, piece in pieces:
                head.append(f"{place.replace(chr(0), ' ')} {kind.value} {len(piece)}")
                body.append(piece)
        head = [self.whole, self.signatures, "\n".join(table), *head]
        cache.put_group(self._key(index, drafts), ";".join(head), b"".join(body))


def _decode(key: GroupKey, head: str, body: memoryview) -> list[Piece] | None:
    """A stored group result as pieces, or None when it is not what ``_encode`` writes."""
    pieces = []
    at = 0
    prefix = order_prefix(key)
    try:
        for item in head.split(";") if head else ():
            severity, name, first, size = item.split(" ")
            ranked, kind = _RANKS[severity, name]
            end = at + int(size)
            if not at < end <= len(body):
                return None
            pieces.append((ranked + prefix + first, kind, body[at:end]))  # engine.order
            at = end
    except (ValueError, KeyError):  # not four fields, not a number, not a kind
        return None
    return pieces if at == len(body) else None


# A header's severity and kind as the start of a conflict's place (engine.rank) and its kind: a
# dict lookup is several times faster than calling the enums.
_RANKS = {
    (str(int(severity)), kind.value): (rank(severity, kind), kind)
    for severity in Severity
    for kind in ConflictKind
}


def conflict_of(piece: bytes | memoryview) -> Conflict:
    """A conflict from its JSON (as ``conflict_json`` writes it), for the renderers of people's
    formats: its claims are rebuilt from their records."""
    data = json.loads(bytes(piece))
    key = GroupKey(
        data["metric"],
        _MEASURES[data["measure"]],
        data["subject"],
        data["scope"],
        data["unit_dimension"],
        data["goal"],
    )
    claims = tuple(Claim.from_dict(c) for c in data["claims"])
    return Conflict(
        ConflictKind(data["kind"]), _SEVERITIES[data["severity"]], key, claims, data["why"]
    )


_MEASURES = {m.value: m for m in Measure}
_SEVERITIES = {s.label: s for s in Severity}


class Report(Sequence[Conflict]):
    """The conflicts of a claims folder that a filter keeps, in the engine's order: each as its
    JSON, and as a ``Conflict`` when a renderer asks for one."""

    def __init__(self, tables: Tables, pieces: list[Piece]) -> None:
        self.tables = tables
        self.pieces = pieces
        self._conflicts: dict[int, Conflict] = {}

    def __len__(self) -> int:
        return len(self.pieces)

    def conflict(self, position: int) -> Conflict:
        found = self._conflicts.get(position)
        if found is None:
            found = self._conflicts[position] = conflict_of(self.pieces[position][2])
        return found

    def conflicts(self) -> Iterator[Conflict]:
        """Each conflict in order, decoded as it is asked for."""
        return (self.conflict(n) for n in range(len(self.pieces)))

    def tally(self) -> Tally:
        """How many conflicts of each kind, severity and metric (from their places in the
        report, ``engine.order``: nothing is decoded)."""
        found = Tally(Counter(), Counter(), Counter())
        for place, kind, _ in self.pieces:
            found.kinds[kind] += 1
            found.severities[_SEVERITY_OF[place[0]]] += 1
            found.metrics[place[3 : place.index("\0", 3)]] += 1
        return found

    @overload
    def __getitem__(self, position: int) -> Conflict: ...

    @overload
    def __getitem__(self, position: slice) -> list[Conflict]: ...

    def __getitem__(self, position: int | slice) -> Conflict | list[Conflict]:
        if isinstance(position, slice):
            return [self.conflict(n) for n in range(len(self.pieces))[position]]
        return self.conflict(range(len(self.pieces))[position])

    def __iter__(self) -> Iterator[Conflict]:
        return self.conflicts()

    def keep(self, wanted: Callable[[Conflict], bool]) -> None:
        """Keep only the conflicts ``wanted`` accepts."""
        kept = [n for n in range(len(self.pieces)) if wanted(self.conflict(n))]
        self._conflicts = {at: self._conflicts[n] for at, n in enumerate(kept)}
        self.pieces = [self.pieces[n] for n in kept]

    def chunks(self, shown: int | None = None) -> list[bytes | memoryview]:
        """The JSON report of the first ``shown`` conflicts (all when None) in UTF-8, as chunks
        to write one after another (joining 100 MB first would only copy it)."""
        chunks: list[bytes | memoryview] = [REPORT_HEAD.encode()]
        separator = REPORT_SEPARATOR.encode()
        for _, _, piece in self.pieces[:shown]:
            chunks += (piece, separator)
        if len(chunks) > 1:
            chunks.pop()  # the last separator
        chunks.append(REPORT_TAIL.encode())
        return chunks


def _signed(signature: str, drafts: bool) -> str:
    """A group result's cache key: with drafts compared, another result of the same group."""
    return signature + "+drafts" if drafts else signature


_SEVERITY_OF = {rank(severity, ConflictKind.INTERNAL)[0]: severity for severity in Severity}


def build(
    index: DatasetIndex,
    chosen: ClaimFilter,
    kinds: Collection[ConflictKind] = (),
    *,
    drafts: bool = False,
) -> Report:
    """The conflicts among every claim of the folder that ``chosen`` keeps (a conflict is kept
    when one of its claims matches), of the given kinds; the index's cache is closed.

    Only the groups that can hold a matching claim are read: a group's key decides the metric,
    topic and subject, and ``source`` needs a member from that source's files. A group's stored
    result is used when there is one for its signature (and the choice of ``drafts``);
    otherwise the group is compared and its result stored."""
    groups = [g for g in index.groups if chosen.matches_group(g.key, index.metrics)]
    if chosen.source:
        files = [f for f in index.files if f.source == chosen.source]
        texts = {text for f in files for text in f.texts() if text}
        groups = [g for g in groups if g.text in texts]
    cache = index.cache
    related = groups
    groups = [g for g in groups if g.size > 1]  # one claim alone never conflicts
    signed = [_signed(g.signature, drafts) for g in groups]
    stored = cache.get_groups(signed) if cache is not None else {}
    found: list[Piece] = []
    todo: list[tuple[Group, str]] = []
    for group, signature in zip(groups, signed, strict=True):
        result = stored.get(signature)
        pieces = _decode(group.key, *result) if result is not None else None
        if pieces is None:
            todo.append((group, signature))
        else:
            found.extend(pieces)
    for (group, signature), (head, body) in zip(
        todo, _spread(_group_result, index, [[g] for g, _ in todo], drafts), strict=True
    ):
        if cache is not None:
            cache.put_group(signature, head, body)
        pieces = _decode(group.key, head, memoryview(body))
        assert pieces is not None, "a result just encoded decodes"
        found.extend(pieces)
    found += _related(index, related, drafts, cache)
    index.close()
    found.sort(key=lambda piece: piece[0])
    wanted = set(kinds)
    report = Report(index, [p for p in found if not wanted or p[1] in wanted])
    if not chosen.by_group:
        report.keep(lambda conflict: any(chosen.matches(c, index) for c in conflict.claims))
    return report
