"""Split cleaned text into chunks that fit the embedder, each with exact character offsets.

Chunks are anchored to the text's own structure so that a local edit changes only the chunks
it touches (issue 14): re-ingesting a corrected briefing then re-embeds a handful of chunks,
and the store's content-hash cache serves every other one.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.text import cl100k

# Levels of structure, coarsest first: paragraphs (blank lines), then lines; below the last
# level a piece that is still too long goes to the sentence splitter.
_LEVELS = (re.compile(r"\n[ \t]*\n\s*"), re.compile(r"\n\s*"))
_SEP_TOKENS = 2  # what a separator between packed pieces costs, counted generously
_STICKY_TOKENS = 12  # a heading, dateline or label this short never ends a chunk


@dataclass(frozen=True)
class TextChunk:
    """``text == document_text[start_char:end_char]`` always holds."""

    index: int
    text: str
    start_char: int
    end_char: int


@dataclass(frozen=True)
class _Block:
    """A span to pack: one paragraph (or line) plus the short lines that lead into it."""

    start: int
    end: int
    tokens: int


class Chunker:
    """Paragraph-anchored chunks of at most ``chunk_size`` cl100k tokens.

    Why an edit stays local: the text is cut at blank lines into paragraphs (a paragraph still
    over ``chunk_size`` is cut at its line breaks, and a line still over it by llama-index's
    SentenceSplitter on that line alone), so every boundary sits at a paragraph edge fixed
    by the text itself, never at a token count carried over from the start of the document.
    Consecutive short paragraphs are packed into one chunk, and the chunk is closed after a
    paragraph when it has reached ``min_size`` tokens and a hash of that paragraph's own text
    says "cut" (about one paragraph in two), or when the next one would not fit. Such a
    content-defined cut falls at the same paragraph before and after an edit, so the chunking
    re-synchronises a paragraph or two after the edited one instead of shifting every later
    boundary. Short lines (headings, datelines) join the paragraph after them.

    Overlap (``chunk_overlap``) applies only inside a piece the sentence splitter cuts, so it
    depends on that piece alone; paragraph-anchored chunks do not overlap.

    ``chunk_size`` is in cl100k tokens; MiniLM sees up to ~1.3x as many word pieces, so the
    default 180 stays under its 256-token window and nothing is silently truncated.
    """

    def __init__(self, chunk_size: int, chunk_overlap: int, min_size: int | None = None) -> None:
        self.chunk_size = chunk_size
        self.min_size = chunk_size // 3 if min_size is None else min_size
        self.chunk_overlap = chunk_overlap
        self._tokenize = cl100k()
        self._splitter: Any = None  # llama-index's SentenceSplitter, made on first need
        # Sentence splits of over-long paragraphs by a hash of their text (and the sizes): a
        # pure function, so ``SplitCache`` can keep it across processes and a re-ingest whose
        # long paragraphs are unchanged never loads the splitter.
        self.split_cache: dict[str, list[tuple[int, int]]] = {}

    def split(self, text: str) -> list[TextChunk]:
        spans = self._pack(text, 0, len(text), 0)
        return [TextChunk(i, text[a:b], a, b) for i, (a, b) in enumerate(spans)]

    # --- internals ---------------------------------------------------------------------
    def _count(self, text: str) -> int:
        return len(self._tokenize(text))

    def _pack(self, text: str, start: int, end: int, level: int) -> list[tuple[int, int]]:
        """Spans covering the non-blank text of ``text[start:end]``, cut at ``level``'s
        separators (or by sentences below the last level)."""
        if level >= len(_LEVELS):
            return self._sentences(text, start, end)
        blocks = self._blocks(text, _pieces(text, start, end, _LEVELS[level]))
        out: list[tuple[int, int]] = []
        cur: list[_Block] = []
        size = 0

        def close() -> None:
            nonlocal cur, size
            if cur:
                out.append((cur[0].start, cur[-1].end))
            cur, size = [], 0

        for block in blocks:
            if block.tokens > self.chunk_size:
                close()
                out += self._pack(text, block.start, block.end, level + 1)
                continue
            if cur and size + _SEP_TOKENS + block.tokens > self.chunk_size:
                close()
            size += (_SEP_TOKENS if cur else 0) + block.tokens
            cur.append(block)
            if size >= self.min_size and _cut_after(text[block.start : block.end]):
                close()
        close()
        return out

    def _blocks(self, text: str, pieces: list[tuple[int, int]]) -> list[_Block]:
        """Pieces with token counts; a short piece is joined to the one after it."""
        blocks: list[_Block] = []
        lead: tuple[int, int] | None = None  # (start, tokens) of pending short pieces
        for n, (a, b) in enumerate(pieces):
            tokens = self._count(text[a:b])
            if lead is not None:
                a, tokens = lead[0], lead[1] + _SEP_TOKENS + tokens
            if tokens <= _STICKY_TOKENS and n < len(pieces) - 1:
                lead = (a, tokens)
                continue
            lead = None
            blocks.append(_Block(a, b, tokens))
        return blocks

    def _sentences(self, text: str, start: int, end: int) -> list[tuple[int, int]]:
        piece = text[start:end]
        key = hashlib.blake2b(
            f"{self.chunk_size}:{self.chunk_overlap}:{piece}".encode(), digest_size=16
        ).hexdigest()
        if (known := self.split_cache.get(key)) is None:
            known = self.split_cache[key] = self._split_sentences(piece)
        return [(start + a, start + b) for a, b in known]

    def _split_sentences(self, piece: str) -> list[tuple[int, int]]:
        if self._splitter is None:
            # Importing llama-index and its nltk sentence model costs seconds of every ingest
            # process (issue 14 counts process start); text whose lines fit never pays it.
            from llama_index.core.node_parser import SentenceSplitter

            self._splitter = SentenceSplitter(
                chunk_size=self.chunk_size,
                chunk_overlap=self.chunk_overlap,
                tokenizer=self._tokenize,
            )
        spans: list[tuple[int, int]] = []
        cursor = 0
        for part in self._splitter.split_text(piece):
            # Parts come out in order and overlap at most their predecessor, so searching
            # forward from the previous start finds each one's own occurrence, not an earlier twin.
            at = piece.find(part, cursor)
            if at < 0:
                raise ValueError("a chunk is not a verbatim span of its document")
            spans.append((at, at + len(part)))
            cursor = at + 1
        return spans


class SplitCache:
    """``Chunker.split_cache`` kept in a JSON file beside the store: only a speed-up, so a
    missing or unreadable file is an empty cache, and the newest ``limit`` entries are kept."""

    def __init__(self, path: Path, limit: int = 50_000) -> None:
        self.path = path
        self.limit = limit
        self._saved = 0  # entries the file holds

    def load(self, chunker: Chunker) -> None:
        try:
            data = json.loads(self.path.read_text())
            chunker.split_cache.update((k, [(a, b) for a, b in v]) for k, v in data.items())
        except (OSError, ValueError, TypeError):
            return
        self._saved = len(chunker.split_cache)

    def save(self, chunker: Chunker) -> None:
        """Write the cache when it grew (atomically, so a crash leaves the old file)."""
        entries = chunker.split_cache
        if len(entries) == self._saved:
            return
        keep = dict(list(entries.items())[-self.limit :])
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(self.path.name + ".tmp")
            tmp.write_text(json.dumps(keep, separators=(",", ":")))
            tmp.replace(self.path)
        except OSError:
            return  # a read-only data dir costs the speed-up, never the ingest
        self._saved = len(entries)


def _pieces(text: str, start: int, end: int, sep: re.Pattern[str]) -> list[tuple[int, int]]:
    """The non-blank stretches of ``text[start:end]`` between separators, whitespace-trimmed."""
    out: list[tuple[int, int]] = []
    pos = start
    for m in [*sep.finditer(text, start, end), None]:
        a, b = pos, (m.start() if m else end)
        piece = text[a:b]
        if piece.strip():
            out.append((a + len(piece) - len(piece.lstrip()), a + len(piece.rstrip())))
        if m:
            pos = m.end()
    return out


def _cut_after(paragraph: str) -> bool:
    """The content-defined boundary rule: about one paragraph in two ends a chunk, chosen by
    its own text, so the choice survives edits elsewhere in the document."""
    return hashlib.blake2b(paragraph.encode(), digest_size=1).digest()[0] & 1 == 0
