"""Chunks are verbatim spans of the cleaned text and fit the embedder's window."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest.chunk import Chunker
from ingest.clean import clean_document
from ingest.loaders import discover, load_file
from rag.config import Settings
from rag.embed import Embedder
from tests.conftest import CORPUS, SEED

RGB = Path(__file__).parents[3] / "shared" / "benchmarks" / "rgb" / "passages.jsonl"


def _texts() -> list[str]:
    docs = [clean_document(d) for f, root in discover([CORPUS, SEED]) for d in load_file(f, root)]
    texts = [d.text for d in docs]
    if RGB.exists():
        texts += [json.loads(line)["text"] for line in RGB.read_text().splitlines()[:300]]
    return texts


def test_offsets_invariant_on_every_chunk() -> None:
    chunker = Chunker(Settings().chunk_size, Settings().chunk_overlap)
    long_text = " ".join(f"Sentence {i} about the Lantern Bridge in Vellmark." for i in range(400))
    for text in [*_texts(), long_text, "Repeated line.\nRepeated line.\nRepeated line."]:
        chunks = chunker.split(text)
        assert chunks, text[:40]
        for c in chunks:
            assert text[c.start_char : c.end_char] == c.text


def test_no_chunk_exceeds_the_embedder_window(embedder: Embedder) -> None:
    settings = Settings()
    chunker = Chunker(settings.chunk_size, settings.chunk_overlap)
    long_text = " ".join(
        f"Councillor Odessa Prane's {i}th amendment re-zoned the Quillon-Ashgrove corridor."
        for i in range(300)
    )
    worst = max(
        embedder.count_tokens(c.text) for t in [*_texts(), long_text] for c in chunker.split(t)
    )
    assert worst <= embedder.max_tokens, worst


@pytest.mark.parametrize("size", [40, 120])
def test_smaller_chunks_overlap_but_stay_in_order(size: int) -> None:
    text = " ".join(f"Fact number {i} concerns the Kestrel Observatory." for i in range(80))
    chunks = Chunker(size, 10).split(text)
    assert len(chunks) > 1
    starts = [c.start_char for c in chunks]
    assert starts == sorted(starts) and chunks[-1].end_char == len(text)
