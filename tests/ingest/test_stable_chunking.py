"""Paragraph-anchored chunking: verbatim offsets, and an edit changes only the chunks it touches."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from ingest.chunk import Chunker, SplitCache, TextChunk
from rag.config import Settings

WORDS = (
    "harbour council ferry Vellmark Odessa Prane tariff bridge survey lantern quarry mayor "
    "budget river Ostrelle festival grain rail Quillon observatory Kestrel orchard"
).split()


def _paragraph(rnd: random.Random, sentences: tuple[int, int] = (1, 5)) -> str:
    return " ".join(
        " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(5, 24))).capitalize() + "."
        for _ in range(rnd.randint(*sentences))
    )


def _paragraphs(seed: int, n: int) -> list[str]:
    rnd = random.Random(seed)
    return [f"Section {i}" if rnd.random() < 0.1 else _paragraph(rnd) for i in range(n)]


def _chunker() -> Chunker:
    return Chunker(Settings().chunk_size, Settings().chunk_overlap)


def _changed(old: list[TextChunk], new: list[TextChunk]) -> int:
    """New chunks whose text the old version did not have (what a re-ingest must embed)."""
    texts = {c.text for c in old}
    return sum(c.text not in texts for c in new)


def _documents() -> list[str]:
    rnd = random.Random(3)
    docs = []
    for seed in range(6):
        paras = _paragraphs(seed, rnd.randint(3, 40))
        sep = rnd.choice(["\n\n", "\n", "\n \n\n", "\r\n\r\n"])
        docs.append(("  \n" if seed % 2 else "") + sep.join(paras) + ("\n\n" if seed % 3 else ""))
    one_line = " ".join(_paragraph(rnd, (30, 30)) for _ in range(3))  # a jsonl passage
    long_paragraph = "Kestrel Report\n\n" + " ".join(_paragraph(rnd, (60, 60)) for _ in range(2))
    return [*docs, one_line, long_paragraph, "Short.", "Twin line.\nTwin line.\n\nTwin line."]


@pytest.mark.parametrize("text", _documents())
def test_chunks_are_verbatim_ordered_spans_covering_the_text(text: str) -> None:
    chunker = _chunker()
    chunks = chunker.split(text)
    assert chunks
    for i, c in enumerate(chunks):
        assert c.index == i
        assert text[c.start_char : c.end_char] == c.text == c.text.strip()
        assert len(chunker._tokenize(c.text)) <= chunker.chunk_size + 4, c.text[:60]
    starts = [c.start_char for c in chunks]
    assert starts == sorted(starts)
    covered = set().union(*(range(c.start_char, c.end_char) for c in chunks))
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())


def test_editing_one_paragraph_changes_few_chunks() -> None:
    chunker = _chunker()
    paras = _paragraphs(11, 150)
    old = chunker.split("\n\n".join(paras))
    assert 40 <= len(old) <= 120
    for i in (20, 75, 130):
        edited = list(paras)
        edited[i] = edited[i].replace(" ", " corrected ", 1) + " Sentence added."
        new = chunker.split("\n\n".join(edited))
        assert _changed(old, new) <= 3, i
        assert abs(len(new) - len(old)) <= 2


def test_inserting_or_deleting_a_paragraph_changes_few_chunks() -> None:
    chunker = _chunker()
    paras = _paragraphs(12, 150)
    old = chunker.split("\n\n".join(paras))
    news = "Mayor Tobias Quell opened the new ferry terminal on Monday."
    inserted = [*paras[:60], news, *paras[60:]]
    assert _changed(old, chunker.split("\n\n".join(inserted))) <= 3
    deleted = paras[:90] + paras[91:]
    assert _changed(old, chunker.split("\n\n".join(deleted))) <= 3


def test_an_edit_in_a_line_separated_text_stays_local() -> None:
    """Cleaned news text often has one paragraph per line and no blank lines at all."""
    chunker = _chunker()
    paras = _paragraphs(13, 120)
    old = chunker.split("\n".join(paras))
    paras[50] += " A late correction from the Quillon desk."
    assert _changed(old, chunker.split("\n".join(paras))) <= 3


def test_a_heading_stays_with_the_paragraph_after_it() -> None:
    rnd = random.Random(5)
    paras = [_paragraph(rnd, (4, 5)) for _ in range(12)]
    paras[6:6] = ["Harbour works"]
    text = "\n\n".join(paras)
    chunks = _chunker().split(text)
    heading = next(c for c in chunks if "Harbour works" in c.text)
    assert heading.text.startswith("Harbour works\n\n") and len(heading.text) > 40
    assert not any(c.text.endswith("Harbour works") for c in chunks)


def test_text_without_line_breaks_is_split_by_sentences() -> None:
    text = " ".join(f"Fact number {i} concerns the Kestrel Observatory." for i in range(200))
    chunks = _chunker().split(text)
    assert len(chunks) > 3
    assert all(c.text.endswith(".") and c.text[0].isupper() for c in chunks)
    assert chunks[0].start_char == 0 and chunks[-1].end_char == len(text)


def test_sentence_splits_kept_on_disk_spare_the_splitter_next_time(tmp_path: Path) -> None:
    rnd = random.Random(8)
    paras = [_paragraph(rnd, (12, 14)) for _ in range(4)] + _paragraphs(9, 20)
    text = "\n\n".join(paras)
    first = _chunker()
    cache = SplitCache(tmp_path / "splits" / "test.json")
    cache.load(first)
    expected = first.split(text)
    assert first.split_cache and first._splitter is not None
    cache.save(first)

    again = _chunker()
    SplitCache(cache.path).load(again)
    paras[-1] += " An edit in a short paragraph."
    edited = "\n\n".join(paras)
    got = again.split(edited)
    assert again._splitter is None  # every long paragraph's split came from the file
    assert got == _chunker().split(edited) and got[:4] == expected[:4]
    (tmp_path / "splits" / "test.json").write_text("{not json")
    broken = _chunker()
    SplitCache(cache.path).load(broken)
    assert broken.split(text) == expected
