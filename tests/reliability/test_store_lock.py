"""Two processes on one embedded store: the second is refused with a message naming the first
(issue 13 item 6), instead of writing chunks the running server never sees."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app as cli
from rag.config import Settings
from rag.store.chroma import ChromaStore, StoreInUse
from tests.conftest import CORPUS

HOLDER = """
import sys, time
from pathlib import Path
from rag.store.lock import acquire
acquire(Path(sys.argv[1]))
print("locked", flush=True)
time.sleep(60)
"""


@contextmanager
def holder(directory: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the store's lock, as a running ``briefqa serve`` does."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(directory), "briefqa-serve-standin"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        yield proc
    finally:
        proc.kill()
        proc.wait(timeout=10)


def settings_for(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", collection="locked", _env_file=None)


def test_a_second_process_is_refused_naming_the_first(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    with holder(settings.chroma_path) as proc:
        with pytest.raises(StoreInUse) as refused:
            ChromaStore(settings)
        message = str(refused.value)
        assert f"process {proc.pid}" in message and "briefqa-serve-standin" in message
        assert str(settings.chroma_path.resolve()) in message
    # The lock dies with its holder (even a SIGKILLed one): no stale lock to clean up.
    deadline = time.monotonic() + 5
    while True:
        try:
            ChromaStore(settings).close()
            break
        except StoreInUse:
            assert time.monotonic() < deadline
            time.sleep(0.05)


def test_stores_in_one_process_share_the_lock(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    first, second = ChromaStore(settings), ChromaStore(settings)
    first.close()
    # Still held by ``second``: another process is refused until it is closed too.
    probe = [sys.executable, "-c", HOLDER, str(settings.chroma_path)]
    refused = subprocess.run(probe, capture_output=True, text=True, timeout=30)
    assert refused.returncode != 0 and "StoreLocked" in refused.stderr
    second.close()
    with holder(settings.chroma_path):
        pass


def test_cli_ingest_into_a_served_store_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(tmp_path)
    monkeypatch.setenv("BRIEFQA_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("BRIEFQA_COLLECTION", settings.collection)
    monkeypatch.chdir(tmp_path)
    with holder(settings.chroma_path) as proc:
        result = CliRunner().invoke(cli, ["ingest", str(CORPUS)])
    assert result.exit_code == 3
    output = " ".join(result.output.split())
    assert f"in use by process {proc.pid}" in output and "Traceback" not in output
