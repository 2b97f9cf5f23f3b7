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
relations, which link groups, are stored per folder in shards (``_Related``). A cold run
compares on every core (``store.cores``).

Every format renders the same ``Report``: JSON writes its conflicts' JSON as it is, the other
formats decode each conflict as they print it.
"""

from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar, overload

from xxhash import xxh3_64_intdigest

from kzhealth.engine import (
    Conflict,
    ConflictKind,
    GroupKey,
    Severity,
    Tally,
    classify,
    kind_of,
    metric_subject_scope,
    order,
    order_prefix,
    rank,
)
from kzhealth.model import Claim, Measure, Metric
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

    The folder's relations are stored in shards (``_Related``). An unchanged folder takes them
    all at once. Otherwise a shard whose groups are those stored is taken as it is, and in the
    others each bundle whose groups' signatures are those stored is taken; the rest are
    compared again, and the shards that changed are stored again. Some groups only are served
    by ``_related_to``."""
    if not index.groups:
        return []
    every = len(chosen) == len(index.groups)
    folder = _Related.key(index, drafts)
    if not every:
        return _related_to(index, chosen, drafts, cache, folder)
    every_signature = ",".join([g.signature for g in index.groups])
    whole = content_key(f"arithmetic-all\x1e{every_signature}".encode())
    stored = _Related.read(cache, folder)
    if stored.complete and stored.whole == whole:  # unchanged since stored
        return stored.pieces()
    bundle_of = _namer(index.metrics)
    found = _Related(whole)
    todo: dict[int, dict[Bundle, list[Group]]] = defaultdict(lambda: defaultdict(list))
    members = stored.stored_members()
    for number, groups in _by_shard(index.groups, members, bundle_of).items():
        found.members[number] = signatures = [g.signature for g in groups]
        before = stored.shards.get(number)
        if before is not None and signatures == members.get(number):
            found.shards[number] = before
            continue
        for group in groups:
            todo[number][bundle_of(group)].append(group)
    _compare(index, drafts, stored, todo, found)
    if cache is not None:
        found.write(cache, folder, stored)
    return found.pieces()


def _related_to(
    index: DatasetIndex, chosen: list[Group], drafts: bool, cache: Cache | None, folder: str
) -> list[Piece]:
    """``_related`` for some groups only (a filtered report): the bundles that hold one,
    taken from their shards as stored when their groups are unchanged; nothing is stored."""
    bundle_of = _namer(index.metrics)
    wanted = {bundle_of(g) for g in chosen}
    todo: dict[int, dict[Bundle, list[Group]]] = defaultdict(lambda: defaultdict(list))
    for group in index.groups:
        name = bundle_of(group)
        if name in wanted:
            todo[_shard_of(name)][name].append(group)
    found = _Related()
    _compare(index, drafts, _Related.read(cache, folder, todo.keys()), todo, found)
    return found.pieces()


def _compare(
    index: DatasetIndex,
    drafts: bool,
    stored: _Related,
    todo: dict[int, dict[Bundle, list[Group]]],
    found: _Related,
) -> None:
    """Each shard of ``todo`` into ``found``: a bundle whose groups' signatures are those
    stored is taken from ``stored``; the others that may relate are compared."""
    relates = _relating(index.metrics)
    kept: dict[int, dict[Bundle, tuple[str, list[Piece]]]] = {}  # the shards made again
    hashes: dict[int, str] = {}
    jobs: list[tuple[int, Bundle, str, list[Group]]] = []  # to compare
    for number, bundles in todo.items():
        lines = {name: ",".join([g.signature for g in groups]) for name, groups in bundles.items()}
        hashes[number] = _Shard.signed_of(lines)
        before = stored.shards.get(number)
        known = before.bundles() if before is not None else {}
        taken = kept[number] = {}
        for name, signatures in lines.items():
            line = known.get(name)
            if line is not None and line[0] == signatures:
                taken[name] = line
            elif relates([g.key for g in bundles[name]]):
                taken[name] = (signatures, [])  # its place in the shard, filled in below
                jobs.append((number, name, signatures, bundles[name]))
    results = _spread(_bundle_result, index, [groups for *_, groups in jobs], drafts)
    for (number, name, signatures, _), sent in zip(jobs, results, strict=True):
        view, at, pieces = memoryview(b"".join(piece for _, _, piece in sent)), 0, []
        for place, kind, piece in sent:
            pieces.append((place, ConflictKind(kind), view[at : at + len(piece)]))
            at += len(piece)
        kept[number][name] = (signatures, pieces)
    for number, taken in kept.items():
        found.shards[number] = _Shard.of(hashes[number], taken)


Bundle = tuple[str, str, str]  # relations.bundle_key: a metric's root, a subject, a scope


def _namer(metrics: dict[str, Metric]) -> Callable[[Group], Bundle]:
    """A group's bundle (``relations.bundle_key``), from its key's text."""
    from kzhealth.relations import root_of  # noqa: PLC0415 - only when a bundle may be compared

    roots: dict[str, str] = {}

    def bundle_of(group: Group) -> Bundle:
        metric, subject, scope = metric_subject_scope(group.text)
        root = roots.get(metric)
        if root is None:
            root = roots[metric] = root_of(metric, metrics)
        return root, subject, scope

    return bundle_of


def _by_shard(
    groups: list[Group], members: dict[int, list[str]], bundle_of: Callable[[Group], Bundle]
) -> dict[int, list[Group]]:
    """The groups by shard, in the folder's order: a group stored before is in the shard it
    was stored in (``members``: its signature names its key, so its bundle); another, where its
    bundle's name falls (``_shard_of``)."""
    where = {signature: n for n, signatures in members.items() for signature in signatures}
    shards: dict[int, list[Group]] = defaultdict(list)
    for group in groups:
        number = where.get(group.signature)
        if number is None:
            number = _shard_of(bundle_of(group))
        shards[number].append(group)
    return shards


def _relating(metrics: dict[str, Metric]) -> Callable[[list[GroupKey]], bool]:
    """``relations.may_relate`` over these metrics, remembered for single groups by metric
    and measure (most bundles hold one group)."""
    from kzhealth.relations import may_relate  # noqa: PLC0415 - only when a bundle may be compared

    alone: dict[tuple[str, str], bool] = {}

    def relates(keys: list[GroupKey]) -> bool:
        if len(keys) > 1:
            return may_relate(keys, metrics)
        found = alone.get((keys[0].metric, keys[0].measure))
        if found is None:
            found = alone[keys[0].metric, keys[0].measure] = may_relate(keys, metrics)
        return found

    return relates


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


SHARDS = 64  # the rows a folder's relations are stored in: an edit writes one or two again


def _shard_of(name: Bundle) -> int:
    """The shard a bundle is stored in: a hash of its name (the same in every run)."""
    return xxh3_64_intdigest("\x1e".join(name).encode()) % SHARDS


@dataclass(repr=False, eq=False)
class _Shard:
    """The bundles of a folder that fall in one shard (``_shard_of``) and may relate: a hash of
    every bundle's name and members' signatures in the shard (``signed_of``), each bundle's
    line (``root subject scope signature,signature... conflicts``), and their conflicts, bundle
    after bundle, in the bundles' order."""

    signed: str
    table: str
    pieces: list[Piece]

    @staticmethod
    def signed_of(lines: dict[Bundle, str]) -> str:
        """The hash of a shard's bundles (in the folder's order) and their members'
        signatures."""
        text = "\n".join(f"{' '.join(name)} {members}" for name, members in lines.items())
        return content_key(f"arithmetic-shard\x1e{text}".encode())

    @staticmethod
    def of(signed: str, bundles: dict[Bundle, tuple[str, list[Piece]]]) -> _Shard:
        table = "\n".join(
            f"{' '.join(name)} {members} {len(pieces)}"
            for name, (members, pieces) in bundles.items()
        )
        return _Shard(signed, table, [piece for _, pieces in bundles.values() for piece in pieces])

    def bundles(self) -> dict[Bundle, tuple[str, list[Piece]]]:
        """Each bundle's members' signatures and conflicts; none when the table does not
        match the conflicts."""
        found: dict[Bundle, tuple[str, list[Piece]]] = {}
        at = 0
        try:
            for line in self.table.split("\n") if self.table else ():
                root, subject, scope, members, count = line.split(" ")
                end = at + int(count)
                found[root, subject, scope] = (members, self.pieces[at:end])
                at = end
        except ValueError:  # not the fields written, not a number
            return {}
        return found if at == len(self.pieces) else {}

    @staticmethod
    def read(signed: str, head: str, body: memoryview) -> _Shard | None:
        """A shard from its stored form: its table, then each conflict as ``rank metric
        subject first-claim-id kind bytes`` (its place in the report, ``engine.order``), ";"
        between; the body holds the conflicts' JSON. None when it is not that."""
        pieces: list[Piece] = []
        at = 0
        try:
            table, *items = head.split(";")
            for item in items:
                ranked, metric, subject, first, name, size = item.split(" ")
                kind = ConflictKind(name)
                end = at + int(size)
                if not at < end <= len(body):
                    return None
                pieces.append((f"{ranked}\0{metric}\0{subject}\0{first}", kind, body[at:end]))
                at = end
        except ValueError:  # not the fields written, not a number, not a kind
            return None
        return _Shard(signed, table, pieces) if at == len(body) else None

    def stored(self) -> tuple[str, bytes]:
        items = [
            f"{place.replace(chr(0), ' ')} {kind.value} {len(piece)}"
            for place, kind, piece in self.pieces
        ]
        return ";".join([self.table, *items]), b"".join(piece for _, _, piece in self.pieces)


class _Related:
    """A folder's stored relations: the hash of every group's signature they were found for
    (``whole``; empty when not known), their shards (``_Shard``) by number, and the signatures
    of each shard's groups in the folder's order (``members``).

    Stored as group results are (``Cache.put_group``): a manifest, under a hash of the folder's
    location, the choice of drafts and what the metrics declare (``part_of``), whose header
    holds the whole hash and every shard's hash (empty for a shard with no bundle), and whose
    body each shard's members (a line each, "," between); and each shard under the manifest's
    key and its own hash. An unchanged folder reads the conflicts alone."""

    def __init__(self, whole: str = "", members_body: memoryview | None = None) -> None:
        self.whole = whole
        self.shards: dict[int, _Shard] = {}
        self.complete = False  # every shard the manifest names was read
        self.members: dict[int, list[str]] = {}
        self._members_body = members_body  # the manifest's body: read by stored_members

    @staticmethod
    def key(index: DatasetIndex, drafts: bool) -> str:
        """The key of the folder's manifest."""
        declared = sorted(f"{m.id}<{m.part_of}" for m in index.metrics.values() if m.part_of)
        parts = [os.fsencode(index.root.resolve()), b"drafts" if drafts else b""]
        parts += [d.encode() for d in declared]
        return content_key(b"\x1e".join([b"arithmetic-folder", *parts]))

    @staticmethod
    def _shard_key(folder: str, signed: str) -> str:
        return content_key(f"arithmetic-shard\x1e{folder}\x1e{signed}".encode())

    @staticmethod
    def read(cache: Cache | None, folder: str, numbers: Collection[int] | None = None) -> _Related:
        """The folder's stored relations: the shards its manifest names (those of these
        ``numbers`` only, unless None) that were found and decode; none without a
        manifest."""
        manifest = cache.get_groups([folder]).get(folder) if cache is not None else None
        if cache is None or manifest is None:
            return _Related()
        whole, _, listed = manifest[0].partition(";")
        hashes = listed.split(",")
        if len(hashes) != SHARDS:
            return _Related()
        keys = {n: _Related._shard_key(folder, h) for n, h in enumerate(hashes) if h}
        if numbers is not None:
            keys = {n: key for n, key in keys.items() if n in numbers}
        rows = cache.get_groups(list(keys.values()))
        found = _Related(whole, manifest[1])
        for number, key in keys.items():
            row = rows.get(key)
            shard = _Shard.read(hashes[number], *row) if row is not None else None
            if shard is not None:
                found.shards[number] = shard
        found.complete = len(found.shards) == len(keys)
        return found

    def stored_members(self) -> dict[int, list[str]]:
        """Each stored shard's members; none when they are not as written."""
        if self._members_body is None:
            return {}
        try:
            lines = bytes(self._members_body).decode("ascii").split("\n")
        except UnicodeDecodeError:
            return {}
        if len(lines) != SHARDS:
            return {}
        return {n: line.split(",") for n, line in enumerate(lines) if line}

    def pieces(self) -> list[Piece]:
        return [piece for shard in self.shards.values() for piece in shard.pieces]

    def write(self, cache: Cache, folder: str, stored: _Related) -> None:
        """Store the shards not stored as they are, and the manifest."""
        for number, shard in self.shards.items():
            if stored.shards.get(number) is not shard:
                cache.put_group(self._shard_key(folder, shard.signed), *shard.stored())
        hashes = [self.shards[n].signed if n in self.shards else "" for n in range(SHARDS)]
        members = [",".join(self.members.get(n, ())) for n in range(SHARDS)]
        head = f"{self.whole};{','.join(hashes)}"
        cache.put_group(folder, head, "\n".join(members).encode("ascii"))


def _decode(group: Group, head: str, body: memoryview) -> list[Piece] | None:
    """A stored group result as pieces, or None when it is not what ``_encode`` writes."""
    pieces = []
    at = 0
    metric, subject, _ = metric_subject_scope(group.text)
    prefix = order_prefix(metric, subject)
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
    groups = index.groups
    if not chosen.keeps_every_group:
        groups = [g for g in groups if chosen.matches_group(g.key, index.metrics)]
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
        pieces = _decode(group, *result) if result is not None else None
        if pieces is None:
            todo.append((group, signature))
        else:
            found.extend(pieces)
    for (group, signature), (head, body) in zip(
        todo, _spread(_group_result, index, [[g] for g, _ in todo], drafts), strict=True
    ):
        if cache is not None:
            cache.put_group(signature, head, body)
        pieces = _decode(group, head, memoryview(body))
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
