"""The question-answering service: the whole data path for one question, timed step by step.

rewrite -> screen -> retrieve -> rerank -> read -> select evidence -> decide -> answer -> cite
-> verify. The system grounds; an answerer only phrases. The trained reader reads the best
chunks (rag/read.py); the decision model (rag/decide.py) says how likely the best sentence
answers, from the reader's margin and the other signals: from its fitted threshold up the
service answers, from its floor up it gives a labelled best guess, below it refuses. Anything
the verifier can't back is dropped, and an answer with nothing left falls back to extractive or
refuses. Every refusal is written by rag/refusal.py, with its reason.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar

from rag.answer.base import Answerer, Drafting, Judging, Quoting, Rewriting, Streaming
from rag.cite import answer_sentences, build_citations, keep_cited
from rag.components import Components
from rag.decide import AnswerDecider, Assessment, judged_model
from rag.guard import screen_question
from rag.kind_answers import KindAnswers
from rag.kinds import answer_type, documents_topic
from rag.read import annotate, read_chunks
from rag.refusal import REFUSAL, Refusal, refuse
from rag.rerank import by_evidence
from rag.rewrite import accept_rewrite, standalone_question
from rag.schema import (
    AnswerResult,
    ChatTurn,
    DocumentMeta,
    Draft,
    Evidence,
    Filters,
    Query,
    RetrievedChunk,
)
from rag.steps import Steps, build_steps, document_texts
from rag.text import lead_in, terms
from rag.timing import timed

log = logging.getLogger(__name__)
T = TypeVar("T")


_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()
_POOL_WORKERS = 8  # concurrent LLM calls per process; more wait, and time out, in the queue


def _answer_pool() -> ThreadPoolExecutor:
    """The process-wide pool answerers run in (created on first use)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(_POOL_WORKERS, thread_name_prefix="answerer")
        return _POOL


class QAService:
    """Answers questions over the stored briefings with the steps of ``rag.steps`` (built from
    the components' settings unless given), and the answerers by name."""

    def __init__(
        self,
        components: Components,
        answerers: dict[str, Answerer] | None = None,
        steps: Steps | None = None,
    ) -> None:
        self.components = components
        self.settings = components.settings
        self.steps = steps or build_steps(components)
        self.retriever = self.steps.retriever
        self.postprocessors = self.steps.postprocessors
        self.selector = self.steps.selector
        self.decider = self.steps.decider
        self.chunk_reader = self.steps.chunk_reader
        self.reader = self.steps.reader
        self.verifier = self.steps.verifier
        self.extractive = self.steps.extractive
        self.answerers: dict[str, Answerer] = {"extractive": self.extractive, **(answerers or {})}
        self.judged_deciders = self._judged_deciders()
        # Called with each verified answer (the API's metrics and access log subscribe).
        self.on_answer: list[Callable[[AnswerResult], None]] = []
        self.kinds = KindAnswers(self)

    # --- the stored collection, for the API (routes never reach into the store) -------------
    def documents(self) -> list[DocumentMeta]:
        """Every stored document's metadata, sorted by ``doc_id``."""
        return self.components.store.list_documents()

    def document(self, doc_id: str) -> tuple[DocumentMeta, str] | None:
        """A stored document's metadata and cleaned text, or None."""
        return self.components.store.get_documents([doc_id]).get(doc_id)

    def count_undated(self, filters: Filters) -> int:
        """How many undated documents the filters' other conditions would admit."""
        return self.components.store.count_undated(filters)

    def ping(self) -> None:
        """Raise ``StoreUnavailable`` unless the store answers."""
        self.components.store.ping()

    def _before(self, chunks: list[RetrievedChunk]) -> list[str] | None:
        """The text before each chunk that the reader reads with it (``reader_context_chars``)."""
        chars = self.settings.reader_context_chars
        if chars <= 0:
            return None
        texts = document_texts(self.components.store, {c.doc_id for c in chunks})
        return [
            lead_in(texts[c.doc_id][1], c.start_char, chars) if c.doc_id in texts else ""
            for c in chunks
        ]

    def _judged_deciders(self) -> dict[str, AnswerDecider]:
        """A decider for each answerer that can judge (``judge``: an LLM's yes/no), with the
        decision model fitted with that signal; the others use ``self.decider``."""
        model = judged_model()
        out = {}
        for name, impl in self.answerers.items():
            judge = impl.judge if isinstance(impl, Judging) else None
            if judge is not None and model is not None:
                out[name] = AnswerDecider(
                    self.components.bm25.idf,
                    model=model,
                    threshold=self.settings.decide_threshold,
                    consider=self.settings.decide_consider,
                    floor=self.settings.decide_floor,
                    judge=judge.score,
                )
        return out

    def decider_for(self, answerer: str | None) -> AnswerDecider:
        """The decision for questions ``answerer`` will answer."""
        return self.judged_deciders.get(answerer or "", self.decider)

    def retrieve(
        self, question: str, top_k: int | None = None, filters: Filters | None = None
    ) -> list[RetrievedChunk]:
        """Fused retrieval, then each postprocessor in turn (they see a wider pool)."""
        pool = top_k or self.settings.top_k
        if self.postprocessors:
            pool = max(pool, self.settings.rerank_candidates)
        chunks = self.retriever.retrieve(question, pool, filters)
        for post in self.postprocessors:
            chunks = post.rerank(question, chunks)
        return chunks[: top_k or self.settings.top_k]

    def assess(
        self, question: str, evidence: list[Evidence], answerer: str | None = None
    ) -> list[Assessment]:
        """Judge the evidence as answers; ``evidence`` is reordered in place, most likely
        answer first, renumbered, with ``score`` set to the confidence of judged sentences."""
        judged = self.decider_for(answerer).judge(question, evidence)
        rest = [e for e in evidence if all(a.evidence is not e for a in judged)]
        ordered = [a.evidence.model_copy(update={"score": a.confidence}) for a in judged]
        ordered += [e.model_copy(update={"score": 0.0}) for e in rest]
        evidence[:] = [e.model_copy(update={"n": i}) for i, e in enumerate(ordered, start=1)]
        return judged

    @property
    def default_answerer(self) -> str:
        name = self.settings.answerer
        return name if name in self.answerers else "extractive"

    def prepare(self, query: Query | str, **fields: Any) -> tuple[AnswerResult, list[Evidence]]:
        """Everything up to answering; returns an abstained result when there is nothing to say.

        ``query.answerer`` names the one that will answer: an LLM may rewrite the follow-up too.
        """
        q = Query.of(query, **fields)
        question, history, answerer = q.question, q.history, q.answerer
        timings: dict[str, float] = {}
        with timed(timings, "rewrite"):
            standalone = standalone_question(question, history)
            if answerer is not None:
                standalone = self._rewrite(answerer, question, history or []) or standalone
            if len(standalone) > self.settings.max_question_chars:
                standalone = question  # a rewrite is held to the limit of a question
        # Not yet an answer nor a refusal: ``finish`` answers, ``refuse`` refuses.
        result = AnswerResult(
            question=question, standalone_question=standalone, answer="", answerer="none"
        )
        result.timings = timings  # pydantic copies on construction; keep filling the same dict
        if screen_question(question):
            return refuse(result, Refusal.OUT_OF_SCOPE), []
        with timed(timings, "retrieve"):
            result.retrieved = self.retrieve(standalone, q.top_k, q.filters)
        evidence = self.evidence(standalone, result.retrieved, timings)
        if self.settings.sources_by_evidence:
            result.retrieved = by_evidence(result.retrieved, evidence)
        with timed(timings, "decide"):
            judged = self.assess(standalone, evidence, answerer)
        if not judged:
            return refuse(result, Refusal.NO_EVIDENCE), []
        best = judged[0]
        result.confidence = best.confidence
        decider = self.decider_for(answerer)
        kind = answer_type(question) if self.settings.answer_kinds else "fact"
        result.tier = decider.tier(best, kind)
        if result.tier == "refusal":
            why = f"confidence {best.confidence:.2f} < {decider.floor_for(kind):.2f}"
            return refuse(result, Refusal.LOW_CONFIDENCE, why), []
        with timed(timings, "span"):
            span = self.reader.read(standalone, best.evidence, best.reading)
        short_threshold, lead_threshold = self.reader.thresholds()
        if span and span.probability >= short_threshold:
            result.short_answer = span.text  # provisional: kept only if cited (_settle)
            # A best guess never leads: its span is shown as a guess, after the quote.
            result.leads = span.probability >= lead_threshold and result.tier == "answer"
        return result, evidence

    def evidence(
        self, question: str, chunks: list[RetrievedChunk], timings: dict[str, float] | None = None
    ) -> list[Evidence]:
        """The evidence sentences the decision judges: the reader reads the best chunks, the
        cross-encoder's best sentences are kept with those holding the reader's best spans,
        and each is annotated with the reader's margin (``rag.read``)."""
        timings = timings if timings is not None else {}
        read = []
        if self.chunk_reader is not None and chunks:
            with timed(timings, "read"):
                top = chunks[: self.settings.reader_chunks]
                read = read_chunks(self.chunk_reader, question, top, self._before(top))
        ranked = self.settings.reader_pinned
        pinned = [(s.chunk.doc_id, s.start, s.end) for s in read[:ranked]]
        with timed(timings, "select_evidence"):
            evidence = self.selector.select(question, chunks, timings, pinned)
        return annotate(evidence, read, ranked) if read else evidence

    def resolve_answerer(self, name: str | None) -> str:
        name = name or self.default_answerer
        if name not in self.answerers:
            raise KeyError(
                f"unknown answerer '{name}'; available: {', '.join(sorted(self.answerers))}"
            )
        return name

    def ask(self, query: Query | str, **fields: Any) -> AnswerResult:
        """Answer one question (a ``Query``, or its text with ``Query`` fields as keywords);
        the last item of ``ask_stream`` without the text deltas."""
        *_, result = self.ask_stream(query, **fields)
        assert isinstance(result, AnswerResult)
        return result

    def ask_stream(self, query: Query | str, **fields: Any) -> Iterator[str | AnswerResult]:
        """Yield answer text as it is produced, then the verified ``AnswerResult``.

        Streaming answerers' tokens are passed on live; the final result may differ from them
        when verification drops a sentence, and clients should show the final ``answer``.
        A question of another kind than one fact (several in one, "which briefings mention
        X", a list, a summary, a comparison, a why) is answered by ``rag.kind_answers``.
        """
        started = time.perf_counter()
        q = Query.of(query, **fields)
        kind = answer_type(q.question) if self.settings.answer_kinds else "fact"
        topic = documents_topic(q.question)
        # A screened question takes the one-answer path, whose guard refuses it; so does a
        # topic question whose topic has no content term to look for.
        topical = kind in ("documents", "latest", "timeline", "summary")
        if screen_question(q.question) or (topical and not terms(topic)):
            kind = "fact"
        if kind == "fact":
            result = yield from self._answer_stream(q)
        else:
            result = self.kinds.answer(kind, q, topic)
            yield result.answer
        result.timings["total"] = round(time.perf_counter() - started, 4)
        for hook in self.on_answer:
            hook(result)
        yield result

    def answer_one(self, q: Query) -> AnswerResult:
        """The one-answer path, its text deltas dropped (a part of several questions)."""
        return _drained(self._answer_stream(q))

    def _answer_stream(self, q: Query) -> Generator[str, None, AnswerResult]:
        """The one-answer path: yields text deltas, returns the verified result."""
        name = self.resolve_answerer(q.answerer)
        result, evidence = self.prepare(q, answerer=name)
        if evidence:
            if evidence[0].suspect:  # the best evidence reads as instructions: only quote it
                name = self.extractive.name
            # An LLM is never prompted with text that addresses it; the extractive answerer
            # quotes, so it may use everything.
            impl = self.answerers[name]
            quoting = isinstance(impl, Quoting)
            shown = [e for e in evidence if not e.suspect or quoting]
            streaming = impl if isinstance(impl, Streaming) else None
            with timed(result.timings, "answer"):
                if isinstance(impl, Quoting):
                    lead = result.short_answer if result.leads else None
                    draft = impl.quote(result.standalone_question, shown, lead)
                elif streaming is None:
                    draft = self._draft(name, result.standalone_question, shown)
                else:
                    parts: list[str] = []
                    sent = 0
                    try:
                        for delta in streaming.stream(result.standalone_question, shown):
                            parts.append(delta)
                            text = "".join(parts)
                            # What may still become "The briefings don't say." is held back:
                            # a client never sees a refusal that the final answer overrules.
                            if REFUSAL.startswith(text.strip()):
                                continue
                            yield text[sent:]
                            sent = len(text)
                        text = "".join(parts)
                        draft = (
                            impl.to_draft(text, shown)
                            if isinstance(impl, Drafting)
                            else Draft(text=text, answerer=name)
                        )
                    except Exception as exc:  # the stream broke: answer without the LLM
                        log.warning("answerer %s stream failed (%s)", name, exc)
                        draft = self.extractive.answer(result.standalone_question, evidence)
                        draft.fell_back, draft.note = True, f"{name} failed: {exc}"
            result = self.finish(result, draft, evidence)
            if streaming is None:
                yield result.answer
        else:
            yield result.answer
        return result

    def _bounded(self, name: str, fn: Callable[..., T], *args: Any) -> tuple[T | None, str]:
        """``fn(*args)`` in a worker thread with ``llm_timeout_s`` in all; (result, "") or
        (None, why). A hung LLM costs the request that long, never more (its thread finishes
        in the background; the pool is bounded, so a dead server can't pile up threads)."""
        timeout = self.settings.llm_timeout_s
        future = _answer_pool().submit(fn, *args)
        try:
            return future.result(timeout=timeout), ""
        except FutureTimeout:
            future.cancel()  # still queued behind hung calls: never start it
            return None, f"{name} timed out after {timeout:g} s"
        except Exception as exc:  # a broken LLM must not fail the request
            return None, f"{name} failed: {exc}"

    def _draft(self, name: str, question: str, evidence: list[Evidence]) -> Draft:
        """The answerer's draft, or an extractive one flagged as a fallback."""
        impl = self.answerers[name]
        if isinstance(impl, Quoting):
            return impl.quote(question, evidence)
        draft, why = self._bounded(name, impl.answer, question, evidence)
        if draft is not None:
            return draft
        note = why + ("; answered extractively" if "timed out" in why else "")
        log.warning("answerer %s: %s; falling back to extractive", name, note)
        draft = self.extractive.answer(question, evidence)
        return draft.model_copy(update={"fell_back": True, "note": note})

    def _rewrite(self, name: str, question: str, history: list[ChatTurn]) -> str | None:
        """The LLM's standalone question when ``llm_rewrite`` is on and it is plausible."""
        impl = self.answerers[name]
        if not self.settings.llm_rewrite or not isinstance(impl, Rewriting) or not history:
            return None
        candidate, why = self._bounded(name, impl.rewrite, question, history)
        if candidate and accept_rewrite(candidate, question, history):
            return candidate
        log.info("LLM rewrite not used (%s): %r", why or "implausible", candidate)
        return None

    def finish(self, result: AnswerResult, draft: Draft, evidence: list[Evidence]) -> AnswerResult:
        """``result`` answered with a draft once cited and verified; else with the extractive
        fallback; else refused."""
        timings = result.timings
        for attempt in (draft, None):
            if attempt is None:
                if draft.answerer == self.extractive.name:
                    break
                attempt = self.extractive.answer(result.standalone_question, evidence)
                attempt = attempt.model_copy(
                    update={"fell_back": True, "note": f"{draft.answerer} answer not supported"}
                )
            with timed(timings, "cite"):
                text, citations = build_citations(attempt.text, evidence, self.components.store)
            with timed(timings, "verify"):
                support = self.verifier.check(answer_sentences(text), citations)
            kept = [s for s in support if s.supported]
            if kept:
                # Drop quotes no kept sentence cites, renumbering what remains.
                joiner = "\n" if "\n" in attempt.text else " "  # a list keeps its lines
                text, citations = keep_cited(joiner.join(s.sentence for s in kept), citations)
                support = self.verifier.check(answer_sentences(text), citations)
                answered = result.model_copy(
                    update={
                        "answer": text,
                        "citations": citations,
                        "support": support,
                        "grounded": all(s.supported for s in support),
                        "abstained": False,
                        "answerer": attempt.answerer + (" (fallback)" if attempt.fell_back else ""),
                        "note": attempt.note,
                    }
                )
                return answered.model_copy(update=self._settle(answered, attempt, evidence))
        return refuse(result.model_copy(update={"answerer": draft.answerer}), Refusal.UNSUPPORTED)

    def _settle(
        self, result: AnswerResult, draft: Draft, evidence: list[Evidence]
    ) -> dict[str, Any]:
        """Confidence, short answer and note of a verified answer, from what it really cites.

        Confidence is the best judged confidence among the cited sentences (an LLM may cite
        others than the first); the short answer is the answerer's span, else the decision's,
        and only when it is verbatim in a cited quote.
        """
        by_place = {(e.chunk.doc_id, e.start_char): e.score for e in evidence}
        cited = [by_place.get((c.doc_id, c.start_char), 0.0) for c in result.citations]
        confidence = round(max(cited, default=0.0), 4)
        if draft.confidence is not None:  # an answerer's own doubt can only lower it
            confidence = round(min(confidence, draft.confidence), 4)
        span = draft.short_answer or result.short_answer
        if draft.short_answer and self.chunk_reader is not None:
            cited_ev = [e for e in evidence if (e.chunk.doc_id, e.start_char) in places(result)]
            if not self.reader.accepts(draft.short_answer, cited_ev):
                span = result.short_answer  # the reader's answer stands
        quotes = [c.quote for c in result.citations]
        short = span if span and any(span in q for q in quotes) else None
        caveat = None
        if result.tier == "guess":
            caveat = f"best guess (confidence {confidence:.2f}, below the answer threshold)"
        elif confidence < self.settings.low_confidence_below:
            caveat = f"low confidence ({confidence:.2f}): the quotes may not answer the question"
        note = "; ".join(n for n in (result.note, caveat) if n) or result.note
        return {
            "confidence": confidence,
            "short_answer": short,
            "leads": result.leads and short is not None,
            "note": note,
        }


def places(result: AnswerResult) -> set[tuple[str, int]]:
    """(doc_id, start) of each citation of ``result``."""
    return {(c.doc_id, c.start_char) for c in result.citations}


# The keys of ``AnswerResult.timings``: ``read`` is the chunk reader; ``rerank`` (the
# cross-encoder) is part of ``select_evidence``; ``span`` (the short answer's span) is missing
# when the service abstains before it; ``total`` is the whole question.
STEPS = (
    "rewrite",
    "retrieve",
    "read",
    "rerank",
    "select_evidence",
    "decide",
    "span",
    "answer",
    "cite",
    "verify",
    "total",
)


def _drained(stream: Generator[str, None, AnswerResult]) -> AnswerResult:
    """The result a one-answer stream returns, its text deltas dropped."""
    while True:
        try:
            next(stream)
        except StopIteration as done:
            return done.value
