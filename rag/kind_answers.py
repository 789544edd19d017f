"""Answer each kind of question other than one fact (issue 28), through the service's steps.

``rag.kinds`` says which kind a question wants; ``rag.compose`` holds the algorithms that pick
and lay out the evidence. This module wires them to the pipeline: every kind ends in the
service's ``finish`` (citation read-back and verification) or in ``refuse``, so each is
answered or refused like a single fact, by the same decision. One method per kind, found in
``KindAnswers.handlers``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, Literal, Protocol

from rag.answer.extractive import ExtractiveAnswerer
from rag.components import Components
from rag.compose import (
    central_sentences,
    documents_draft,
    lines_draft,
    list_items,
    mentions,
    merge_parts,
    naming_sentences,
    newest_first,
    oldest_first,
    sides_draft,
    summary_evidence,
    summary_sentences,
)
from rag.config import Settings
from rag.fitted import DATA_DIR
from rag.kinds import AnswerType, compare_sides, first_name, split_parts
from rag.refusal import REFUSAL, Refusal, refuse
from rag.retrieve import HybridRetriever
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
from rag.timing import summed, timed

SUMMARY_FIT = DATA_DIR / "summary.json"


class Pipeline(Protocol):
    """What the kinds use of ``rag.service.QAService``."""

    components: Components
    retriever: HybridRetriever
    extractive: ExtractiveAnswerer

    def retrieve(
        self, question: str, top_k: int | None = None, filters: Filters | None = None
    ) -> list[RetrievedChunk]: ...

    def prepare(self, query: Query | str, **fields: Any) -> tuple[AnswerResult, list[Evidence]]: ...

    def answer_one(self, q: Query) -> AnswerResult: ...

    def finish(
        self, result: AnswerResult, draft: Draft, evidence: list[Evidence]
    ) -> AnswerResult: ...

    def document(self, doc_id: str) -> tuple[DocumentMeta, str] | None: ...


def unanswered(q: Query, kind: AnswerType, standalone: str | None = None) -> AnswerResult:
    """The result a kind of answer starts from: neither an answer nor a refusal yet."""
    return AnswerResult(
        question=q.question,
        standalone_question=standalone or q.question,
        answer="",
        answerer="none",
        answer_type=kind,
    )


class KindAnswers:
    """One answering method per kind of question; ``answer`` picks it."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self.settings = pipeline.components.settings
        self.handlers: dict[str, Callable[[Query, str], AnswerResult]] = {
            "parts": self.parts,
            "documents": lambda q, topic: self.documents(q, topic, "documents"),
            "latest": lambda q, topic: self.documents(q, topic, "latest"),
            "timeline": lambda q, topic: self.documents(q, topic, "timeline"),
            "summary": self.summary,
            "list": self.items,
            "reason": self.reason,
            "compare": self.compare,
        }

    def answer(self, kind: AnswerType, q: Query, topic: str) -> AnswerResult:
        """``q`` answered as ``kind`` asks (``topic``: what a topic question is about)."""
        result = self.handlers[kind](q, topic)
        return result.model_copy(update={"answer_type": kind})

    def parts(self, q: Query, _topic: str) -> AnswerResult:
        """Each part answered in turn, the earlier parts as its conversation (so "it" in the
        second part names what the first asked about), merged into one answer."""
        parts = split_parts(q.question)
        history = list(q.history or [])
        results = []
        for part in parts:
            asked = q.model_copy(update={"question": part, "history": history})
            r = self.pipeline.answer_one(asked)
            results.append(r)
            history += [
                ChatTurn(role="user", content=part),
                ChatTurn(role="assistant", content=r.answer),
            ]
        standalone = " ".join(r.standalone_question for r in results)
        whole = unanswered(q, "parts", standalone)
        whole.timings = summed([r.timings for r in results])
        if all(r.abstained for r in results):
            first = results[0]
            why = Refusal(first.refusal) if first.refusal else Refusal.LOW_CONFIDENCE
            return refuse(whole, why, "no part of the question is answered")
        return whole.model_copy(update=merge_parts(parts, results))

    def documents(
        self, q: Query, topic: str, kind: Literal["documents", "latest", "timeline"]
    ) -> AnswerResult:
        """The documents that name ``topic``, each with its first such sentence, cited; for
        "latest" only the newest few, newest first; for "timeline" all in date order (each
        line says its date)."""
        result = unanswered(q, kind)
        with timed(result.timings, "retrieve"):
            k = max(q.top_k or 0, self.settings.documents_top_k)
            result.retrieved = self.pipeline.retriever.retrieve(topic, k, q.filters)
        evidence = mentions(topic, result.retrieved, self.settings.documents_max)
        if not evidence and first_name(topic) not in ("", topic):
            # "events in the Harlow Basin": no sentence says that; the name is what is asked.
            evidence = mentions(first_name(topic), result.retrieved, self.settings.documents_max)
        if kind == "latest":
            evidence = newest_first(evidence, self.settings.latest_max)
        elif kind == "timeline":
            evidence = oldest_first(evidence)
        if not evidence:
            return refuse(result, Refusal.NO_EVIDENCE, f"no briefing names {topic!r}")
        result = result.model_copy(update={"tier": "answer", "confidence": 1.0})
        return self.pipeline.finish(result, documents_draft(evidence, self._name), evidence)

    def summary(self, q: Query, topic: str) -> AnswerResult:
        """The central sentences of the document that best matches ``topic``, cited."""
        result = unanswered(q, "summary")
        with timed(result.timings, "retrieve"):
            result.retrieved = self.pipeline.retrieve(topic, q.top_k, q.filters)
        stored = self.pipeline.document(result.retrieved[0].doc_id) if result.retrieved else None
        if stored is None:
            return refuse(result, Refusal.NO_EVIDENCE, f"no briefing matches {topic!r}")
        meta, text = stored
        s = self.settings
        spans = summary_sentences(text, s.summary_min_words)
        with timed(result.timings, "select_evidence"):
            vectors = self.pipeline.components.embedder.embed_texts([text[a:b] for a, b in spans])
            diversity, lead = summary_weights(s)
            picked = central_sentences(vectors, s.summary_sentences, diversity, lead)
        doc = RetrievedChunk(
            chunk_id=f"{meta.doc_id}:whole",
            doc_id=meta.doc_id,
            text=text,
            start_char=0,
            end_char=len(text),
            **meta.model_dump(include={"title", "date", "source", "url", "content_hash"}),
        )
        evidence = summary_evidence(doc, spans, picked)
        if not evidence:
            return refuse(result, Refusal.NO_EVIDENCE, f"nothing to summarize in {meta.doc_id}")
        result = result.model_copy(update={"tier": "answer", "confidence": 1.0})
        return self.pipeline.finish(result, lines_draft(evidence, self._name), evidence)

    def items(self, q: Query, _topic: str) -> AnswerResult:
        """Every item of the enumeration that holds the reader's answer, one cited line each,
        in the sentence's order; ``short_answer`` is the enumeration as written. Decided like
        one fact: no answer, no list; a span that stands alone is quoted as a fact is."""
        result, evidence = self.pipeline.prepare(q)
        if result.abstained or not evidence:
            return result
        span = result.short_answer or ""
        holding = [e for e in evidence if span and span in e.text]
        names: list[str] = []
        if holding:
            ev = max(holding, key=lambda e: e.score)
            start = ev.text.index(span)
            found = list_items(ev.text, start, start + len(span))
            names = list(dict.fromkeys(ev.text[a:b] for a, b in found))
        if len(names) < 2:
            lead = span if result.leads else None
            draft = self.pipeline.extractive.quote(result.standalone_question, evidence, lead)
            return self.pipeline.finish(result, draft, evidence)
        whole = ev.text[found[0][0] : found[-1][1]]
        draft = Draft(text="\n".join(f"{n} [{ev.n}]" for n in names), answerer=self._name)
        result = result.model_copy(update={"short_answer": whole, "leads": True})
        return self.pipeline.finish(result, draft, evidence)

    def reason(self, q: Query, _topic: str) -> AnswerResult:
        """The sentence(s) that state why or how, quoted and cited, with no short answer."""
        result, evidence = self.pipeline.prepare(q)
        if result.abstained or not evidence:
            return result
        draft = self.pipeline.extractive.quote(result.standalone_question, evidence, None)
        result = result.model_copy(update={"short_answer": None, "leads": False})
        done = self.pipeline.finish(result, draft, evidence)
        return done.model_copy(update={"short_answer": None, "leads": False})

    def compare(self, q: Query, _topic: str) -> AnswerResult:
        """For each side of "compare X and Y", the sentences naming it that best match the
        question, one cited line each; a side no briefing names says so."""
        result = unanswered(q, "compare")
        names = compare_sides(q.question)
        asked = {name: asked_about(q.question, names, name) for name in names}
        found_by: dict[str, tuple[str, list[Evidence]]] = {}
        for name in names:
            with timed(result.timings, "retrieve"):
                chunks = self.pipeline.retrieve(asked[name], q.top_k, q.filters)
            result.retrieved += chunks
            found_by[name] = self._naming(name, chunks)
        sides: list[tuple[str, list[Evidence]]] = []
        for name in names:
            # A sentence about both sides says nothing of one against the other: a side's
            # own sentences first, shared ones only when it has none.
            label, found = found_by[name]
            others = {_place(e) for o in names if o != name for e in found_by[o][1]}
            own = [e for e in found if _place(e) not in others] or found
            sides.append((label, self._closest(asked[name], own)))
        evidence = _numbered([e for _, found in sides for e in found])
        if not evidence:
            return refuse(result, Refusal.NO_EVIDENCE, "no briefing names either side")
        by_place = {_place(e): e for e in evidence}
        sides = [(n, [by_place[_place(e)] for e in f]) for n, f in sides]
        result = result.model_copy(update={"tier": "answer", "confidence": 1.0})
        done = self.pipeline.finish(result, sides_draft(sides, self._name), evidence)
        unnamed = [name for name, found in sides if not found]
        if done.abstained or not unnamed:
            return done
        # A side no briefing names is said so on its own line (a refusal is not a claim to
        # verify) and in the note.
        lines = [done.answer] + [f"{name}: {REFUSAL}" for name in unnamed]
        note = "; ".join([*filter(None, [done.note]), f"no briefing names {', '.join(unnamed)}"])
        return done.model_copy(update={"answer": "\n".join(lines), "note": note})

    def _naming(self, name: str, chunks: Sequence[RetrievedChunk]) -> tuple[str, list[Evidence]]:
        """(label, sentences): those naming ``name``; failing that, those naming its first
        proper name, labelled with it (no sentence says "Dravia's herring quota" word for
        word; many name Dravia), so each line says what its quote names."""
        found = naming_sentences(name, chunks)
        short = first_name(name)
        if not found and short not in ("", name):
            by_short = naming_sentences(short, chunks)
            return (short, by_short) if by_short else (name, [])
        return name, found

    def _closest(self, asked: str, candidates: Sequence[Evidence]) -> list[Evidence]:
        """The ``compare_sentences`` candidates most like what is ``asked`` about one side
        (embedding cosine), in their retrieval order."""
        k = self.settings.compare_sentences
        if len(candidates) <= k:
            return list(candidates)
        embed = self.pipeline.components.embedder.embed_texts
        vectors = embed([asked] + [c.text for c in candidates])
        scores = vectors[1:] @ vectors[0]
        best = sorted(range(len(candidates)), key=lambda i: -scores[i])[:k]
        return [candidates[i] for i in sorted(best)]

    @property
    def _name(self) -> str:
        return self.pipeline.extractive.name


def summary_weights(settings: Settings) -> tuple[float, float]:
    """(diversity, lead) of a summary: the settings', else those fitted on dev by
    ``scripts/fit_summary.py``."""
    fitted = json.loads(SUMMARY_FIT.read_text(encoding="utf-8"))
    diversity = settings.summary_diversity
    lead = settings.summary_lead
    return (
        float(fitted["diversity"]) if diversity is None else diversity,
        float(fitted["lead"]) if lead is None else lead,
    )


def asked_about(question: str, sides: Sequence[str], side: str) -> str:
    """The question with the other sides taken out: what is asked about ``side``."""
    for other in sides:
        if other != side:
            question = question.replace(other, " ")
    return " ".join(question.split())


def _place(e: Evidence) -> tuple[str, int]:
    return (e.chunk.doc_id, e.start_char)


def _numbered(evidence: Sequence[Evidence]) -> list[Evidence]:
    """Each place once, numbered from 1 in order."""
    seen: dict[tuple[str, int], Evidence] = {}
    for e in evidence:
        seen.setdefault(_place(e), e)
    return [e.model_copy(update={"n": i}) for i, e in enumerate(seen.values(), start=1)]
