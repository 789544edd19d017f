"""Real-length documents for the ingest benches, varied so that no two variants share a sentence.

The sources are the project's own prose: the SQuAD "Normans" article, the fictional briefings
under ``eval/gold/briefings/`` and the seed briefing under ``corpus/``. Plain copies would be
nearly free once ingest reuses stored vectors for identical chunk text (issue 14's content-hash
cache) and anchors chunks on paragraphs, so a copy would measure the cache, not the pipeline.
Each variant therefore rewrites every sentence: capitalised words (names, places, titles) become
pseudo-words drawn per variant, numbers change, a sentence with neither gets its longest word
replaced, and paragraph order is shuffled. Everything is seeded by the variant number, so a
run is reproducible and "after" figures see exactly the "before" texts.

``unique_share`` reports how many chunk texts are distinct, so a reader can check the claim.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass
from pathlib import Path

from bench.common import REPO

SQUAD = REPO.parent / "shared" / "benchmarks" / "squad2-normans" / "corpus.jsonl"
BRIEFINGS = REPO / "eval" / "gold" / "briefings"
SEED = REPO / "corpus"
SOURCES = (SQUAD, BRIEFINGS, SEED)

_CONSONANTS = "bdfgklmnprstvz"
_VOWELS = "aeiou"
# Sentence starters and function words that stay, so variants still read as English.
_KEEP = set(
    "The A An In On At It Its This That These Those He She They We I You But And Or As By For "
    "From Of To With When While After Before If There His Her Their Our No Not All Some One "
    "Mr Mrs Ms Dr Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February "
    "March April May June July August September October November December".split()
)
_CAPITAL = re.compile(r"\b[A-Z][A-Za-z'\-]+\b")
_NUMBER = re.compile(r"\d+")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_PARAGRAPH = re.compile(r"\n\s*\n")


@dataclass
class Source:
    name: str
    title: str
    date: str | None
    source: str | None
    paragraphs: list[str]


def load_sources() -> list[Source]:
    """Every source document, split into paragraphs (blank lines; else single newlines)."""
    from ingest.loaders import discover, load_file

    out: list[Source] = []
    for path in SOURCES:
        if not path.exists():
            continue
        for file, root in discover([path]):
            for doc in load_file(file, root):
                text = doc.text.strip()
                paras = [p.strip() for p in _PARAGRAPH.split(text) if p.strip()]
                if len(paras) == 1 and "\n" in text:
                    paras = [p.strip() for p in text.split("\n") if p.strip()]
                stem = Path(doc.doc_id).stem.replace("#", "-")
                out.append(Source(stem, doc.title or stem, doc.date, doc.source, paras))
    if not out:
        raise SystemExit("no source documents found for the real workload")
    return out


def _digest(*parts: object) -> int:
    return int.from_bytes(hashlib.blake2b(repr(parts).encode(), digest_size=8).digest(), "big")


def pseudo_word(variant: int, word: str) -> str:
    """A pronounceable stand-in for ``word``, the same within a variant, different across."""
    h = _digest(variant, word)
    syllables = 2 + h % 2
    out = []
    for _ in range(syllables):
        h //= 97
        out.append(_CONSONANTS[h % len(_CONSONANTS)] + _VOWELS[(h // 7) % len(_VOWELS)])
    return "".join(out) + _CONSONANTS[(h // 31) % len(_CONSONANTS)]


def _number(variant: int, digits: str) -> str:
    h = _digest(variant, "n", digits)
    lo = 10 ** (len(digits) - 1) if len(digits) > 1 else 0
    value = lo + h % (10 ** len(digits) - lo)
    return str(value) if str(value) != digits else str((value + 1) % 10 ** len(digits))


def vary_sentence(variant: int, sentence: str) -> str:
    """Names and numbers replaced; a sentence with none loses its longest word instead."""

    def name(m: re.Match[str]) -> str:
        word = m.group(0)
        return word if word in _KEEP else pseudo_word(variant, word).capitalize()

    out = _NUMBER.sub(lambda m: _number(variant, m.group(0)), _CAPITAL.sub(name, sentence))
    if out == sentence:
        words = re.findall(r"[A-Za-z]{3,}", sentence)
        if words:
            longest = max(words, key=len)
            out = re.sub(
                rf"\b{re.escape(longest)}\b", pseudo_word(variant, longest), sentence, count=1
            )
    return out


def vary_paragraph(variant: int, paragraph: str) -> str:
    return " ".join(vary_sentence(variant, s) for s in _SENTENCE.split(paragraph) if s.strip())


def variant_paragraphs(variant: int, source: Source) -> list[str]:
    """The source's paragraphs, every sentence varied, in a per-variant shuffled order."""
    paras = [vary_paragraph(variant, p) for p in source.paragraphs]
    random.Random(_digest(variant, source.name)).shuffle(paras)
    return paras


def render_md(title: str, date: str | None, source: str | None, paragraphs: list[str]) -> str:
    """A real Markdown document: front matter, then blank-line-separated paragraphs."""
    front = [f'title: "{title}"']
    if date:
        front.append(f"date: {date}")
    if source:
        front.append(f'source: "{source}"')
    return "---\n" + "\n".join(front) + "\n---\n" + "\n\n".join(paragraphs) + "\n"


def write_corpus(out_dir: Path, megabytes: float) -> tuple[int, int]:
    """Write variants 0, 1, 2, ... of every source as .md files until ``megabytes`` (10^6 bytes)
    are written; returns (files, bytes)."""
    sources = load_sources()
    out_dir.mkdir(parents=True, exist_ok=True)
    target = int(megabytes * 1_000_000)
    files = total = 0
    variant = 0
    while total < target:
        for src in sources:
            text = render_md(
                vary_sentence(variant, src.title),
                src.date,
                src.source,
                variant_paragraphs(variant, src),
            )
            path = out_dir / f"v{variant:03d}-{src.name}.md"
            path.write_text(text)
            files += 1
            total += len(text.encode())
            if total >= target:
                break
        variant += 1
    return files, total


def long_document(kilobytes: float, first_variant: int = 1000) -> list[str]:
    """Paragraphs for one long document (~``kilobytes`` x 1000 bytes): variants of every
    source's paragraphs, one variant after another, so no paragraph repeats."""
    sources = load_sources()
    target = int(kilobytes * 1000)
    paras: list[str] = []
    size = 0
    variant = first_variant
    while size < target:
        for src in sources:
            for p in variant_paragraphs(variant, src):
                paras.append(p)
                size += len(p.encode()) + 2
                if size >= target:
                    return paras
        variant += 1
    return paras


def edit_paragraph(paragraph: str, variant: int = 99_999) -> str:
    """The paragraph with its first sentence's words replaced (what an editor's fix looks
    like to the chunker: one paragraph differs, the rest are byte-identical)."""
    sentences = [s for s in _SENTENCE.split(paragraph) if s.strip()]
    first = re.sub(r"[A-Za-z]{4,}", lambda m: pseudo_word(variant, m.group(0)), sentences[0])
    return " ".join([first, *sentences[1:]])


def unique_share(texts: list[str]) -> float:
    return len(set(texts)) / len(texts) if texts else float("nan")
