"""The conflicts report as JSON, built group by group so that an unchanged group is not compared
or encoded again.

A group's conflicts depend only on its key, its members' records in the dataset's order, and
what their records show of their source and metric (``records.source_details`` and
``records.metric_details``). Their hash keys the group's rendered conflicts in the cache; any
change to any of those inputs makes a new key, so a stored result is used only for the very
inputs it was computed from. Changed groups are compared again from their claims' records; the
report is then the conflicts of every group in the engine's order, byte for byte what
``render.jsonfmt.conflicts`` writes for the whole dataset.

A stored group result is a JSON header line, ``[[severity, kind, first claim id, bytes], ...]``,
then each conflict's JSON back to back, so a warm run decodes no conflict at all.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from kzhealth.cache import KEY_SIZE, content_key
from kzhealth.engine import ConflictKind, GroupKey, Severity, classify, order
from kzhealth.loader import DatasetIndex, Group
from kzhealth.render.jsonfmt import REPORT_HEAD, REPORT_SEPARATOR, REPORT_TAIL, conflict_json
from kzhealth.render.records import metric_details, source_details

Piece = tuple[tuple[int, int, str, str, str], ConflictKind, memoryview]

_SEPARATOR = "\x1e"  # between a signature's parts; no record's JSON contains it unescaped


def signatures(index: DatasetIndex) -> list[str]:
    """Each group's cache key: a hash of everything its conflicts are computed from."""
    sources = [
        json.dumps(source_details(index.sources.get(f.source)), ensure_ascii=False)
        for f in index.files
    ]
    metrics = {name: json.dumps(metric_details(m)) for name, m in index.metrics.items()}
    members = [
        [f.rows[at : at + KEY_SIZE] + details for at in range(0, len(f.rows), KEY_SIZE)]
        for f, details in zip(index.files, sources, strict=True)
    ]
    keys = []
    for group in index.groups:
        parts = [group.text, metrics.get(group.key.metric, "null")]
        parts += [members[f][p] for f, p in group.members]
        keys.append(content_key(_SEPARATOR.join(parts).encode()))
    return keys


def _encode(index: DatasetIndex, group: Group) -> bytes:
    """Compare one group's claims; its conflicts' header line and JSON."""
    encoded: dict[str, str] = {}
    header: list[list[Any]] = []
    pieces: list[bytes] = []
    for conflict in classify(group.key, index.claims(group.members)):
        piece = conflict_json(index, conflict, encoded).encode()
        header.append(
            [int(conflict.severity), conflict.kind.value, conflict.claims[0].id, len(piece)]
        )
        pieces.append(piece)
    return json.dumps(header).encode() + b"\n" + b"".join(pieces)


def _decode(key: GroupKey, body: bytes) -> list[Piece] | None:
    """A stored group result as pieces, or None when it is not what ``_encode`` writes."""
    cut = body.find(b"\n")
    head, rest = body[:cut], memoryview(body)[cut + 1 :]
    try:
        pieces = []
        at = 0
        for severity, name, first, size in json.loads(head):
            kind = _KINDS[name]
            if not (isinstance(first, str) and isinstance(size, int) and size > 0):
                return None
            end = at + size
            if end > len(rest):
                return None
            pieces.append((order(_SEVERITIES[severity], kind, key, first), kind, rest[at:end]))
            at = end
    except (ValueError, TypeError, KeyError):
        return None
    return pieces if at == len(rest) else None


# Value-to-member tables: a dict lookup is several times faster than calling the enum.
_KINDS = {kind.value: kind for kind in ConflictKind}
_SEVERITIES = {int(severity): severity for severity in Severity}


def conflicts_json(index: DatasetIndex, kinds: Collection[ConflictKind] = ()) -> bytes:
    """Every conflict in the dataset (of the given kinds) as the JSON report, in UTF-8."""
    cache = index.cache
    keys = signatures(index)
    stored = cache.get_groups(keys) if cache is not None else {}
    found: list[Piece] = []
    for group, signature in zip(index.groups, keys, strict=True):
        body = stored.get(signature)
        pieces = _decode(group.key, body) if body is not None else None
        if pieces is None:
            body = _encode(index, group)
            if cache is not None:
                cache.put_group(signature, body)
            pieces = _decode(group.key, body)
            assert pieces is not None, "a result just encoded decodes"
        found.extend(pieces)
    if cache is not None:
        cache.close(files_in_use=2 * len(index.files) + 2, groups_in_use=len(index.groups))
    wanted = set(kinds)
    found.sort(key=lambda piece: piece[0])
    chosen = [piece for _, kind, piece in found if not wanted or kind in wanted]
    separator = REPORT_SEPARATOR.encode()
    return REPORT_HEAD.encode() + separator.join(chosen) + REPORT_TAIL.encode()
