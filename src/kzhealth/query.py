"""Filters shared by every listing command."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from kzhealth.engine import Conflict, ConflictKind, GroupKey
from kzhealth.model import Claim, Metric, Topic
from kzhealth.records import Tables


@dataclass(frozen=True, slots=True)
class ClaimFilter:
    """Keep claims matching every given field; ``search`` looks in id, metric, figure and quote."""

    source: str | None = None
    metric: str | None = None
    topic: Topic | None = None
    subject: str | None = None
    search: str | None = None

    def matches(self, claim: Claim, dataset: Tables) -> bool:
        if self.source and claim.source != self.source:
            return False
        if self.metric and claim.metric != self.metric:
            return False
        if self.topic:
            metric = dataset.metrics.get(claim.metric)  # a draft may have none yet
            if metric is None or metric.topic is not self.topic:
                return False
        if self.subject and not _within(claim.subject, self.subject):
            return False
        if self.search:
            needle = self.search.casefold()
            haystack = " ".join(
                (claim.id, claim.metric, claim.figure, claim.quote, claim.note or "")
            )
            return needle in haystack.casefold()
        return True

    @property
    def by_group(self) -> bool:
        """Whether a group's key decides the filter for all its claims: they share its metric
        (so its topic) and subject, but not their source or their text."""
        return self.source is None and self.search is None

    @property
    def keeps_every_group(self) -> bool:
        """Whether ``matches_group`` keeps every group: no metric, topic or subject is asked
        for."""
        return not (self.metric or self.topic or self.subject)

    def matches_group(self, key: GroupKey, metrics: Mapping[str, Metric]) -> bool:
        """For a ``by_group`` filter: whether the claims of the group with this key match (then
        its conflicts are kept, as ``conflicts`` keeps them)."""
        if self.metric and key.metric != self.metric:
            return False
        if self.topic:
            metric = metrics.get(key.metric)
            if metric is None or metric.topic is not self.topic:
                return False
        return not self.subject or _within(key.subject, self.subject)

    def conflicts(
        self, conflicts: Iterable[Conflict], dataset: Tables, kinds: Iterable[ConflictKind] = ()
    ) -> list[Conflict]:
        """Conflicts with at least one matching claim; every claim of a kept conflict stays."""
        wanted = set(kinds)
        return [
            c
            for c in conflicts
            if (not wanted or c.kind in wanted) and any(self.matches(m, dataset) for m in c.claims)
        ]


class ClaimTally(NamedTuple):
    """What a listing's summary says: how many sources its claims come from, and how many
    claims each metric has (in the order the metrics are first met)."""

    sources: int
    metrics: Counter[str]


def claim_tally(claims: Sequence[Claim]) -> ClaimTally:
    return ClaimTally(len({c.source for c in claims}), Counter(c.metric for c in claims))


def _within(subject: str, wanted: str) -> bool:
    """A jurisdiction and the regions in it: KZ matches KZ and KZ-ALA."""
    return subject == wanted or subject.startswith(f"{wanted}-")
