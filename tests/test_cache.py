"""The per-file cache: same output with or without it, and never trusted blindly."""

from __future__ import annotations

import contextlib
import json
import shutil
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import msgpack
import pytest

from helpers import explain, resigned, run
from kzhealth.errors import DataError
from kzhealth.loader import load_dataset
from kzhealth.store import cache as cache_module
from kzhealth.store.cache import DATABASE, MAX_ENTRIES_FLOOR, Cache
from kzhealth.store.files import CachedFiles

FIXTURES = Path(__file__).parent / "fixtures"
SHIPPED = Path(__file__).parents[1] / "claims"


@pytest.fixture
def claims_dir(tmp_path: Path) -> Path:
    root = tmp_path / "claims"
    shutil.copytree(SHIPPED, root)
    return root


def outputs(root: Path, cache_dir: Path, *extra: str) -> list[tuple[int, str, str]]:
    """Every command's output, with the given cache folder."""
    env = {"KZHEALTH_CACHE_DIR": str(cache_dir)}
    results = []
    for args in (
        ("conflicts", "-f", "json"),
        ("conflicts",),
        ("list", "-f", "csv"),
        ("sources", "-f", "json"),
        ("show", "infant_mortality_rate", "-f", "json"),
    ):
        result = run(*args, "--claims", str(root), *extra, env=env)
        results.append((result.exit_code, result.stdout, result.stderr))
    return results


def entries(cache_dir: Path) -> list[tuple[str, str, bytes]]:
    """Every (key, header, body) row of the cache database."""
    path = cache_dir / DATABASE
    if not path.is_file():
        return []
    with contextlib.closing(sqlite3.connect(path)) as db:
        return [(k, h, bytes(b)) for k, h, b in db.execute("SELECT key, header, body FROM entries")]


def rewrite(cache_dir: Path, change: Callable[[str, bytes], tuple[str, bytes]]) -> None:
    """Replace every row's header and body with what ``change`` makes of them."""
    with contextlib.closing(sqlite3.connect(cache_dir / DATABASE)) as db:
        for key, header, body in entries(cache_dir):
            new_header, new_body = change(header, body)
            db.execute(
                "UPDATE entries SET header = ?, body = ? WHERE key = ?", (new_header, new_body, key)
            )
        db.commit()


def test_output_identical_cold_warm_and_without_cache(claims_dir: Path, tmp_path: Path) -> None:
    """Cold cache, warm cache and --no-cache give byte-identical output for every command."""
    cache_dir = tmp_path / "cache"
    uncached = outputs(claims_dir, cache_dir, "--no-cache")
    assert not cache_dir.exists()
    cold = outputs(claims_dir, cache_dir)
    assert entries(cache_dir), "the cold run filled the cache"
    warm = outputs(claims_dir, cache_dir)
    assert uncached == cold == warm
    assert all(code == 0 for code, _, _ in warm)


def test_warm_run_reads_the_cache_and_parses_nothing(claims_dir: Path, tmp_path: Path) -> None:
    """With every file cached, loading hits the cache for each file and writes nothing."""
    cache = Cache(tmp_path / "cache")
    load_dataset(claims_dir, CachedFiles(cache))
    files = len(list(claims_dir.glob("*.yaml")))
    claims_files = files - 2  # each also gets an index entry
    assert (cache.hits, cache.written) == (0, files + claims_files)
    again = Cache(tmp_path / "cache")
    load_dataset(claims_dir, CachedFiles(again))
    assert (again.hits, again.misses, again.written) == (files, 0, 0)


def test_errors_identical_with_and_without_cache(claims_dir: Path, tmp_path: Path) -> None:
    """A dataset with errors, in one file and across files, reports the same from a warm cache."""
    cache_dir = tmp_path / "cache"
    outputs(claims_dir, cache_dir)  # warm every file while it is valid
    metrics = claims_dir / "metrics.yaml"
    # Cross-file: a metric removed from metrics.yaml leaves cached claims files dangling.
    metrics.write_text(
        metrics.read_text("utf-8").replace("  - id: doctor_shortage\n", "  - id: doctors_short\n"),
        "utf-8",
    )
    # In one file: a broken period.
    mch = claims_dir / "mch-2025.yaml"
    mch.write_text(
        mch.read_text("utf-8").replace("period: 2025-H1\n", "period: 2025-H3\n", 1), "utf-8"
    )
    uncached = outputs(claims_dir, cache_dir, "--no-cache")
    warm = outputs(claims_dir, cache_dir)
    assert uncached == warm
    code, _, stderr = warm[0]
    assert code == 2, stderr
    assert "metric: unknown metric 'doctor_shortage'" in stderr
    assert "gov-healthcare-modernization-2025.yaml:" in stderr
    assert "mch-2025.yaml:" in stderr and "2025-H3" in stderr


def test_duplicate_id_across_cached_files_is_still_found(claims_dir: Path, tmp_path: Path) -> None:
    """Two cached files that are each valid but share a claim id fail on the merged result."""
    cache = Cache(tmp_path / "cache")
    load_dataset(claims_dir, CachedFiles(cache))
    copy = claims_dir / "zz-copy.yaml"
    copy.write_text((claims_dir / "mch-2025.yaml").read_text("utf-8"), "utf-8")
    with pytest.raises(DataError, match="duplicate claim id 'mch-maternal-mortality-h1'"):
        load_dataset(claims_dir, CachedFiles(Cache(tmp_path / "cache")))


def _packed(text: str) -> bytes:
    """A string as the cache's MessagePack bodies hold it (a same-length replacement keeps the
    body well-formed)."""
    packed: bytes = msgpack.packb(text)
    return packed


ROW_DAMAGE: dict[str, Callable[[str, bytes], tuple[str, bytes]]] = {
    "truncated": lambda h, b: (h, b[: len(b) // 2]),
    "garbage": lambda h, b: (h, b"\x00\xff" * 50),
    # a hand edit of a figure that leaves the checksum as it was
    "hand_edited": lambda h, b: (h, b.replace(_packed("-20.2"), _packed("-99.9"))),
    "other_version": lambda h, b: (h.replace('"kzhealth": "', '"kzhealth": "0.0.0-'), b),
    "empty": lambda h, b: ("", b""),
    # a valid checksum over something kzhealth never wrote
    "wrong_shape": lambda h, b: (
        resigned(h, msgpack.packb({"records": [{"id": 1}], "marks": "x"})),
        msgpack.packb({"records": [{"id": 1}], "marks": "x"}),
    ),
    "bad_values": lambda h, b: (
        resigned(h, b.replace(_packed("percent"), _packed("percant"))),
        b.replace(_packed("percent"), _packed("percant")),
    ),
}


@pytest.mark.parametrize("damage", sorted(ROW_DAMAGE))
def test_damaged_entries_are_ignored_and_replaced(
    claims_dir: Path, tmp_path: Path, damage: str
) -> None:
    """Truncated, corrupt, hand-edited, foreign or misshapen entries: re-parsed, same output."""
    cache_dir = tmp_path / "cache"
    expected = outputs(claims_dir, cache_dir, "--no-cache")
    outputs(claims_dir, cache_dir)
    before = entries(cache_dir)
    rewrite(cache_dir, ROW_DAMAGE[damage])
    assert entries(cache_dir) != before, "the damage changed something"
    assert outputs(claims_dir, cache_dir) == expected
    cache = Cache(cache_dir)
    load_dataset(claims_dir, CachedFiles(cache))
    assert cache.hits == len(list(claims_dir.glob("*.yaml")))  # the damaged entries were replaced


@pytest.mark.parametrize("damage", ["garbage", "truncated", "directory", "empty"])
def test_damaged_database_is_replaced(claims_dir: Path, tmp_path: Path, damage: str) -> None:
    """A database file that is garbage, truncated, empty or a folder never breaks a command."""
    cache_dir = tmp_path / "cache"
    expected = outputs(claims_dir, cache_dir, "--no-cache")
    outputs(claims_dir, cache_dir)
    database = cache_dir / DATABASE
    for suffix in ("-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    if damage == "garbage":
        database.write_bytes(b"\x00\xff not a database " * 100)
    elif damage == "truncated":
        database.write_bytes(database.read_bytes()[:1500])
    elif damage == "empty":
        database.write_bytes(b"")
    else:
        database.unlink()
        database.mkdir()
    assert outputs(claims_dir, cache_dir) == expected
    assert outputs(claims_dir, cache_dir) == expected


def test_unwritable_cache_folder_still_works(claims_dir: Path, tmp_path: Path) -> None:
    """A cache folder that cannot be created (a file is in the way) is skipped silently."""
    blocker = tmp_path / "cache"
    blocker.write_text("not a folder", "utf-8")
    assert outputs(claims_dir, blocker) == outputs(claims_dir, blocker, "--no-cache")


def test_a_locked_database_is_left_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A database another run holds locked past the busy timeout is neither written nor
    discarded: the run closes without writing, and what the cache held is still there."""
    monkeypatch.setattr(cache_module, "BUSY_TIMEOUT", 0.05)
    first = Cache(tmp_path)
    first.put_encoded("claims", "0" * 64, b"first")
    first.close()
    with contextlib.closing(sqlite3.connect(first.path, isolation_level=None)) as other:
        other.execute("BEGIN EXCLUSIVE")
        cache = Cache(tmp_path)
        cache.put_encoded("claims", "1" * 64, b"later")
        cache.close()
        other.execute("ROLLBACK")
    assert cache.written == 0
    assert Cache(tmp_path).get_many("claims", ["0" * 64, "1" * 64], raw=True) == [b"first", None]


def _age(cache_dir: Path, days_by_key: Callable[[int], float]) -> list[str]:
    """Mark the entries as last used ``days_by_key(i)`` days ago (i by key); keys oldest first."""
    with contextlib.closing(sqlite3.connect(cache_dir / DATABASE)) as db:
        keys = [k for (k,) in db.execute("SELECT key FROM entries ORDER BY key")]
        ages = [days_by_key(i) * 86400 for i in range(len(keys))]
        now = time.time()
        db.executemany(
            "UPDATE entries SET used = ? WHERE key = ?",
            [(now - age, k) for age, k in zip(ages, keys, strict=True)],
        )
        db.commit()
    return [k for _, k in sorted(zip(ages, keys, strict=True), reverse=True)]


def _fill(cache_dir: Path, count: int, files_in_use: int) -> None:
    """A run that writes ``count`` entries, for a dataset of ``files_in_use`` files."""
    cache = Cache(cache_dir)
    for i in range(count):
        cache.put("claims", f"{i:064x}", {"n": i})
    cache.close(files_in_use=files_in_use)


def _one_more_run(cache_dir: Path, files_in_use: int = 3) -> set[str]:
    cache = Cache(cache_dir)
    cache.put("claims", "f" * 64, {"new": True})
    cache.close(files_in_use=files_in_use)
    return {key for key, _, _ in entries(cache_dir)}


def test_cache_is_pruned_to_a_bound_least_recently_used_first(tmp_path: Path) -> None:
    """Beyond the bound, entries unused for over a week go, the least recently used first."""
    cache_dir = tmp_path / "cache"
    _fill(cache_dir, MAX_ENTRIES_FLOOR + 25, files_in_use=3)
    assert len(entries(cache_dir)) == MAX_ENTRIES_FLOOR + 25  # all used just now: all kept
    oldest_first = _age(cache_dir, lambda i: 10 + i / 100)
    kept = _one_more_run(cache_dir)
    assert len(kept) == MAX_ENTRIES_FLOOR
    assert kept.isdisjoint(oldest_first[:26]) and set(oldest_first[26:]) <= kept


def test_recently_used_entries_outlive_the_bound(tmp_path: Path) -> None:
    """A small dataset's run never evicts a big dataset used this week."""
    cache_dir = tmp_path / "cache"
    _fill(cache_dir, MAX_ENTRIES_FLOOR + 25, files_in_use=3000)
    _age(cache_dir, lambda i: 3)  # used three days ago
    assert len(_one_more_run(cache_dir, files_in_use=3)) == MAX_ENTRIES_FLOOR + 26


def test_hard_cap_holds_whatever_the_age(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache_module, "HARD_CAP", 40)
    cache_dir = tmp_path / "cache"
    _fill(cache_dir, 60, files_in_use=3)
    assert len(_one_more_run(cache_dir)) == 40


def test_cache_clear_and_dir(claims_dir: Path, tmp_path: Path) -> None:
    """`kzhealth cache dir` names the folder; `cache clear` empties it."""
    cache_dir = tmp_path / "cache"
    outputs(claims_dir, cache_dir)
    env = {"KZHEALTH_CACHE_DIR": str(cache_dir)}
    shown = run("cache", "dir", env=env)
    assert shown.stdout.strip() == str(cache_dir)
    cleared = run("cache", "clear", env=env)
    assert cleared.exit_code == 0, explain(cleared)
    assert entries(cache_dir) == []
    assert "removed" in cleared.stderr
    assert outputs(claims_dir, cache_dir) == outputs(claims_dir, cache_dir, "--no-cache")


def test_databases_of_other_formats_are_removed(claims_dir: Path, tmp_path: Path) -> None:
    """An upgrade leaves no old database, nor the pack files of formats that had them, behind:
    they go when this format's database is created."""
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()
    old = [cache_dir / "kzhealth-cache-v3.sqlite3", cache_dir / "kzhealth-cache-v3.sqlite3-wal"]
    for path in old:
        path.write_bytes(b"an older kzhealth's cache")
    old_packs = cache_dir / "kzhealth-cache-v3.packs"
    old_packs.mkdir()
    (old_packs / f"{'0' * 16}.pack").write_bytes(b"an older kzhealth's results")
    unrelated = cache_dir / "notes.txt"
    unrelated.write_text("mine", "utf-8")
    outputs(claims_dir, cache_dir)
    assert not any(path.exists() for path in [*old, old_packs])
    assert (cache_dir / DATABASE).is_file() and unrelated.exists()
    assert sorted(p.name for p in cache_dir.iterdir()) == [DATABASE, "notes.txt"]


def test_no_cache_writes_nothing(claims_dir: Path, tmp_path: Path) -> None:
    """--no-cache (or KZHEALTH_NO_CACHE=1) neither reads nor writes the cache."""
    cache_dir = tmp_path / "cache"
    run(
        "conflicts",
        "--claims",
        str(claims_dir),
        env={"KZHEALTH_CACHE_DIR": str(cache_dir), "KZHEALTH_NO_CACHE": "1"},
    )
    assert not cache_dir.exists()


def test_records_round_trip_through_cache_rows() -> None:
    """Every shipped record survives the cache's encoding unchanged."""
    from kzhealth.model import Claim, Metric, Source  # noqa: PLC0415

    dataset = load_dataset(SHIPPED)
    for claim in dataset.claims:
        assert Claim.from_row(json.loads(json.dumps(claim.to_row()))) == claim
        assert list(claim.to_dict()) == list(Claim.FIELDS)
    for source in dataset.sources.values():
        assert Source.from_dict(json.loads(json.dumps(source.to_dict()))) == source
    for metric in dataset.metrics.values():
        assert Metric.from_dict(json.loads(json.dumps(metric.to_dict()))) == metric


def test_schema_and_records_have_the_same_fields() -> None:
    """The pydantic input models and the plain records name the same fields."""
    from kzhealth import model, schema  # noqa: PLC0415

    pairs = [
        (schema.ClaimIn, model.Claim),
        (schema.SourceIn, model.Source),
        (schema.MetricIn, model.Metric),
        (schema.IgnoredIn, model.Ignored),
    ]
    for validated, record in pairs:
        assert list(validated.model_fields) == list(record.FIELDS), record.__name__


def test_ignored_figures_read_back_from_the_cache(claims_dir: Path, tmp_path: Path) -> None:
    """What `check --texts` needs of each file - its ignored figures and where each is - comes
    back from a warm cache exactly as parsed."""
    parsed = load_dataset(claims_dir)
    assert any(parsed.ignored.values()), "the shipped data ignores some figures"
    load_dataset(claims_dir, CachedFiles(Cache(tmp_path / "cache")))
    warm = Cache(tmp_path / "cache")
    assert load_dataset(claims_dir, CachedFiles(warm)).ignored == parsed.ignored
    assert warm.misses == 0


@pytest.mark.parametrize("wanted", [1, 63, 64, 100, 300])
def test_group_results_read_by_key_or_in_one_pass(tmp_path: Path, wanted: int) -> None:
    """Whether a run asks for a few group results (looked up by key) or for most of the table
    (read in one pass), it gets exactly the ones it asked for that are stored."""
    writer = Cache(tmp_path / "cache")
    for i in range(200):
        writer.put_group(f"{i:032x}", f"head {i}", f"body {i}".encode() * (i % 3))
    writer.close(groups_in_use=200)
    keys = [f"{i:032x}" for i in range(0, 2 * wanted, 2)]  # every other one; some not stored
    found = Cache(tmp_path / "cache").get_groups(keys)
    assert {k: (head, bytes(body)) for k, (head, body) in found.items()} == {
        k: (f"head {int(k, 16)}", f"body {int(k, 16)}".encode() * (int(k, 16) % 3))
        for k in keys
        if int(k, 16) < 200
    }


def _put_groups(folder: Path, bodies: dict[str, bytes]) -> None:
    writer = Cache(folder)
    for key, body in bodies.items():
        writer.put_group(key, f"head of {key}", body)
    writer.close(groups_in_use=len(bodies))


def _held(folder: Path, keys: list[str]) -> dict[str, bytes]:
    found = Cache(folder).get_groups(keys)
    assert all(head == f"head of {key}" for key, (head, _) in found.items())
    return {key: bytes(body) for key, (_, body) in found.items()}


def test_group_results_stored_again_replace_the_old(tmp_path: Path) -> None:
    """A result stored again (a damaged one computed anew) takes the place of the old one."""
    folder = tmp_path / "cache"
    keys = [f"{i:032x}" for i in range(10)]
    _put_groups(folder, dict.fromkeys(keys, b"x" * 1000))
    _put_groups(folder, dict.fromkeys(keys[1:], b"y" * 10))
    assert Cache(folder).count("groups") == 10
    assert _held(folder, keys) == {keys[0]: b"x" * 1000} | dict.fromkeys(keys[1:], b"y" * 10)


def test_group_results_whose_rows_are_refused_are_not_half_written(tmp_path: Path) -> None:
    """When a run's group results cannot be written (here a trigger refuses them), its whole
    transaction is rolled back (a database that refuses is then started afresh): nothing of
    that run reads back, and the next run writes as usual."""
    folder = tmp_path / "cache"
    _put_groups(folder, {"a" * 32: b"first"})
    with contextlib.closing(sqlite3.connect(folder / DATABASE)) as db:
        db.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON groups BEGIN SELECT RAISE(ABORT, 'no'); END"
        )
        db.commit()
    _put_groups(folder, {"b" * 32: b"second"})
    assert "b" * 32 not in _held(folder, ["a" * 32, "b" * 32])
    _put_groups(folder, {"c" * 32: b"third"})
    assert _held(folder, ["c" * 32]) == {"c" * 32: b"third"}
