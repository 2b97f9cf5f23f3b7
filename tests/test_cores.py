"""A cold run parses its files on every core (``store.cores``): the same indexes, records,
cache entries, problems and report as parsing them in one process; an interrupt or a
termination ends the children with the run."""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import report_json
from kzhealth.errors import DataError
from kzhealth.loader import load_dataset
from kzhealth.store import cores
from kzhealth.store.cache import Cache
from kzhealth.store.index import load_index

GENERATE = Path(__file__).parents[1] / "benchmarks" / "generate.py"
SPREAD = cores.cores() > 1 and sys.platform == "linux"


def _generated(claims: int, out: Path) -> Path:
    spec = importlib.util.spec_from_file_location("generate", GENERATE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.generate(claims, out)
    return out / "claims"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """600 claims in 24 files."""
    return _generated(600, tmp_path_factory.mktemp("generated"))


def _pid(_item: int) -> int:
    time.sleep(0.01)  # long enough for every child to take a share
    return os.getpid()


@pytest.mark.skipif(not SPREAD, reason="one core, or no fork")
def test_many_items_are_spread_over_processes_and_few_are_not() -> None:
    many = list(cores.mapped(_pid, range(cores.SPREAD_FROM * 2)))
    assert len(many) == cores.SPREAD_FROM * 2
    assert os.getpid() not in many and len(set(many)) == 2
    assert set(cores.mapped(_pid, range(cores.SPREAD_FROM))) == {os.getpid()}


@pytest.mark.parametrize("spread_from", [1, 10**9])
def test_a_cold_run_on_every_core_is_a_cold_run_in_one_process(
    generated: Path, tmp_path: Path, spread_from: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cores, "SPREAD_FROM", spread_from)
    cache = Cache(tmp_path / "cache")
    index = load_index(generated, cache)
    records = [c for n in range(len(index.files)) for c in index.file_claims(n)]
    assert records == load_dataset(generated).claims
    got = report_json(index)
    monkeypatch.setattr(cores, "SPREAD_FROM", 10**9)
    assert got == report_json(load_index(generated, None))
    assert (cache.written, Cache(tmp_path / "cache").count()) == (2 * 24 + 2, 2 * 24 + 2)
    assert report_json(load_index(generated, Cache(tmp_path / "cache"))) == got  # warm


def test_a_bad_file_among_many_gives_every_problem(
    generated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = Path(shutil.copytree(generated, tmp_path / "claims"))
    files = sorted(folder.glob("src-*.yaml"))
    for path in (files[3], files[17]):
        path.write_text(path.read_text("utf-8").replace("period:", "perod:", 1), "utf-8")
    with pytest.raises(DataError) as whole:
        load_dataset(folder)
    monkeypatch.setattr(cores, "SPREAD_FROM", 1)
    with pytest.raises(DataError) as spread:
        load_index(folder, Cache(tmp_path / "cache"))
    assert spread.value.problems == whole.value.problems
    assert {p.location.path for p in spread.value.problems} == {
        str(files[3]),
        str(files[17]),
    }


def _left(marker: str) -> list[int]:
    """Processes whose command line holds ``marker``."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and marker in (proc / "cmdline").read_bytes().decode():
                found.append(int(proc.name))
        except OSError:
            continue
    return found


@pytest.mark.skipif(not SPREAD, reason="one core, or no fork")
@pytest.mark.parametrize(("sent", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_during_a_spread_parse_ends_every_process_quietly(
    tmp_path: Path, sent: signal.Signals, code: int
) -> None:
    folder = _generated(6000, tmp_path)  # 240 files: seconds of parsing on two cores
    command = [sys.executable, "-m", "kzhealth", "conflicts", "--claims", str(folder)]
    env = {**os.environ, "KZHEALTH_CACHE_DIR": str(tmp_path / "cache")}
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    deadline = time.monotonic() + 30
    while len(_left(str(folder))) < 3 and time.monotonic() < deadline:  # the parent and two
        time.sleep(0.02)
    assert len(_left(str(folder))) >= 3
    child.send_signal(sent)
    _, stderr = child.communicate(timeout=60)
    assert child.returncode == code
    assert b"Traceback" not in stderr
    time.sleep(0.2)
    assert _left(str(folder)) == []


def test_no_pool_to_be_had_means_one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without semaphores (no /dev/shm in some containers) or with no process left to fork,
    the work is done here: never a failed run."""
    import multiprocessing.context  # noqa: PLC0415

    def refused(*_args: object, **_kwargs: object) -> None:
        raise OSError(38, "Function not implemented")

    monkeypatch.setattr(multiprocessing.context.ForkContext, "Lock", refused)
    items = range(cores.SPREAD_FROM * 4)
    assert list(cores.mapped(_pid, items)) == [os.getpid()] * len(items)


PARENT = os.getpid()


def _dies_in_a_child(item: int) -> int:
    if item == 40 and os.getpid() != PARENT:
        os._exit(1)  # as the kernel's out-of-memory killer would end it
    return item * 2


@pytest.mark.skipif(not SPREAD, reason="one core, or no fork")
def test_a_child_that_dies_leaves_its_work_to_this_process() -> None:
    items = list(range(cores.SPREAD_FROM * 4))
    assert list(cores.mapped(_dies_in_a_child, items)) == [i * 2 for i in items]


def _children() -> set[int]:
    """This process's child processes (Linux)."""
    found: set[int] = set()
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        try:  # a thread (a pool's, from an earlier test) may end meanwhile
            found.update(int(pid) for pid in (task / "children").read_text().split())
        except OSError:
            continue
    return found


def _slow_pid(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


@pytest.mark.skipif(not SPREAD, reason="one core, or no fork")
def test_work_started_ahead_is_done_in_a_child_and_taken_in_order() -> None:
    before = _children()
    ahead = cores.Ahead(_slow_pid, {3: 0.0, 5: 0.2, 8: 0.0})
    (child,) = _children() - before
    assert ahead.take([8, 3]) == [child, child]
    assert child not in _children()  # it was waited for
    assert ahead.take([3]) is None  # taken once
    ahead.close()


@pytest.mark.skipif(not SPREAD, reason="one core, or no fork")
def test_work_ahead_not_taken_or_failed_is_left_to_the_caller() -> None:
    before = _children()
    ahead = cores.Ahead(_slow_pid, {1: 60.0})
    (child,) = _children() - before
    assert ahead.take([1, 2]) is None  # not started with item 2: the caller does it all
    started = time.monotonic()
    ahead.close()  # ends the child at once
    assert time.monotonic() - started < 10 and child not in _children()
    dying = cores.Ahead(_dies_in_a_child, {40: 40})  # a child that dies sends nothing
    assert dying.take([40]) is None and _children() <= before
    assert cores.Ahead(_slow_pid, {1: 0.0}, start=False).take([1]) is None


@pytest.mark.skipif(not SPREAD, reason="one core, or no fork")
def test_an_interrupt_while_a_child_works_ahead_ends_it(tmp_path: Path) -> None:
    """Ctrl-C reaches the whole process group; the child ignores it and the parent ends it."""
    script = tmp_path / "ahead.py"
    script.write_text(
        "import contextlib, os, signal, sys, time\n"
        f"sys.path[:0] = {sys.path!r}\n"
        "from kzhealth.store.cores import Ahead\n"
        "from test_cores import _children, _slow_pid\n"
        "with contextlib.closing(Ahead(_slow_pid, {0: 60.0})):\n"
        "    print(*_children(), flush=True)\n"
        "    os.kill(0, signal.SIGINT)\n"
        "    time.sleep(30)\n",
        "utf-8",
    )
    result = subprocess.run(
        [sys.executable, str(script)],
        check=False,
        capture_output=True,
        timeout=60,
        start_new_session=True,
    )
    assert b"KeyboardInterrupt" in result.stderr
    (child,) = map(int, result.stdout.split())
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)
