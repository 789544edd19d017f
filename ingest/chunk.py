"""Split cleaned text into chunks that fit the embedder, each with exact character offsets."""

from __future__ import annotations

from dataclasses import dataclass

from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.utils import get_tokenizer


@dataclass(frozen=True)
class TextChunk:
    """``text == document_text[start_char:end_char]`` always holds."""

    index: int
    text: str
    start_char: int
    end_char: int


class Chunker:
    """llama-index's SentenceSplitter counting cl100k tokens (the cache ships in llama-index-core).

    ``chunk_size`` is in cl100k tokens; MiniLM sees up to ~1.3x as many word pieces, so the
    default 180 stays under its 256-token window and nothing is silently truncated.
    """

    def __init__(self, chunk_size: int, chunk_overlap: int) -> None:
        self._splitter = SentenceSplitter(
            chunk_size=chunk_size, chunk_overlap=chunk_overlap, tokenizer=get_tokenizer()
        )

    def split(self, text: str) -> list[TextChunk]:
        chunks: list[TextChunk] = []
        cursor = 0
        for piece in self._splitter.split_text(text):
            # Chunks come out in order and overlap at most their predecessor, so searching
            # forward from the previous start finds each one's own occurrence, not an earlier twin.
            start = text.find(piece, cursor)
            if start < 0:
                raise ValueError(f"chunk {len(chunks)} is not a verbatim span of its document")
            chunks.append(TextChunk(len(chunks), piece, start, start + len(piece)))
            cursor = start + 1
        return chunks
