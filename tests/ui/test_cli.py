"""The ``briefqa`` command line as a user meets it: streamed ``ask``, ``documents list/delete``
and shell completion (Typer's ``--show-completion``)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from rag.embed import Embedder
from rag.schema import Draft, Evidence
from tests.api.conftest import SEED_ANSWER, SEED_QUESTION
from tests.conftest import CORPUS, SEED
from tests.helpers import cli_store


@pytest.fixture
def cli(tmp_path: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A store with the fixture corpus + seed, found by the CLI through BRIEFQA_* variables."""
    return cli_store(monkeypatch, tmp_path, embedder, "cli-test", paths=[CORPUS, SEED])


def test_ask_prints_answer_citations_and_status(cli: CliRunner) -> None:
    result = cli.invoke(app, ["ask", SEED_QUESTION])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert SEED_ANSWER in lines[0] and "[1]" in lines[0]
    assert "verified answer:" not in result.output  # extractive: streamed text is the answer
    assert any(line.startswith("  [1] ") and "000_ca9448a2e7e84a10.txt" in line for line in lines)
    assert "External Affairs Minister S Jaishankar is set to visit" in result.output
    assert lines[-1].startswith("quotes verified; confidence 0.")
    assert "answerer extractive" in lines[-1]


class Streamer:
    """Streams an answer in parts, noting what the CLI had printed before each part."""

    name = "openai"

    def __init__(self) -> None:
        self.printed_before: list[str] = []

    def answer(self, question: str, evidence: list[Evidence]) -> Draft:
        raise AssertionError("the CLI must stream")

    def stream(self, question: str, evidence: list[Evidence]) -> Iterator[str]:
        n = next((e.n for e in evidence if SEED_ANSWER in e.text), 1)
        for part in ["Jaishankar will visit ", "from 2 to 4 February 2026", f" [{n}]."]:
            sys.stdout.flush()
            self.printed_before.append(sys.stdout.buffer.getvalue().decode())  # type: ignore[attr-defined]
            yield part


def test_ask_streams_deltas_as_they_are_produced(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rag.answer.registry

    streamer = Streamer()
    monkeypatch.setattr(
        rag.answer.registry, "build_answerers", lambda settings, names=None: {"openai": streamer}
    )
    result = cli.invoke(app, ["ask", SEED_QUESTION, "--answerer", "openai"])
    assert result.exit_code == 0, result.output
    # Each part was on the terminal before the next one was generated.
    assert streamer.printed_before[1].endswith("Jaishankar will visit ")
    assert streamer.printed_before[2].endswith("from 2 to 4 February 2026")
    assert result.output.startswith("Jaishankar will visit from 2 to 4 February 2026 [")
    assert "  [1] " in result.output
    assert "answerer openai" in result.output.splitlines()[-1]


def test_ask_json_is_one_result(cli: CliRunner) -> None:
    result = cli.invoke(app, ["ask", SEED_QUESTION, "--json"])
    assert result.exit_code == 0, result.output
    assert '"grounded": true' in result.output and '"citations"' in result.output


def test_documents_list_and_delete(cli: CliRunner) -> None:
    listed = cli.invoke(app, ["documents", "list"])
    assert listed.exit_code == 0, listed.output
    for doc_id in ("000_ca9448a2e7e84a10.txt", "harbor-council.md", "wire-001"):
        assert doc_id in listed.output
    deleted = cli.invoke(app, ["documents", "delete", "wire-001"])
    assert deleted.exit_code == 0 and "deleted wire-001" in deleted.output
    assert "wire-001" not in cli.invoke(app, ["documents", "list"]).output
    missing = cli.invoke(app, ["documents", "delete", "wire-001"])
    assert missing.exit_code == 1
    assert "no document 'wire-001'" in missing.output


def test_shell_completion_is_available() -> None:
    """The installed console script offers and answers completion (Typer's defaults)."""
    exe = Path(sys.executable).with_name("briefqa")
    if not exe.exists():
        pytest.skip("the briefqa console script is not installed (pip install -e .)")
    # What `briefqa --show-completion` prints in bash, asked for by name: the flag itself
    # detects the shell from the process tree, which a CI runner or a daemon may not have.
    source = {**os.environ, "_BRIEFQA_COMPLETE": "source_bash"}
    shown = subprocess.run([exe], capture_output=True, text=True, env=source, timeout=60)
    assert shown.returncode == 0 and "_BRIEFQA_COMPLETE=complete_bash" in shown.stdout
    env = {
        **os.environ,
        "_BRIEFQA_COMPLETE": "complete_bash",
        "COMP_WORDS": "briefqa documents ",
        "COMP_CWORD": "2",
    }
    completed = subprocess.run([exe], capture_output=True, text=True, env=env, timeout=60)
    assert completed.stdout.split() == ["list", "delete"]


def test_eval_refuses_a_gate_on_an_unknown_metric(tmp_path: Path) -> None:
    gold = tmp_path / "gold.jsonl"
    gold.write_text('{"id": "q1", "question": "Who?", "answers": ["x"]}\n')
    runner = CliRunner()
    for bad in ("parts_okay=0.9", "parts_ok=high"):
        result = runner.invoke(app, ["eval", str(gold), "--gate", bad])
        assert result.exit_code == 2 and "--gate" in result.output
