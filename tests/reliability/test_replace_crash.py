"""kill -9 during a replace (issue 13 item 3): the store holds exactly the old or exactly the
new version after a SIGKILL just before *each* store write of the replace, the documents list
agrees with the chunks (``ChromaStore.check``, ``briefqa doctor``), and a ghost (a record
whose chunks are gone, as the old in-place replace could leave) is found and re-embedded.

The replace runs as an API upload runs it (commit under the write lock, BM25 synced inside),
in forked children of one helper process (``replace_victim``), so the model loads once.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app as cli
from ingest.pipeline import IngestPipeline
from rag.components import Components
from rag.config import Settings
from rag.store.chroma import ChromaStore
from tests.reliability.replace_victim import COLLECTION

pytestmark = pytest.mark.slow

DOC = "brief.txt"
OTHER = "other.txt"


def brief(version: int, paragraphs: int) -> str:
    body = " ".join(
        f"In week {week} of version {version} the Tarnwick ferry board counted "
        f"{week * 7 + version} crossings and {week + 3} late sailings on the north quay."
        for week in range(1, paragraphs + 1)
    )
    return f"Tarnwick Ferry Board, version {version}\n\n{body}\n"


def write_corpus(root: Path, version: int) -> Path:
    root.mkdir(parents=True)
    (root / DOC).write_text(brief(version, 12 if version == 1 else 30))
    (root / OTHER).write_text("Lighthouse\n\nThe Orrin lighthouse keeper retired in March.\n")
    return root


def victim(plan: dict) -> list[dict]:
    tmp = Path(plan["base"]).parent
    plan_file, results_file = tmp / "plan.json", tmp / "results.json"
    plan_file.write_text(json.dumps(plan))
    done = subprocess.run(
        [sys.executable, "-m", "tests.reliability.replace_victim", plan_file, results_file],
        cwd=Path(__file__).parents[2],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    base, *runs = json.loads(results_file.read_text())
    assert base["exit"] == 0, done.stderr[-3000:]
    return runs


def version_of(store: ChromaStore) -> tuple[str, list[str]]:
    """(the listed hash of DOC, the texts of its committed chunks in order)."""
    (meta,) = [d for d in store.list_documents() if d.doc_id == DOC]
    chunks = sorted((c for c in store.all_chunks() if c.doc_id == DOC), key=lambda c: c.start_char)
    _, text = store.get_documents([DOC])[DOC]
    assert all(text[c.start_char : c.end_char] == c.text for c in chunks)
    assert len(chunks) == meta.n_chunks  # the list agrees with the chunks
    return meta.content_hash, [c.text for c in chunks]


def open_store(data_dir: Path) -> ChromaStore:
    return ChromaStore(Settings(data_dir=data_dir, collection=COLLECTION, _env_file=None))


def test_kill_before_each_write_leaves_old_or_new_exactly(tmp_path: Path) -> None:
    v1, v2 = write_corpus(tmp_path / "v1", 1), write_corpus(tmp_path / "v2", 2)
    base = tmp_path / "base"
    # First an uninterrupted replace, to count its writes.
    (full,) = victim(
        {
            "v1": str(v1),
            "v2": str(v2),
            "base": str(base),
            "runs": [{"data_dir": str(tmp_path / "full"), "kill_at": None}],
        }
    )
    writes = full["writes"]
    assert full["exit"] == 0 and writes >= 3, full  # chunks, record, generation, old chunks
    runs = [{"data_dir": str(tmp_path / f"kill{k}"), "kill_at": k} for k in range(1, writes + 1)]
    (tmp_path / "again").mkdir()
    results = victim(
        {"v1": str(v1), "v2": str(v2), "base": str(tmp_path / "again" / "base"), "runs": runs}
    )
    assert all(r["killed"] for r in results), results

    old, new = version_of(open_store(base)), version_of(open_store(tmp_path / "full"))
    assert old != new and len(new[1]) > len(old[1])
    seen = []
    for run in results:
        store = open_store(Path(run["data_dir"]))
        got = version_of(store)
        assert got in (old, new), run["kill_at"]
        assert not store.check().ghosts, run["kill_at"]
        assert OTHER in {d.doc_id for d in store.list_documents()}
        # Dense retrieval sees only the committed version too.
        hits = store.query([1.0] + [0.0] * 383, 50)
        assert all(h.content_hash == got[0] for h in hits if h.doc_id == DOC)
        seen.append("new" if got == new else "old")
        store.close()
    assert seen[0] == "old" and seen[-1] == "new", seen  # killed before and after the commit
    print(f"\nreplace: {writes} writes; kill before write k -> {dict(enumerate(seen, 1))}")


def test_doctor_finds_and_repairs_a_ghost(
    settings: Settings, components: Components, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipeline = IngestPipeline(settings, components.store, components.embedder, components.bm25)
    pipeline.run([corpus])
    store = components.store
    assert store.check().ok
    # The ghost the issue found: the record lists chunks, none are stored.
    store.chunks.delete(where={"doc_id": "harbor-council.md"})
    found = store.check()
    assert set(found.ghosts) == {"harbor-council.md"} and not found.orphan_chunks
    monkeypatch.setenv("BRIEFQA_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("BRIEFQA_COLLECTION", settings.collection)
    monkeypatch.chdir(corpus.parent)
    runner = CliRunner()
    checked = runner.invoke(cli, ["doctor"])
    output = " ".join(checked.output.split())
    assert checked.exit_code == 1 and "1 ghost documents: harbor-council.md" in output
    # An ingest of the same files re-embeds the ghost instead of calling it unchanged.
    report = pipeline.run([corpus])
    assert report.updated == 1 and report.unchanged == 4 and store.check().ok
    assert runner.invoke(cli, ["doctor"]).exit_code == 0


def test_doctor_repair_re_embeds_a_ghost_from_its_stored_text(
    settings: Settings, components: Components, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rag.components

    IngestPipeline(settings, components.store, components.embedder, components.bm25).run([corpus])
    components.store.chunks.delete(where={"doc_id": "wire-001"})
    real_build = rag.components.build_components
    monkeypatch.setattr(
        rag.components,
        "build_components",
        lambda s, **kw: real_build(s, embedder=components.embedder),
    )
    monkeypatch.setenv("BRIEFQA_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("BRIEFQA_COLLECTION", settings.collection)
    monkeypatch.chdir(corpus.parent)
    repaired = CliRunner().invoke(cli, ["doctor", "--repair"])
    assert repaired.exit_code == 0, repaired.output
    assert "1 ghost documents re-embedded" in repaired.output
    assert components.store.check().ok
