"""API fixtures: one read-only app over the fixture corpus + seed for the whole package, and
fresh-store apps for tests that write.

Read-only tests share ``client`` (the corpus is embedded once, ~1 s); tests that upload or
delete use ``rw_client`` (their own store) so no test depends on another's writes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.main import create_app
from api.observability import ACCESS_LOGGER, JsonFormatter
from ingest.pipeline import IngestPipeline
from rag.components import Components
from rag.config import Settings
from rag.embed import Embedder
from tests.conftest import CORPUS, SEED
from tests.helpers import ingested

# A seed question the reader answers with confidence (docs/quality.md: the question this project
# started from, "who represented India at the Finance Ministerial?", is one it still refuses).
SEED_QUESTION = "When will Jaishankar visit the United States?"
SEED_ANSWER = "2 to 4 February 2026"  # in the answer and in its quote
UNANSWERABLE = "What is the capital of Vellmark's neighbouring kingdom?"
REFUSAL = "The briefings don't say."


@pytest.fixture(scope="package")
def qa_components(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Components:
    """A store holding the fixture corpus and the seed briefing, shared by read-only tests."""
    data = tmp_path_factory.mktemp("api") / "data"
    settings = Settings(data_dir=data, collection="api", torch_threads=1, _env_file=None)
    components = ingested(settings, embedder, [CORPUS, SEED])
    return components


@pytest.fixture(scope="package")
def app(qa_components: Components) -> FastAPI:
    return create_app(qa_components.settings, qa_components)


@pytest.fixture(scope="package")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:  # ``with`` runs the lifespan
        yield test_client


@pytest.fixture
def rw_client(settings: Settings, components: Components, corpus: Path) -> Iterator[TestClient]:
    """A fresh store over the fixture corpus + seed, for tests that write."""
    IngestPipeline(settings, components.store, components.embedder, components.bm25).run(
        [corpus, SEED]
    )
    with TestClient(create_app(settings, components)) as test_client:
        yield test_client


@pytest.fixture
def empty_client(settings: Settings, components: Components) -> Iterator[TestClient]:
    """A fresh, empty store: for write tests that don't need the corpus."""
    with TestClient(create_app(settings, components)) as test_client:
        yield test_client


@pytest.fixture
def access_lines() -> Iterator[list[str]]:
    """Every access-log line, formatted exactly as the JSON handler writes it."""
    lines: list[str] = []
    formatter = JsonFormatter()

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(formatter.format(record))

    handler = Collect()
    logger = logging.getLogger(ACCESS_LOGGER)
    logger.addHandler(handler)
    yield lines
    logger.removeHandler(handler)
