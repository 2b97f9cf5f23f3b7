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
joined by ``;``, and a body, each conflict's JSON back to back (in a pack file the run maps:
``kzhealth.cache``): a warm run decodes no conflict, it only puts them in order, and writes
them from the mapped file.

With a filter (``conflicts_of``), only the groups that can hold a matching claim are compared,
from their claims, for any renderer.
"""

from __future__ import annotations

from collections.abc import Collection

from kzhealth.engine import (
    Conflict,
    ConflictKind,
    GroupKey,
    Severity,
    classify,
    in_order,
    order,
    order_prefix,
    rank,
)
from kzhealth.index import DatasetIndex, Group
from kzhealth.query import ClaimFilter
from kzhealth.render.jsonfmt import REPORT_HEAD, REPORT_SEPARATOR, REPORT_TAIL, conflict_json

Piece = tuple[str, ConflictKind, memoryview]  # its place (engine.order), kind and JSON


def _encode(index: DatasetIndex, group: Group) -> tuple[str, bytes, list[Piece]]:
    """Compare one group's claims: its stored form (a header line; each conflict's JSON back to
    back) and its pieces, as views of that form (each conflict's bytes are kept once)."""
    encoded: dict[str, str] = {}
    header: list[str] = []
    pieces: list[bytes] = []
    places: list[tuple[str, ConflictKind]] = []
    for conflict in classify(group.key, index.records(group)):
        piece = conflict_json(index, conflict, encoded).encode()
        first = conflict.claims[0].id  # an id has no space, ";" or newline (schema.SLUG)
        header.append(f"{int(conflict.severity)} {conflict.kind.value} {first} {len(piece)}")
        pieces.append(piece)
        places.append((order(conflict.severity, conflict.kind, group.key, first), conflict.kind))
    body = b"".join(pieces)
    view, at, found = memoryview(body), 0, []
    for (where, kind), piece in zip(places, pieces, strict=True):
        found.append((where, kind, view[at : at + len(piece)]))
        at += len(piece)
    return ";".join(header), body, found


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


def conflicts_of(
    index: DatasetIndex, chosen: ClaimFilter, kinds: Collection[ConflictKind] = ()
) -> list[Conflict]:
    """What ``ClaimFilter.conflicts`` keeps of ``find_conflicts`` over every claim (of the given
    kinds), in the engine's order, for any renderer - from the groups that can hold a matching
    claim, compared from their claims; other groups are not read. A group's key decides the
    metric, topic and subject; ``source`` needs a member from that source's files, and then a
    conflict is kept if any of its claims is from it. A text search needs every claim."""
    assert chosen.search is None, "a text search needs every claim (load_dataset)"
    texts = None
    if chosen.source:
        files = [f for f in index.files if f.source == chosen.source]
        texts = {text for f in files for text in f.texts() if text}
    found = []
    for group in index.groups:
        if not chosen.matches_group(group.key, index.metrics):
            continue
        if texts is not None and group.text not in texts:
            continue
        found += classify(group.key, index.records(group))
    index.close()
    return chosen.conflicts(in_order(found), index, kinds)


def conflicts_json(
    index: DatasetIndex, kinds: Collection[ConflictKind] = (), chosen: ClaimFilter | None = None
) -> list[bytes | memoryview]:
    """Every conflict in the dataset (of the given kinds, in the groups a ``by_group`` filter
    keeps): the JSON report in UTF-8, as chunks to write one after another (joining 100 MB first
    would only copy it). Groups the filter leaves out are neither read nor compared."""
    cache = index.cache
    groups = index.groups
    if chosen is not None:
        assert chosen.by_group, "claim-level filters need the claims (load_dataset)"
        groups = [g for g in groups if chosen.matches_group(g.key, index.metrics)]
    stored = cache.get_groups([g.signature for g in groups]) if cache is not None else {}
    found: list[Piece] = []
    for group in groups:
        result = stored.get(group.signature)
        pieces = _decode(group.key, *result) if result is not None else None
        if pieces is None:
            head, body, pieces = _encode(index, group)  # may correct a damaged signature
            if cache is not None:
                cache.put_group(group.signature, head, body)
        found.extend(pieces)
    index.close()
    wanted = set(kinds)
    found.sort(key=lambda piece: piece[0])
    chunks: list[bytes | memoryview] = [REPORT_HEAD.encode()]
    separator = REPORT_SEPARATOR.encode()
    for _, kind, piece in found:
        if not wanted or kind in wanted:
            chunks += (piece, separator)
    if len(chunks) > 1:
        chunks.pop()  # the last separator
    chunks.append(REPORT_TAIL.encode())
    return chunks
