"""LLM answerers: phrase an answer from numbered evidence with a llama-index ``LLM``.

One class serves both modes, because llama-index's ``LLM`` interface hides the backend:
``local_llm`` loads a GGUF in-process through ``LlamaCPP`` (llama.cpp, CPU), ``openai_llm``
talks to any OpenAI-compatible server. The answerer only phrases; the service cites and
verifies, and falls back to extractive when this raises ``LLMAnswerError``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from rag.answer.gguf import qwen15b_path
from rag.answer.judge import LLMJudge, load_judge
from rag.answer.prompts import (
    REFUSAL,
    STOP,
    build_messages,
    build_rewrite_messages,
    clean,
    completion_to_chatml,
    messages_to_chatml,
    static_prefix,
)
from rag.config import Settings
from rag.schema import ChatTurn, Draft, Evidence, last_exchange
from rag.text import CITE_MARK, STOPWORDS, strip_citations, words

if TYPE_CHECKING:
    from llama_index.core.llms import LLM, ChatMessage

# llama_cpp.Llama is not thread-safe (and LlamaCPP mutates its generate_kwargs per call), so
# every call into a local model goes through this lock. One process holds one local model.
LOCAL_LOCK = threading.Lock()

_LEAD = re.compile(r"^\s*(?:answer\s*:\s*)", re.IGNORECASE)
_REFUSALISH = re.compile(
    r"briefings\s+(?:don'?t|do\s+not)\s+say"
    r"|\bnot\s+(?:mentioned|stated|given|provided|specified|say)\b"
    r"|\b(?:does|do)\s+not\s+(?:say|mention|state|specify|contain|provide)\b"
    r"|\bno\s+information\b",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"\u201c])")
# A sentence "states" evidence n when this share of its content words appear in n.
_CITE_OK = 0.5


class LLMAnswerError(RuntimeError):
    """The LLM could not answer (busy, unreachable, failed); callers fall back to extractive."""


def _content_words(text: str) -> set[str]:
    """Lower-cased words outside ``rag.text.STOPWORDS`` (single letters only as digits)."""
    low = (w.lower() for w in words(text))
    return {w for w in low if w not in STOPWORDS and (len(w) > 1 or w.isdigit())}


def repair_citations(text: str, evidence: list[Evidence]) -> tuple[str, int]:
    """Point each answer sentence at the evidence it copies from; returns (text, n repaired).

    Small models often copy the right sentence but cite its neighbour, or drop the marker.
    A sentence whose cited evidence shares few of its words, while another evidence sentence
    shares most of them, is re-cited to that one; an uncited sentence that clearly copies one
    evidence sentence gets its marker. Anything unclear is left for the verifier to judge.
    """
    vocab = {e.n: _content_words(e.text) for e in evidence}
    out: list[str] = []
    repaired = 0
    for sentence in _SENTENCE_END.split(text):
        body = strip_citations(sentence)
        own = _content_words(body)
        cited = [int(n) for group in CITE_MARK.findall(sentence) for n in group.split(",")]
        if not own or not vocab:
            out.append(sentence)
            continue
        share = {n: len(own & w) / len(own) for n, w in vocab.items()}
        best = max(share, key=lambda n: (share[n], -n))
        keep = [n for n in dict.fromkeys(cited) if share.get(n, 0.0) >= _CITE_OK * share[best]]
        if cited and keep == list(dict.fromkeys(cited)):
            out.append(sentence)
            continue
        if not keep:
            if share[best] < _CITE_OK:
                out.append(sentence)
                continue
            keep = [best]
        end = body[-1] if body[-1] in ".!?" else "."
        out.append(f"{body.rstrip('.!?').rstrip()} [{', '.join(map(str, keep))}]{end}")
        repaired += 1
    return " ".join(out), repaired


def tidy(text: str, evidence: list[Evidence] | None = None) -> tuple[str, str | None]:
    """Normalise raw model output; returns (text, note).

    An uncited reply that refuses in any wording becomes exactly ``REFUSAL`` so downstream can
    compare strings; an empty reply is treated as a refusal too. With ``evidence``, wrong or
    missing [n] markers are repaired (see ``repair_citations``).
    """
    text = _LEAD.sub("", clean(text.replace("\u2019", "'")))
    if not text:
        return REFUSAL, "empty model output"
    if not CITE_MARK.search(text) and _REFUSALISH.search(text):
        return REFUSAL, "model refused: evidence does not contain the answer"
    if evidence:
        text, repaired = repair_citations(text, evidence)
        if repaired:
            return text, f"repaired citations in {repaired} sentence(s)"
    return text, None


def is_local(llm: LLM) -> bool:
    """True for an in-process llama.cpp model (LlamaCPP keeps its ``Llama`` in ``_model``)."""
    return hasattr(getattr(llm, "_model", None), "create_completion")


class LLMAnswerer:
    """Answers from evidence with any llama-index ``LLM`` (local llama.cpp or OpenAI-like)."""

    def __init__(
        self,
        llm: LLM,
        name: str = "local-llm",
        lock: threading.Lock | None = None,
        lock_timeout_s: float = 60.0,
        judge: LLMJudge | None = None,
    ) -> None:
        """``lock`` serialises calls into ``llm``; local llama.cpp models get LOCAL_LOCK.
        ``judge``: the model's yes/no on a sentence, for the decision (``rag.decide``)."""
        self.llm = llm
        self.name = name
        self.judge = judge
        # A local llama.cpp model is always serialised, even when the caller passes no lock.
        self._lock = lock if lock is not None or not is_local(llm) else LOCAL_LOCK
        self._lock_timeout_s = lock_timeout_s

    @contextmanager
    def _serialized(self) -> Iterator[None]:
        """Hold the model lock, or fail fast enough for the service to fall back."""
        if self._lock is None:
            yield
            return
        if not self._lock.acquire(timeout=self._lock_timeout_s):
            raise LLMAnswerError(f"{self.name}: model busy for {self._lock_timeout_s:.0f} s")
        try:
            yield
        finally:
            self._lock.release()

    def _chat(self, messages: list[ChatMessage]) -> str:
        with self._serialized():
            try:
                return self.llm.chat(messages).message.content or ""
            except Exception as exc:
                raise LLMAnswerError(f"{self.name} failed: {exc}") from exc

    def rewrite(self, question: str, history: list[ChatTurn]) -> str:
        """The follow-up as a standalone question, in the model's words (first line only);
        the caller decides whether to trust it (``rag.rewrite.accept_rewrite``)."""
        previous, answer = last_exchange(history)
        if previous is None:
            return question
        text = self._chat(build_rewrite_messages(previous, answer, question))
        return clean(text.strip().split("\n")[0]) if text.strip() else ""

    def answer(self, question: str, evidence: list[Evidence]) -> Draft:
        """One blocking answer; ``Draft.text`` cites evidence as [n] or is exactly REFUSAL."""
        if not evidence:
            return Draft(text=REFUSAL, answerer=self.name, note="no evidence")
        return self.to_draft(self._chat(build_messages(question, evidence)), evidence)

    def to_draft(self, text: str, evidence: list[Evidence]) -> Draft:
        """The Draft for raw model text: what ``answer`` returns, and what a caller that
        streamed should build from the joined deltas (refusal normalised, [n] repaired)."""
        text, note = tidy(text, evidence)
        return Draft(text=text, answerer=self.name, note=note)

    def stream(self, question: str, evidence: list[Evidence]) -> Iterator[str]:
        """Yield the answer's text deltas as they are generated (raw: pass the joined text
        to ``to_draft`` for the normalised Draft).

        The lock is held until the generator finishes or is closed, so close abandoned
        streams (``with contextlib.closing(...)``) rather than leaving them to the GC.
        """
        if not evidence:
            yield REFUSAL
            return
        messages = build_messages(question, evidence)
        with self._serialized():
            try:
                started = False
                for chunk in self.llm.stream_chat(messages):
                    delta = chunk.delta or ""
                    if not started:
                        delta = delta.lstrip()
                        started = bool(delta)
                    if delta:
                        yield delta
            except Exception as exc:
                raise LLMAnswerError(f"{self.name} failed: {exc}") from exc

    def warm_up(self) -> None:
        """Evaluate the static prompt prefix once so the first real question reuses its cache.

        Only meaningful for a local llama.cpp model (saves ~10 s on the first question);
        a no-op for other LLMs.
        """
        if not is_local(self.llm):
            return
        with self._serialized():
            self.llm._model.create_completion(static_prefix(), max_tokens=1, temperature=0.0)


def local_model_path(settings: Settings) -> Path:
    """``settings.llm_model_path``, else Qwen2.5-Coder-1.5B assembled from its PyPI parts."""
    return settings.llm_model_path or qwen15b_path(Path(settings.data_dir) / "models")


def local_llm(settings: Settings) -> LLM:
    """Load a GGUF through llama-index's ``LlamaCPP`` with ChatML formatting, never downloading.

    The model is ``settings.llm_model_path`` or the Qwen2.5-Coder-1.5B assembled from its
    PyPI parts under ``settings.data_dir / "models"``. Threads are set explicitly: llama.cpp
    would otherwise take every core for prompt batches.
    """
    try:
        from llama_index.llms.llama_cpp import LlamaCPP
    except ImportError as exc:
        raise LLMAnswerError(
            "local-llm needs llama-cpp-python and llama-index-llms-llama-cpp; "
            "run `bash scripts/install_llm.sh`"
        ) from exc
    threads = max(1, settings.llm_threads)
    return LlamaCPP(
        # always a path: without one LlamaCPP downloads a model
        model_path=str(local_model_path(settings)),
        temperature=0.0,  # greedy: the same evidence gives the same answer
        max_new_tokens=settings.llm_max_tokens,
        context_window=settings.llm_context,
        generate_kwargs={"stop": list(STOP)},
        model_kwargs={"n_threads": threads, "n_threads_batch": threads},
        messages_to_prompt=messages_to_chatml,
        completion_to_prompt=completion_to_chatml,
        verbose=False,
    )


def openai_llm(settings: Settings) -> LLM:
    """An OpenAI-compatible chat endpoint (llama.cpp server, vLLM, OpenAI) via ``OpenAILike``."""
    from llama_index.llms.openai_like import OpenAILike

    return OpenAILike(
        model=settings.openai_model,
        api_base=settings.openai_base_url,
        api_key=settings.openai_api_key,
        is_chat_model=True,
        is_function_calling_model=False,
        context_window=settings.llm_context,
        max_tokens=settings.llm_max_tokens,
        temperature=0.0,
        timeout=settings.llm_timeout_s,
        max_retries=1,  # fail fast: the service falls back to extractive
    )


_LOCAL_CACHE: dict[tuple[str, int, int, int], LLM] = {}
_JUDGE_CACHE: dict[tuple[str, int], LLMJudge] = {}
_CACHE_LOCK = threading.Lock()


def local_judge(settings: Settings, fitted: bool) -> LLMJudge | None:
    """The process-wide judge on the default local model, or None when ``llm_judge`` is off,
    another model is configured (the judged decision model was fitted for the default), or no
    judged decision model is ``fitted`` for the current features (then the judge would be a
    second model loaded for nothing)."""
    if not settings.llm_judge or settings.llm_model_path is not None or not fitted:
        return None
    path = local_model_path(settings)
    key = (str(path), settings.llm_threads)
    with _CACHE_LOCK:
        if key not in _JUDGE_CACHE:
            _JUDGE_CACHE[key] = load_judge(
                path, max(1, settings.llm_threads), LOCAL_LOCK, settings.llm_timeout_s
            )
        return _JUDGE_CACHE[key]


def local_answerer(settings: Settings, warm: bool = False, judged: bool = False) -> LLMAnswerer:
    """The process-wide local answerer: the model is loaded once and shared under LOCAL_LOCK.
    ``judged``: a judged decision model is committed, so the answerer carries a judge."""
    key = (
        str(settings.llm_model_path or Path(settings.data_dir) / "models"),
        settings.llm_threads,
        settings.llm_context,
        settings.llm_max_tokens,
    )
    with _CACHE_LOCK:
        llm = _LOCAL_CACHE.get(key)
        if llm is None:
            llm = _LOCAL_CACHE[key] = local_llm(settings)
    answerer = LLMAnswerer(
        llm,
        name="local-llm",
        lock_timeout_s=settings.llm_timeout_s,
        judge=local_judge(settings, judged),
    )
    if warm:
        answerer.warm_up()
    return answerer


def openai_answerer(settings: Settings) -> LLMAnswerer:
    """The OpenAI-compatible answerer; the server handles concurrency, so no lock."""
    return LLMAnswerer(openai_llm(settings), name="openai")
