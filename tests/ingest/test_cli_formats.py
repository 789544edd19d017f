"""``briefqa ingest`` over a folder of PDF, Word, PowerPoint and e-mail files: readable ones are
stored, bad ones are named skips, and ``briefqa ask`` cites the page ("p. 3")."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from rag.embed import Embedder
from tests.fixtures import formats
from tests.helpers import cli_store


@pytest.fixture
def cli(tmp_path: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """The CLI on an empty store under ``tmp_path``, reusing the session's embedder."""
    return cli_store(monkeypatch, tmp_path, embedder, "cli-formats")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "briefings"
    root.mkdir()
    mail = formats.eml_bytes(
        attachments=[("timetable.pdf", formats.long_pdf(4), "application/pdf")]
    )
    files = {
        "canal-report.pdf": formats.pdf_bytes(),
        "lighthouse-memo.docx": formats.docx_bytes(),
        "rail-update.pptx": formats.pptx_bytes(),
        "ferry.eml": mail,
        "scan.pdf": formats.pdf_bytes(text_layer=False),
        "locked.pdf": formats.encrypted_pdf(),
        "bomb.docx": formats.zip_bomb(),
    }
    for name, data in files.items():
        (root / name).write_bytes(data)
    return root


def test_folder_ingest_reads_new_formats_and_names_each_skip(cli: CliRunner, folder: Path) -> None:
    result = cli.invoke(app, ["ingest", str(folder)])
    assert result.exit_code == 0, result.output  # files found in a folder: skips, not failures
    out = " ".join(result.output.split())  # rich wraps long lines
    assert "documents: 5 new" in out  # pdf, docx, pptx, the mail and its attachment
    assert "scan.pdf: " in out and "scanned PDFs need OCR" in out
    assert "locked.pdf: " in out and "encrypted PDF" in out
    assert "bomb.docx: " in out and "refused before expanding" in out

    listed = cli.invoke(app, ["documents", "list"])
    assert "ferry.eml/timetable.pdf" in " ".join(listed.output.split())

    asked = cli.invoke(app, ["ask", "Who is the chief engineer of the Brannock Canal?"])
    assert asked.exit_code == 0, asked.output
    assert "Jorund Haverleigh" in asked.output
    assert "(canal-report.pdf, p. 3, chars" in asked.output


def test_named_bad_file_fails_the_run(cli: CliRunner, folder: Path) -> None:
    result = cli.invoke(app, ["ingest", str(folder / "locked.pdf")])
    assert result.exit_code == 1
    assert "encrypted PDF" in result.output
