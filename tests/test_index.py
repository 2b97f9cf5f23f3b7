"""The conflicts report from the cache (index, snapshot, stored groups) against the same report
computed from scratch, through edits of every kind and a damaged cache."""

from __future__ import annotations

import contextlib
import gc
import importlib.util
import json
import os
import re
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgpack
import pytest

from helpers import claim, report_json, resigned, run, write_dataset
from kzhealth import relations
from kzhealth.engine import (
    Conflict,
    ConflictKind,
    claim_key_text,
    group_key,
    key_text,
    metric_subject_scope,
    parse_key,
)
from kzhealth.loader import (
    Dataset,
    check_folder,
    claim_files,
    load_dataset,
)
from kzhealth.model import Claim, Measure, Metric, Status, Topic
from kzhealth.query import ClaimFilter
from kzhealth.relations import bundle_key, find_conflicts
from kzhealth.render import Renderer, jsonfmt, renderer
from kzhealth.report import _Related, _shard_of
from kzhealth.store import cores, index
from kzhealth.store.cache import DATABASE, Cache, body_checksum, group_checksum
from kzhealth.store.files import CachedFiles, Parsed, parsed
from kzhealth.store.index import load_index

GENERATE = Path(__file__).parents[1] / "benchmarks" / "generate.py"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic folder of 600 claims in 24 files, dense with conflicts of every kind."""
    spec = importlib.util.spec_from_file_location("generate", GENERATE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path_factory.mktemp("generated")
    module.generate(600, out)
    return out / "claims"


SETTLED = 0.05  # seconds: index.SETTLED_NS in these tests, so that they need not wait 3 s


@pytest.fixture
def folder(generated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the generated folder, settled: its files last changed long enough before the
    first run for it to record their stamps (``index._read``)."""
    copied = Path(shutil.copytree(generated, tmp_path / "claims"))
    monkeypatch.setattr(index, "SETTLED_NS", int(SETTLED * 1e9))
    time.sleep(SETTLED * 1.5)
    return copied


@pytest.fixture(params=["stamped", "never-stamped"])
def stamps(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Unchanged files known by their stamps, and read every time (files that always changed
    just before the run)."""
    if request.param == "never-stamped":
        monkeypatch.setattr(index, "SETTLED_NS", 10**18)
    return str(request.param)


def report(root: Path, cache_dir: Path, *extra: str) -> tuple[int, str, str]:
    env = {"KZHEALTH_CACHE_DIR": str(cache_dir)}
    result = run("conflicts", "-f", "json", "--claims", str(root), *extra, env=env)
    return result.exit_code, result.stdout, result.stderr


def same_as_from_scratch(root: Path, cache_dir: Path, *extra: str) -> tuple[int, str, str]:
    """The report from the cache, asserted equal to the report computed without it and to the
    engine's conflicts over every claim of the folder loaded whole, filtered as ``extra`` says."""
    cached = report(root, cache_dir, *extra)
    assert cached == report(root, cache_dir, "--no-cache", *extra)
    if cached[0] == 0:
        assert cached[1] == engine_report(root, *extra)
    return cached


def engine_report(root: Path, *options: str, renderer: Renderer = jsonfmt) -> str:
    """The report of ``find_conflicts`` over ``load_dataset``, with the CLI's filters."""
    given: dict[str, Any] = {}
    kinds = []
    for name, value in zip(options[::2], options[1::2], strict=True):
        if name == "--kind":
            kinds.append(ConflictKind(value))
        elif name == "--topic":
            given["topic"] = Topic(value)
        else:
            given[name.removeprefix("--")] = value.upper() if name == "--subject" else value
    dataset = load_dataset(root)
    kept = ClaimFilter(**given).conflicts(
        find_conflicts(dataset.claims, dataset.metrics), dataset, kinds
    )
    output = renderer.conflicts(dataset, kept)
    assert isinstance(output, str)
    return output


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text("utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, count), "utf-8")


def claims_files(root: Path) -> list[Path]:
    return sorted(p for p in root.glob("src-*.yaml"))


# Each step changes the folder as a curator might; the report must follow it exactly.
def _qualifier(root: Path) -> None:
    edit(claims_files(root)[3], "qualifier: exact", "qualifier: about")


def _period(root: Path) -> None:
    path = claims_files(root)[5]
    year = re.search(r"period: (\d{4})\n", path.read_text("utf-8"))
    assert year is not None
    edit(path, f"period: {year[1]}\n", f"period: {int(year[1]) - 1}\n")


def _value_in_many_files(root: Path) -> None:
    for path in claims_files(root)[::2]:
        edit(path, "qualifier: exact", "qualifier: nearly")


def _new_file(root: Path) -> None:
    text = claims_files(root)[0].read_text("utf-8")
    text = re.sub(r"id: c(\d+)", r"id: n\1", text).replace("source: src-00000", "source: new")
    (root / "new-source.yaml").write_text(text, "utf-8")
    edit(root / "sources.yaml", "sources:\n", "sources:\n" + _source("new"))


def _source(sid: str) -> str:
    return (
        f"  - id: {sid}\n    title: A new source\n    short: New\n    published: 2025-06\n"
        f"    file: {sid}.txt\n    sha256: {'0' * 64}\n    jurisdiction: KZ\n    kind: news\n"
    )


def _removed_file(root: Path) -> None:
    claims_files(root)[7].unlink()


def _renamed_file(root: Path) -> None:
    path = claims_files(root)[9]
    path.rename(root / f"zz-{path.name}")


def _source_title(root: Path) -> None:
    edit(root / "sources.yaml", "short: Source 2\n", "short: Source two\n")


def _metric_topic(root: Path) -> None:
    edit(root / "metrics.yaml", "topic: health_outcomes", "topic: pharma")


def _comment_only(root: Path) -> None:
    path = claims_files(root)[1]
    path.write_text(path.read_text("utf-8") + "# reviewed\n", "utf-8")


STEPS: dict[str, Callable[[Path], None]] = {
    "qualifier": _qualifier,
    "period": _period,
    "many_files": _value_in_many_files,
    "new_file": _new_file,
    "removed_file": _removed_file,
    "renamed_file": _renamed_file,
    "source_title": _source_title,
    "metric_topic": _metric_topic,
    "comment_only": _comment_only,
}


@pytest.mark.usefixtures("stamps")
def test_every_kind_of_edit_gives_the_report_computed_from_scratch(
    folder: Path, tmp_path: Path
) -> None:
    cache_dir = tmp_path / "cache"
    first = same_as_from_scratch(folder, cache_dir)
    assert first[0] == 0 and first[1].count('"kind": ') > 50
    outputs = {first[1]}
    for name, step in STEPS.items():
        step(folder)
        code, stdout, stderr = same_as_from_scratch(folder, cache_dir)
        assert code == 0, (name, stderr)
        outputs.add(stdout)
        assert same_as_from_scratch(folder, cache_dir)[1] == stdout, name  # and warm again
    assert len(outputs) >= len(STEPS) - 1  # the steps change the report (a comment does not)


@pytest.mark.parametrize("kind", ["recycled", "different_period"])
def test_kind_filter_and_output_file_match_the_full_path(
    folder: Path, tmp_path: Path, kind: str
) -> None:
    cache_dir = tmp_path / "cache"
    same_as_from_scratch(folder, cache_dir)
    code, stdout, _ = same_as_from_scratch(folder, cache_dir, "--kind", kind)
    assert code == 0 and f'"kind": "{kind}"' in stdout
    assert all(k == kind for k in re.findall(r'"kind": "(\w+)"', stdout))
    target = tmp_path / "report.json"
    env = {"KZHEALTH_CACHE_DIR": str(cache_dir)}
    written = run("conflicts", "-f", "json", "--claims", str(folder), "-o", str(target), env=env)
    assert written.exit_code == 0
    assert target.read_text("utf-8") == report(folder, cache_dir, "--no-cache")[1]


@pytest.mark.parametrize(
    "filters",
    [
        ("--metric", "metric_o"),
        ("--subject", "KZ"),  # the country and every region in it
        ("--subject", "kz-ala"),
        ("--topic", "workforce"),
        ("--metric", "metric_a", "--subject", "KZ-AKM", "--kind", "different_period"),
        ("--metric", "metric_z"),  # unknown: the same error, exit code 2
        ("--source", "src-00003"),  # the conflicts with a claim of this source, in any group
        ("--metric", "metric_a", "--source", "src-00001", "--kind", "recycled"),
        ("--source", "src-nope"),  # unknown: the same error, exit code 2
        ("--search", "KZ-ALA"),  # a text search: every claim is loaded
    ],
)
def test_group_filters_match_the_full_path(
    folder: Path, tmp_path: Path, filters: tuple[str, ...]
) -> None:
    """Metric, subject and topic are the same for every claim of a group: the report keeps a
    group's conflicts or not by its key, without reading or comparing any other group. A
    source's conflicts come from the groups its claims are in."""
    cache_dir = tmp_path / "cache"
    everything = same_as_from_scratch(folder, cache_dir)[1]
    code, stdout, stderr = same_as_from_scratch(folder, cache_dir, *filters)
    if "metric_z" in filters or "src-nope" in filters:
        assert code == 2 and "unknown" in stderr
        return
    assert code == 0 and '"kind"' in stdout
    assert len(stdout) < len(everything) or filters == ("--subject", "KZ")  # every subject is
    if "--source" in filters:  # each conflict kept has a claim of that source
        source = filters[filters.index("--source") + 1]
        kept = json.loads(stdout)["conflicts"]
        assert kept and all(any(c["source"] == source for c in k["claims"]) for k in kept)


@pytest.mark.parametrize("fmt", ["table", "csv", "markdown"])
@pytest.mark.parametrize(
    "filters",
    [
        ("--metric", "metric_o"),
        ("--subject", "KZ-ALA", "--kind", "recycled"),
        ("--source", "src-00003"),
    ],
)
def test_group_filters_in_every_format_match_the_full_path(
    folder: Path, tmp_path: Path, fmt: str, filters: tuple[str, ...]
) -> None:
    """Tables, CSV and Markdown of the groups a group filter keeps: compared from the cache's
    records, the same as from every claim."""
    env = {"KZHEALTH_CACHE_DIR": str(tmp_path / "cache")}
    args = ("conflicts", "--claims", str(folder), "-f", fmt, *filters)
    outputs = []
    for extra in ((), ("--no-cache",), ()):  # cold, from scratch, warm
        result = run(*args, *extra, env=env)
        outputs.append((result.exit_code, result.stdout, result.stderr))
    assert outputs[0] == outputs[1] == outputs[2]
    assert outputs[0][0] == 0 and len(outputs[0][1]) > 200
    if fmt != "table":  # the engine's conflicts over the folder loaded whole, rendered alike
        assert outputs[0][1] == engine_report(folder, *filters, renderer=renderer(fmt))


def test_an_unknown_metric_still_caches_the_run(folder: Path, tmp_path: Path) -> None:
    """A mistyped --metric on an empty cache fails, and what the run parsed is kept."""
    cache_dir = tmp_path / "cache"
    assert report(folder, cache_dir, "--metric", "metric_z")[0] == 2
    files = len(claims_files(folder))
    kept = Cache(cache_dir)
    assert (kept.count("entries"), kept.count("snapshots")) == (2 * files + 2, 1)


def test_errors_after_a_warm_run_read_as_from_scratch(folder: Path, tmp_path: Path) -> None:
    """Errors made after everything is cached (and snapshotted) are reported in full."""
    cache_dir = tmp_path / "cache"
    same_as_from_scratch(folder, cache_dir)
    files = claims_files(folder)
    edit(files[2], "id: c0000050", "id: c0000001")  # a duplicate id across files
    edit(files[4], "metric: metric_", "metric: metrik_")  # an unknown metric
    code, _, stderr = same_as_from_scratch(folder, cache_dir)
    assert code == 2
    assert "duplicate claim id 'c0000001'" in stderr and "unknown metric 'metrik_" in stderr
    edit(files[2], "id: c0000001", "id: c0000050")
    edit(files[4], "metric: metrik_", "metric: metric_")
    assert same_as_from_scratch(folder, cache_dir)[0] == 0


def test_one_claim_edited_compares_only_its_group_again(folder: Path, tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    report_json(load_index(folder, cache))
    assert cache.snapshots_written == 1
    groups = cache.count("groups")
    path = claims_files(folder)[3]
    dataset = load_dataset(folder)
    edited = next(c for c in dataset.claims if c.id == _first_exact(folder, path))
    _edit_claim(path, edited.id, "qualifier: exact", "qualifier: about")
    again = Cache(tmp_path / "cache")
    report_json(load_index(folder, again))
    # The edited file's entry and index, and the records of the groups of the edited claim's
    # bundle (its metric's groups, kzhealth.relations), kept for its next edit: nothing else was
    # parsed; one group was compared again, and the relations of its bundle worked out again
    # (and stored as its shard of the folder's relations, with the manifest that names it).
    bundle = bundle_key(group_key(edited), dataset.metrics)
    related = [c for c in dataset.claims
               if c.compared and bundle_key(group_key(c), dataset.metrics) == bundle]  # fmt: skip
    kept = len({group_key(c) for c in related})
    assert (again.written, again.groups_written) == (2 + kept, 1 + 2)
    # Its other claims came from the entries of the files they are in, and no other file's.
    partners = {dataset.where[c.id].path for c in related if not _in(dataset, c, path)}
    assert partners
    assert again.hits == 2 + len(partners)  # sources.yaml and metrics.yaml, then the partners
    assert again.snapshots_written == 0  # one file since the snapshot: not worth writing
    assert again.count("groups") - groups == 2  # the group's and its shard's (old ones stay)
    # The group kept their records: its next edit reads no other file's entry for them.
    _edit_claim(path, edited.id, "qualifier: about", "qualifier: nearly")
    third = Cache(tmp_path / "cache")
    report_json(load_index(folder, third))
    assert (third.written, third.groups_written) == (2 + kept, 1 + 2)
    assert third.hits <= again.hits
    unchanged = Cache(tmp_path / "cache")
    report_json(load_index(folder, unchanged))
    assert (unchanged.written, unchanged.groups_written, unchanged.misses) == (0, 0, 0)


def test_the_folders_stored_relations_follow_every_edit(folder: Path, tmp_path: Path) -> None:
    """The whole folder's relations are stored when every group is chosen: a warm run, and a
    run after an edit that breaks a relation, each equal the report worked out from scratch."""

    def scratch() -> bytes:
        dataset = load_dataset(folder)
        found = find_conflicts(dataset.claims, dataset.metrics)
        return jsonfmt.conflicts(dataset, found).encode()

    cache_dir = tmp_path / "cache"
    assert report_json(load_index(folder, Cache(cache_dir))) == scratch()
    assert report_json(load_index(folder, Cache(cache_dir))) == scratch()
    before = scratch()
    dataset = load_dataset(folder)
    path = next(
        p for p in claims_files(folder)
        if any(c.measure.value == "change_pct" and c.compared and _in(dataset, c, p)
               for c in dataset.claims)
    )  # fmt: skip
    change = next(
        c for c in dataset.claims
        if c.measure.value == "change_pct" and c.compared and _in(dataset, c, path)
    )  # fmt: skip
    _edit_claim(path, change.id, "value: ", "value: 400 #")
    edited = report_json(load_index(folder, Cache(cache_dir)))
    assert edited == scratch() != before


def _in(dataset: Dataset, claim: Claim, path: Path) -> bool:
    return dataset.where[claim.id].path.endswith(path.name)


def _first_exact(root: Path, path: Path) -> str:
    """The id of the first claim of ``path`` whose qualifier is exact."""
    dataset = load_dataset(root)
    return next(c.id for c in dataset.claims if c.qualifier == "exact" and _in(dataset, c, path))


def _edit_claim(path: Path, cid: str, old: str, new: str) -> None:
    """Replace the first ``old`` of claim ``cid`` (and nothing before it)."""
    text = path.read_text("utf-8")
    at = text.index(f"id: {cid}\n")
    assert old in text[at:]
    path.write_text(text[:at] + text[at:].replace(old, new, 1), "utf-8")


def _damage(cache_dir: Path, table: str, change: Callable[[bytes], bytes], *, sign: bool) -> None:
    """Replace every body of ``table``; ``sign`` keeps its checksum valid."""
    with contextlib.closing(sqlite3.connect(cache_dir / DATABASE)) as db:
        for key, value in db.execute(f"SELECT key, body FROM {table}").fetchall():
            new = change(bytes(value))
            db.execute(f"UPDATE {table} SET body = ? WHERE key = ?", (new, key))
            if sign:
                checksum = body_checksum(new)
                db.execute(f"UPDATE {table} SET checksum = ? WHERE key = ?", (checksum, key))
        db.commit()


Result = tuple[str, bytes]  # a group result's header and body


def _damage_groups(cache_dir: Path, change: Callable[[Result], Result], *, sign: bool) -> None:
    """Change every group result's header and body; ``sign`` gives each the checksum of what
    it then holds."""
    with contextlib.closing(sqlite3.connect(cache_dir / DATABASE)) as db:
        for key, old_head, old_body in db.execute("SELECT key, head, body FROM groups").fetchall():
            head, body = change((old_head, bytes(old_body)))
            db.execute("UPDATE groups SET head = ?, body = ? WHERE key = ?", (head, body, key))
            if sign:
                checksum = group_checksum(key, head, body)
                db.execute("UPDATE groups SET checksum = ? WHERE key = ?", (checksum, key))
        db.commit()


def _flip(data: bytes) -> bytes:
    flipped = bytearray(data)
    for at in range(0, len(flipped), 997):
        flipped[at] ^= 1
    return bytes(flipped)


GROUP_DAMAGE: dict[str, tuple[Callable[[Result], Result], bool]] = {
    "body_truncated": (lambda r: (r[0], r[1][: len(r[1]) // 2]), False),
    "body_bytes_flipped": (lambda r: (r[0], _flip(r[1])), False),
    "body_emptied": (lambda r: (r[0], b""), False),
    "head_garbage_signed": (lambda r: ("\xff\x00 garbage", r[1]), True),
    "sizes_signed": (lambda r: (r[0].replace(" ", " 9", 1), r[1]), True),
    "other_kind_signed": (lambda r: (r[0].replace("recycled", "recyclex"), r[1]), True),
    "body_longer_signed": (lambda r: (r[0], r[1] + b" "), True),
    "body_shorter_signed": (lambda r: (r[0], r[1][:-1]), True),
}


@pytest.mark.parametrize("damage", sorted(GROUP_DAMAGE))
def test_damaged_group_results_are_never_trusted(folder: Path, tmp_path: Path, damage: str) -> None:
    """Group results cut short, changed or emptied, and rewritten - checksum and all - into
    something kzhealth never writes: those groups are compared again."""
    cache_dir = tmp_path / "cache"
    expected = same_as_from_scratch(folder, cache_dir)
    change, sign = GROUP_DAMAGE[damage]
    _damage_groups(cache_dir, change, sign=sign)
    assert report(folder, cache_dir) == expected
    assert report(folder, cache_dir) == expected
    _value_in_many_files(folder)
    same_as_from_scratch(folder, cache_dir)


def _forge(cache_dir: Path, kind: str, old: str, new: str) -> int:
    """Rewrite every entry of ``kind`` that holds the string ``old`` to hold ``new`` instead,
    checksum and all (same length: the MessagePack stays well-formed); how many were."""
    was, now = msgpack.packb(old), msgpack.packb(new)
    with contextlib.closing(sqlite3.connect(cache_dir / DATABASE)) as db:
        rows = db.execute("SELECT key, header, body FROM entries").fetchall()
        forged = [
            (resigned(header, body.replace(was, now)), body.replace(was, now), key)
            for key, header, body in rows
            if f'"kind": "{kind}"' in header and was in body
        ]
        db.executemany("UPDATE entries SET header = ?, body = ? WHERE key = ?", forged)
        db.commit()
    return len(forged)


def _forget(cache_dir: Path, table: str) -> None:
    with contextlib.closing(sqlite3.connect(cache_dir / DATABASE)) as db:
        db.execute(f"DELETE FROM {table}")
        db.commit()


def _in_rest(change: Callable[[bytes], bytes]) -> Callable[[bytes], bytes]:
    """A snapshot with its stamps as written and ``change`` made to the rest (after ``\x1c``)."""

    def changed(body: bytes) -> bytes:
        stamps, _, rest = body.partition(b"\x1c")
        return stamps + b"\x1c" + change(rest)

    return changed


def _first_file_twice(rest: bytes) -> bytes:
    fields = rest.split(b"\x1d")
    return b"\x1d".join([fields[0], *fields[1:7], *fields[1:]])


DAMAGE: dict[str, tuple[str, Callable[[bytes], bytes], bool]] = {
    "snapshot_truncated": ("snapshots", lambda b: b[:-100], False),
    # As long as it was, unsigned: every file's source one that does not exist, which the
    # cross-file checks would report (as an error in a valid folder) were it trusted.
    "snapshot_sources_renamed": (
        "snapshots",
        _in_rest(lambda rest: rest.replace(b"\x1dsrc-", b"\x1dSRC-")),
        False,
    ),
    "snapshot_garbage_signed": ("snapshots", lambda b: b"\x00 not a snapshot", True),
    "snapshot_fields_signed": ("snapshots", lambda b: b.replace(b"\x1d", b"", 1), True),
    "snapshot_blocks_signed": ("snapshots", lambda b: b.replace(b"\x1c", b"\x1d"), True),
    # JSON nested deeper than the json module can read, in the first line and in the rest.
    "snapshot_head_nested_signed": (
        "snapshots",
        lambda b: b"[" * 10**5 + b[b.index(b"\n") :],
        True,
    ),
    "snapshot_metrics_nested_signed": (
        "snapshots",
        _in_rest(lambda rest: b"[" * 10**5 + rest[rest.index(b"\x1d") :]),
        True,
    ),
    # The stamps as written; in the rest, the first file's fields twice: each file's fields
    # would be its predecessor's.
    "snapshot_rest_signed": ("snapshots", _in_rest(_first_file_twice), True),
    "snapshot_members_signed": ("snapshots", lambda b: re.sub(rb"\d+:\d+", b"0:0", b), True),
    "snapshot_keys_signed": ("snapshots", lambda b: b.replace(b"change_pct", b"change_px"), True),
    # Every file's sha256 another, its stamp still the file's: records are then read from the
    # files, whose bytes have other sha256s but make the same indexes.
    "snapshot_digests_signed": (
        "snapshots",
        lambda b: re.sub(rb"\x1d[0-9a-f]{64}(?=[\x1c\x1d])", b"\x1d" + b"f" * 64, b),
        True,
    ),
    "snapshot_stamps_signed": (
        "snapshots",
        lambda b: re.sub(rb"\x1d(\d+ ){4}\d+\x1d", b"\x1d1 2 3 4 5\x1d", b),
        True,
    ),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_cache_is_never_trusted(folder: Path, tmp_path: Path, damage: str) -> None:
    """Snapshots that were damaged - or rewritten with a valid
    checksum into something kzhealth never writes - are detected and computed again."""
    cache_dir = tmp_path / "cache"
    expected = same_as_from_scratch(folder, cache_dir)
    table, change, sign = DAMAGE[damage]
    _damage(cache_dir, table, change, sign=sign)
    _forget(cache_dir, "groups")  # so that members and records are needed again
    assert report(folder, cache_dir) == expected
    assert report(folder, cache_dir) == expected
    _value_in_many_files(folder)  # groups merged again from the snapshot's members
    same_as_from_scratch(folder, cache_dir)


@pytest.mark.parametrize("body", [42, 4.5])
def test_a_snapshot_that_is_not_bytes_is_not_read(folder: Path, tmp_path: Path, body: Any) -> None:
    """A snapshot's body is read through SQLite's blob interface, which has none of a number."""
    cache_dir = tmp_path / "cache"
    expected = same_as_from_scratch(folder, cache_dir)
    with contextlib.closing(sqlite3.connect(cache_dir / DATABASE)) as db:
        db.execute("UPDATE snapshots SET body = ?", (body,))
        db.commit()
    assert report(folder, cache_dir) == expected
    assert report(folder, cache_dir) == expected


def _unread(root: Path, cache_dir: Path) -> set[str]:
    """The claims files a run would know by their stamps, without reading them."""
    cache = Cache(cache_dir)
    got = index._read(root, check_folder(root), cache, index._read_stamps(cache, root))
    cache.close()
    return {path.name for path, _, raw, _ in got.items if raw is None}


def test_files_are_read_again_only_when_their_stamp_changes(folder: Path, tmp_path: Path) -> None:
    """A file rewritten with as many bytes and its times put back is read again: its change
    time (and on some systems its inode) moved."""
    cache_dir = tmp_path / "cache"
    first = same_as_from_scratch(folder, cache_dir)
    names = {path.name for path in claims_files(folder)}
    assert _unread(folder, cache_dir) == names
    dataset = load_dataset(folder)
    recycled = next(
        c for k in find_conflicts(dataset.claims, dataset.metrics) for c in k.claims
        if k.kind is ConflictKind.RECYCLED and c.value[-1].isdigit()
    )  # fmt: skip
    path = folder / Path(dataset.where[recycled.id].path).name
    info = path.stat()
    digit = str((int(recycled.value[-1]) + 1) % 10)
    new_value = f"value: {recycled.value[:-1]}{digit}"
    _edit_claim(path, recycled.id, f"value: {recycled.value}", new_value)
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (info.st_size, info.st_mtime_ns)
    assert _unread(folder, cache_dir) == names - {path.name}
    assert same_as_from_scratch(folder, cache_dir)[1] != first[1]


def test_files_changed_just_before_a_run_are_stamped_later(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Files that changed just before the run that wrote the snapshot are read every run, until
    enough of them have settled for a run to write it again with their stamps."""
    cache_dir = tmp_path / "cache"
    settled = index.SETTLED_NS
    monkeypatch.setattr(index, "SETTLED_NS", 10**18)  # as if every file had just been written
    expected = same_as_from_scratch(folder, cache_dir)
    assert _unread(folder, cache_dir) == set()
    monkeypatch.setattr(index, "SETTLED_NS", settled)
    monkeypatch.setattr(index, "REWRITE_AFTER", len(claims_files(folder)) - 1)
    assert report(folder, cache_dir) == expected  # stamps every file: the snapshot is rewritten
    assert _unread(folder, cache_dir) == {path.name for path in claims_files(folder)}
    assert report(folder, cache_dir) == expected


@pytest.mark.parametrize("mark", ["\x1c", "\x1d"])
def test_a_file_named_with_a_snapshot_separator_leaves_the_folder_without_one(
    folder: Path, tmp_path: Path, mark: str
) -> None:
    """The snapshot separates its fields and blocks with two control characters, which a file
    name may hold: such a folder gets no snapshot, and its runs read every file's index."""
    path = claims_files(folder)[2]
    path.rename(path.with_name(f"src-{mark}.yaml"))
    cache = Cache(tmp_path / "cache")
    expected = report_json(load_index(folder, cache))
    assert cache.snapshots_written == 0
    assert cache.written == 2 * len(claims_files(folder)) + 2  # each entry, index, and tables
    again = Cache(tmp_path / "cache")
    assert report_json(load_index(folder, again)) == expected
    assert (again.written, again.groups_written, again.misses) == (0, 0, 0)
    same_as_from_scratch(folder, tmp_path / "cache")


def test_edited_group_records_are_not_trusted(folder: Path, tmp_path: Path) -> None:
    """Records kept for a group after an edit, then edited - checksum and all - no longer hash
    to the content keys of the index: the group's next edit takes its claims from elsewhere."""
    cache_dir = tmp_path / "cache"
    same_as_from_scratch(folder, cache_dir)
    path = claims_files(folder)[3]
    target = _first_exact(folder, path)
    _edit_claim(path, target, "qualifier: exact", "qualifier: about")
    same_as_from_scratch(folder, cache_dir)  # the edited group keeps its members' records
    assert _forge(cache_dir, "records", "exact", "about")
    _edit_claim(path, target, "qualifier: about", "qualifier: nearly")
    assert same_as_from_scratch(folder, cache_dir)[0] == 0


def test_claims_that_do_not_match_their_index_are_read_from_the_file(
    folder: Path, tmp_path: Path
) -> None:
    """A file's entry rewritten, checksum and all, to records its index did not sign: a group
    compared again takes its claims from the file instead."""
    cache_dir = tmp_path / "cache"
    expected = same_as_from_scratch(folder, cache_dir)
    assert _forge(cache_dir, "claims", "exact", "about")
    _forget(cache_dir, "groups")
    assert report(folder, cache_dir) == expected


def test_snapshot_is_per_folder(folder: Path, tmp_path: Path) -> None:
    """Two copies of a folder, edited apart, each get their own report."""
    cache_dir = tmp_path / "cache"
    other = Path(shutil.copytree(folder, tmp_path / "other"))
    same_as_from_scratch(folder, cache_dir)
    same_as_from_scratch(other, cache_dir)
    _qualifier(other)
    _source_title(folder)
    assert same_as_from_scratch(folder, cache_dir) != same_as_from_scratch(other, cache_dir)


EDGE_FOLDERS: dict[str, dict[str, list[dict[str, object]]]] = {
    "no_claims_files": {},
    "empty_claims_file": {"src-a": []},
    "one_claim": {"src-a": [claim("a1")]},
    "deprecated_only": {
        "src-a": [claim("a1", rank="deprecated", reason="superseded")],
        "src-b": [claim("b1", rank="deprecated", reason="superseded", value="-26.3")],
    },
    "a_conflict_and_a_deprecated": {
        "src-a": [claim("a1"), claim("a2", rank="deprecated", reason="superseded")],
        "src-b": [claim("b1", period="2024")],
    },
}


@pytest.mark.parametrize("name", sorted(EDGE_FOLDERS))
def test_small_and_empty_folders(tmp_path: Path, name: str) -> None:
    root = write_dataset(tmp_path / "claims", EDGE_FOLDERS[name])
    if name == "no_claims_files":
        (root / "sources.yaml").write_text("sources: []\n", "utf-8")
    cache_dir = tmp_path / "cache"
    cold = same_as_from_scratch(root, cache_dir)
    assert cold[0] == 0, cold[2]
    assert same_as_from_scratch(root, cache_dir) == cold
    assert ('"kind": "recycled"' in cold[1]) == (name == "a_conflict_and_a_deprecated")


def test_library_without_a_cache_gives_the_same_report(folder: Path) -> None:
    """``load_index`` and the report work without a cache too (every group compared)."""
    dataset = load_dataset(folder)
    expected = jsonfmt.conflicts(dataset, find_conflicts(dataset.claims, dataset.metrics)).encode()
    assert report_json(load_index(folder)) == expected


def test_a_run_leaves_no_reference_cycles(folder: Path, tmp_path: Path) -> None:
    """The CLI turns the cyclic collector off: whatever a run builds must be freed by reference
    counting, or a cycle keeps every record alive until exit (which once cost a cold run
    0.4 s at 100,000 claims)."""

    def cold_then_edited(cache_dir: Path) -> None:
        report_json(load_index(folder, Cache(cache_dir)))
        _comment_only(folder)
        _qualifier(folder)
        report_json(load_index(folder, Cache(cache_dir)))
        find_conflicts(load_dataset(folder, CachedFiles(Cache(cache_dir))).claims)

    cold_then_edited(tmp_path / "first")  # imports, and what they create once
    enabled = gc.isenabled()
    gc.disable()
    try:
        gc.collect()
        cold_then_edited(tmp_path / "second")
        assert gc.collect() == 0
    finally:
        if enabled:
            gc.enable()


def test_index_keys_are_the_engines_group_keys(folder: Path) -> None:
    """The key text a claims file's index stores for a claim is its group key as the engine
    makes it, for the claims the generator writes and the shipped ones: targets and reported
    figures, every measure but percentage-point changes."""
    shipped = load_dataset(Path(__file__).parents[1] / "claims").claims
    claims = [*load_dataset(folder).claims, *shipped]
    assert {c.status for c in claims} >= {Status.REPORTED, Status.TARGET}
    assert {c.measure for c in claims} >= set(Measure) - {Measure.CHANGE_PP}
    for c in claims:
        assert claim_key_text(c) == key_text(group_key(c)), c.id
        assert parse_key(claim_key_text(c)) == group_key(c), c.id
        key = group_key(c)
        assert metric_subject_scope(claim_key_text(c)) == (key.metric, key.subject, key.scope)


def test_a_groups_key_decides_the_group_filters(folder: Path) -> None:
    """For metric, topic and subject, a group's key says what each of its claims would: the
    claim filter and the group filter agree on every group."""
    dataset = load_dataset(folder)
    groups: dict[object, list[Claim]] = {}
    for c in dataset.claims:
        if c.compared:
            groups.setdefault(group_key(c), []).append(c)
    for chosen in (
        ClaimFilter(metric="metric_c"),
        ClaimFilter(subject="KZ"),
        ClaimFilter(subject="KZ-ALA"),
        ClaimFilter(topic=Topic.WORKFORCE),
        ClaimFilter(metric="metric_a", subject="KZ-AKM"),
    ):
        assert chosen.by_group
        kept = 0
        for key, members in groups.items():
            expected = any(chosen.matches(c, dataset) for c in members)
            assert chosen.matches_group(key, dataset.metrics) == expected, (chosen, key)
            kept += expected
        assert kept > 0, chosen
    assert not ClaimFilter(source="src-00001").by_group
    assert not ClaimFilter(search="KZ").by_group


def test_group_results_swapped_between_rows_are_never_trusted(folder: Path, tmp_path: Path) -> None:
    """Each group's stored result moved to another group's row, checksum and all: another
    metric's conflicts must not appear under a --metric filter, nor anywhere."""
    cache_dir = tmp_path / "cache"
    expected = same_as_from_scratch(folder, cache_dir)
    filtered = same_as_from_scratch(folder, cache_dir, "--metric", "metric_o")
    with contextlib.closing(sqlite3.connect(cache_dir / DATABASE)) as db:
        rows = db.execute("SELECT key, head, body, checksum FROM groups ORDER BY key").fetchall()
        moved = [
            (*rest, key) for (key, *_), (_, *rest) in zip(rows, rows[1:] + rows[:1], strict=True)
        ]
        db.executemany("UPDATE groups SET head = ?, body = ?, checksum = ? WHERE key = ?", moved)
        db.commit()
    assert report(folder, cache_dir, "--metric", "metric_o") == filtered
    assert report(folder, cache_dir) == expected


def test_claims_files_in_any_case_are_read(folder: Path) -> None:
    """claims/foo.YAML is a claims file like foo.yaml."""
    path = claims_files(folder)[0]
    path.rename(path.with_suffix(".YAML"))
    assert [p.name for p in claim_files(folder)] == sorted(
        p.name for p in folder.iterdir() if p.name not in ("sources.yaml", "metrics.yaml")
    )
    assert {c.source for c in load_dataset(folder).claims} >= {path.stem}
    assert same_as_from_scratch(folder, folder.parent / "cache")[0] == 0


@pytest.mark.skipif(cores.cores() < 2 or sys.platform != "linux", reason="one core, or no fork")
def test_a_file_edited_since_the_last_run_is_parsed_in_a_child_as_the_rest_is_read(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache_dir = tmp_path / "cache"
    same_as_from_scratch(folder, cache_dir)
    path = claims_files(folder)[3]
    _edit_claim(path, _first_exact(folder, path), "qualifier: exact", "qualifier: about")
    log = tmp_path / "parsed"

    def logged(item: tuple[Path, str, bytes]) -> Parsed:
        with log.open("a", encoding="utf-8") as out:
            out.write(f"{os.getpid()} {item[0].name}\n")
        return parsed(item)

    monkeypatch.setattr(index, "parsed", logged)
    edited = report(folder, cache_dir)
    ((pid, name),) = [line.split(" ") for line in log.read_text("utf-8").splitlines()]
    assert name == path.name and int(pid) != os.getpid()
    assert edited == same_as_from_scratch(folder, cache_dir)


def test_a_filtered_report_after_an_edit_takes_only_unchanged_bundles(
    folder: Path, tmp_path: Path
) -> None:
    """A report of one metric reads its bundles' shards as stored before an edit: the edited
    claim's bundle is compared again, and the report is the engine's."""
    cache_dir = tmp_path / "cache"
    same_as_from_scratch(folder, cache_dir)
    path = claims_files(folder)[3]
    edited = next(c for c in load_dataset(folder).claims if c.id == _first_exact(folder, path))
    _edit_claim(path, edited.id, "qualifier: exact", "qualifier: about")
    for metric in (edited.metric, "metric_o"):
        assert same_as_from_scratch(folder, cache_dir, "--metric", metric)[0] in (0, 1)


def test_an_edit_compares_again_only_the_bundles_whose_groups_changed(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After an edit, the edited claim's bundle (``relations.bundle_key``) alone is compared
    again, and its shard alone is stored again; once the groups that stayed moved (a file
    renamed), every shard is checked bundle by bundle and the report is still the engine's."""
    cache_dir = tmp_path / "cache"
    report_json(load_index(folder, Cache(cache_dir)))
    dataset = load_dataset(folder)
    path = claims_files(folder)[3]
    edited = next(c for c in dataset.claims if c.id == _first_exact(folder, path))
    _edit_claim(path, edited.id, "qualifier: exact", "qualifier: about")
    compared: list[tuple[str, str, str]] = []
    relate = relations.relate

    def counted(claims: list[Claim], metrics: dict[str, Metric]) -> list[Conflict]:
        compared.append(bundle_key(group_key(claims[0]), metrics))
        return relate(claims, metrics)

    monkeypatch.setattr(relations, "relate", counted)

    def shards() -> dict[int, str]:
        index = load_index(folder, Cache(cache_dir))
        stored = _Related.read(index.cache, _Related.key(index, False))
        index.close()
        return {n: shard.signed for n, shard in stored.shards.items()}

    before = shards()
    report_json(load_index(folder, Cache(cache_dir)))
    bundle = bundle_key(group_key(edited), dataset.metrics)
    assert compared == [bundle]
    after = shards()
    assert {n for n in before.keys() | after.keys() if before.get(n) != after.get(n)} == {
        _shard_of(bundle)
    }
    first = claims_files(folder)[0]
    first.rename(folder / f"zz-{first.name}")  # its groups now come after every other file's
    assert same_as_from_scratch(folder, cache_dir)[0] in (0, 1)
