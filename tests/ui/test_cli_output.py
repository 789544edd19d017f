"""``briefqa`` output when piped (plain tab-separated lines, no table, never wrapped), ``--json``
on every listing command, and ``ask``'s filter and answerer options."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from rag.embed import Embedder
from tests.conftest import CORPUS, SEED
from tests.helpers import cli_store

QUESTION = "Who said the ferry terminal would stay open?"


@pytest.fixture
def cli(tmp_path: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A store with the fixture corpus + seed; CliRunner's stdout is not a terminal, as in a
    pipe, and the narrow COLUMNS would wrap a table (plain lines must not wrap)."""
    return cli_store(monkeypatch, tmp_path, embedder, "cli-out", columns=60, paths=[CORPUS, SEED])


def test_documents_list_piped_is_one_tab_separated_line_per_document(cli: CliRunner) -> None:
    result = cli.invoke(app, ["documents", "list"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 6 and all(line.count("\t") == 4 for line in lines)
    assert not any(ch in result.output for ch in "┃│━┏")  # no table drawing
    rows = {line.split("\t")[0]: line.split("\t") for line in lines}
    assert rows["harbor-council.md"] == [
        "harbor-council.md",
        "Harbor Council Approves Lantern Bridge Repairs",  # longer than 60 columns, unwrapped
        "Vellmark Gazette",
        "2031-05-14",
        "1",
    ]


def test_documents_list_json(cli: CliRunner) -> None:
    result = cli.invoke(app, ["documents", "list", "--json"])
    assert result.exit_code == 0, result.output
    docs = json.loads(result.output)
    assert {d["doc_id"] for d in docs} >= {"harbor-council.md", "000_ca9448a2e7e84a10.txt"}
    assert all({"title", "source", "date", "n_chunks"} <= set(d) for d in docs)


def test_search_piped_and_json(cli: CliRunner) -> None:
    plain = cli.invoke(app, ["search", "ferry terminal open", "-k", "3"])
    assert plain.exit_code == 0, plain.output
    lines = plain.output.splitlines()
    assert 1 <= len(lines) <= 3 and all(line.count("\t") == 4 for line in lines)
    score, _dense, doc_id, _title, text = lines[0].split("\t")
    assert float(score) > 0 and doc_id == "harbor-council.md" and "ferry terminal" in text
    as_json = json.loads(cli.invoke(app, ["search", "ferry terminal open", "--json"]).output)
    assert as_json[0]["doc_id"] == "harbor-council.md" and "start_char" in as_json[0]


def test_ask_filters_reach_retrieval(cli: CliRunner) -> None:
    kept = json.loads(
        cli.invoke(app, ["ask", QUESTION, "--doc", "harbor-council.md", "--json"]).output
    )
    assert {c["doc_id"] for c in kept["retrieved"]} == {"harbor-council.md"}
    dated = json.loads(
        cli.invoke(
            app, ["ask", QUESTION, "--since", "2031-05-01", "--until", "2031-05-31", "--json"]
        ).output
    )
    assert dated["retrieved"] and all(c["date"].startswith("2031-05") for c in dated["retrieved"])
    other = json.loads(
        cli.invoke(app, ["ask", QUESTION, "--source", "Dunmore Wire", "--json"]).output
    )
    assert all(c["source"] == "Dunmore Wire" for c in other["retrieved"])
    assert "harbor-council.md" not in {c["doc_id"] for c in other["citations"]}


def test_ask_rejects_bad_dates_and_unknown_answerers(cli: CliRunner) -> None:
    bad = cli.invoke(app, ["ask", QUESTION, "--since", "May 2031"])
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output
    unknown = cli.invoke(app, ["ask", QUESTION, "--answerer", "gpt-4o"])
    assert unknown.exit_code == 2
    assert "extractive, local-llm, openai" in unknown.output
    helped = cli.invoke(app, ["ask", "--help"])
    assert "--source" in helped.output and "--since" in helped.output and "--doc" in helped.output


def test_ask_piped_lines_are_not_wrapped(cli: CliRunner) -> None:
    result = cli.invoke(app, ["ask", QUESTION, "--doc", "harbor-council.md"])
    assert result.exit_code == 0, result.output
    quote_lines = [line for line in result.output.splitlines() if line.startswith("      \u201c")]
    for line in quote_lines:
        assert line.endswith("\u201d")  # one line each, however long
    assert result.output.splitlines()[-1].startswith(("quotes", "abstained"))


def test_doctor_json(cli: CliRunner) -> None:
    result = cli.invoke(app, ["doctor", "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["ok"] is True and "store" in body
