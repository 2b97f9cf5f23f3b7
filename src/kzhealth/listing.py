"""The claims a filter keeps, from a claims folder's index: counted from the index, and read
file by file as a renderer asks for them, so that a long listing starts printing at once.

A claim's group key (``engine.key_text``) names its metric and subject, which decide every
filter but ``--search`` (the source is its file's). A file with a claim that is not compared (a
draft with no metric, a deprecated claim) has no key for it and is read whole, as is every file
for ``--search``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from itertools import islice
from typing import overload

from kzhealth.engine import key_metric, parse_key
from kzhealth.model import Claim
from kzhealth.query import ClaimFilter, ClaimTally
from kzhealth.store.index import DatasetIndex


class Listing(Sequence[Claim]):
    """The claims of a folder that ``chosen`` keeps, in the folder's order."""

    def __init__(self, index: DatasetIndex, chosen: ClaimFilter) -> None:
        self.folder = index
        self._kept: list[tuple[int, list[int]]] = []  # each file's number, its claims kept
        self._read: dict[int, list[Claim]] = {}  # files read whole to choose their claims
        self._metrics: Counter[str] = Counter()
        sources = set()
        matches: dict[str, bool] = {}  # by group key: whether its claims match
        for f, file in enumerate(index.files):
            if chosen.source and file.source != chosen.source:
                continue
            texts = file.texts()
            if chosen.search or not all(texts):
                claims = index.file_claims(f)
                kept = [p for p, c in enumerate(claims) if chosen.matches(c, index)]
                self._metrics.update(claims[p].metric for p in kept)
                if kept:
                    self._read[f] = claims
            elif chosen.keeps_every_group:  # no key decides: no key is read
                kept = list(range(len(texts)))
                self._metrics.update(map(key_metric, texts))
            else:
                kept = []
                for p, text in enumerate(texts):
                    match = matches.get(text)
                    if match is None:
                        key = parse_key(text)
                        match = key is not None and chosen.matches_group(key, index.metrics)
                        matches[text] = match
                    if match:
                        kept.append(p)
                self._metrics.update(key_metric(texts[p]) for p in kept)
            if kept:
                self._kept.append((f, kept))
                sources.add(file.source)
        self._sources = len(sources)
        self._count = sum(len(kept) for _, kept in self._kept)

    def tally(self) -> ClaimTally:
        return ClaimTally(self._sources, self._metrics)

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[Claim]:
        for f, kept in self._kept:
            claims = self._read.pop(f, None) or self.folder.file_claims(f)
            yield from (claims[p] for p in kept)

    @overload
    def __getitem__(self, position: int) -> Claim: ...

    @overload
    def __getitem__(self, position: slice) -> list[Claim]: ...

    def __getitem__(self, position: int | slice) -> Claim | list[Claim]:
        if isinstance(position, slice):
            start, stop, step = position.indices(self._count)
            return list(islice(self, start, stop, step)) if step > 0 else list(self)[position]
        at = range(self._count)[position]
        return next(islice(self, at, None))
