"""Shared fixtures: real MiniLM (loaded once per session), a fresh store per test.

The fixture corpus under ``tests/fixtures/corpus`` is about fictional places and people.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.config import Settings
from rag.embed import Embedder

FIXTURES = Path(__file__).parent / "fixtures"
CORPUS = FIXTURES / "corpus"
SEED = Path(__file__).parents[1] / "corpus"


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return Embedder(Settings(torch_threads=1))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", collection="test", torch_threads=1, _env_file=None)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A private, writable copy of the fixture corpus (tests edit and delete files in it)."""
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS, target)
    return target


@pytest.fixture
def components(settings: Settings, embedder: Embedder) -> Iterator[object]:
    from rag.components import build_components

    yield build_components(settings, embedder=embedder)


@pytest.fixture
def pipeline(settings: Settings, components):
    from ingest.pipeline import IngestPipeline

    return IngestPipeline(settings, components.store, components.embedder, components.bm25)


@pytest.fixture
def service(pipeline, corpus: Path, components):
    """A QA service over the fixture corpus plus the seed briefing (extractive answerer)."""
    from rag.service import QAService

    pipeline.run([corpus, SEED])
    return QAService(components)
