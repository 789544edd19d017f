"""Pure scoring functions for one question and for a whole run.

Nothing here touches I/O or the service, so every number in a report can be recomputed
by hand from ``report.json``'s per-question rows.

Conventions used throughout:

* Text is compared after :func:`normalize` (lowercase, punctuation -> space, collapsed
  whitespace). Articles are *kept*, so "the State Department" still matches verbatim quotes.
* A gold *source* matches a document when it equals the ``doc_id`` or, case-insensitively,
  the document's non-empty title. That lets gold files name briefings either way.
* Retrieval is judged on the ranked list of *distinct* documents (chunks of one document
  collapse to its first rank), because sources are documents, not chunks.

Denominators, chosen so each metric answers one question about the system:

* ``answer_accuracy``: answerable questions; correct means the gold answer is in the
  answer *and* it did not abstain. Unanswerable questions are excluded (they are
  measured by ``abstention_accuracy``), so the two never blur together.
* ``token_f1`` / ``exact_match``: answerable questions, abstentions scored 0.
* ``citation_precision`` / ``citation_recall``: answerable, non-abstained answers.
* ``retrieval_recall_at_5`` / ``mrr``: answerable questions with gold sources.
* ``abstention_accuracy``: unanswerable questions (share abstained).
* ``false_abstention_rate``: answerable questions (share abstained).
* ``support_rate``: all answer sentences of non-abstained answers (share supported),
  including answers to unanswerable questions, where unsupported text is most likely.
* ``latency_*``: every question, including failed calls.
* ``squad_em`` / ``squad_f1``: every question, SQuAD 2.0 style on the short answer (an
  abstention predicts ""); ``hasans_f1`` over answerable questions, ``noans_accuracy``
  over unanswerable ones (share predicting "").
* ``mean_confidence``: answered questions.
* ``documents_f1``: "which briefings mention X" questions (gold category ``documents``): F1
  of the cited documents against the gold ones (a refusal scores 0, or 1 when none is gold).
* ``parts_ok``: questions with gold ``parts``: the share of parts answered right on their
  own line, or refused there when the part is unanswerable.
* ``latest_ok``: "the latest on X" questions (category ``latest``): 1 when the first cited
  document is the gold (newest) one, or when a question no briefing answers is refused.
* ``parts_handled``: the same questions: the share of parts that got their own line, with an
  answer or with "the briefings don't say" (or the whole refused) - the issue's target.
* ``summary_coverage``: "summarize X" questions (category ``summary``): the share of the gold
  ``key_sentences`` the answer quotes (compared after ``normalize``).
* ``list_f1``: list questions (category ``list``): item F1, recall the share of gold ``items``
  the answer names, precision the share of the answer's items (its lines, or the pieces of its
  short answer) that are gold items; a refused unanswerable list scores 1.
* ``timeline_f1``: timeline questions: ``documents_f1``, or 0 when the cited documents are not
  in the gold (date) order.
* ``reason_coverage``: why/how questions (category ``reason``): share of the key sentences
  quoted; a refused unanswerable one scores 1.
* ``compare_coverage``: comparisons (category ``compare``): the share of sides whose key
  sentences the answer quotes at least one of.
* ``answer_tier_precision`` / ``guess_precision``: of the responses in that tier (answered
  at or above the decision's threshold; a best guess below it), the share that answered an
  answerable question correctly; ``guess_share``: every question, share of best guesses.
  (A best guess counts as an answer everywhere else.)
"""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from rag.text import strip_citations

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)

SUMMARY_KEYS: tuple[str, ...] = (
    "n",
    "answer_accuracy",
    "citation_precision",
    "citation_recall",
    "retrieval_recall_at_5",
    "mrr",
    "abstention_accuracy",
    "false_abstention_rate",
    "support_rate",
    "latency_p50_s",
    "latency_p95_s",
    "token_f1",
    "exact_match",
    "squad_em",
    "squad_f1",
    "hasans_f1",
    "noans_accuracy",
    "mean_confidence",
    "answer_tier_precision",
    "guess_share",
    "guess_precision",
    "documents_f1",
    "parts_ok",
    "latest_ok",
    "summary_coverage",
    "parts_handled",
    "list_f1",
    "timeline_f1",
    "reason_coverage",
    "compare_coverage",
)
"""Every summary has exactly these keys; a value is ``None`` when no question qualifies."""


# --- text --------------------------------------------------------------------------------


def normalize(text: str) -> str:
    """Lowercase, turn punctuation (incl. ``_`` and dashes) into spaces, collapse whitespace.

    Deliberately minimal so a gold string copied from the briefing always survives it.
    """
    return " ".join(_NON_WORD.sub(" ", text.lower()).split())


def _contains_phrase(haystack: str, needle: str) -> bool:
    """Whole-word phrase containment on already-normalized text ("30" must not hit "300")."""
    if not needle:
        return False
    return f" {needle} " in f" {haystack} "


def is_correct(answer: str, gold_answers: Sequence[str]) -> bool:
    """True when any normalized gold answer occurs in the normalized answer at word boundaries.

    Containment (not equality) because answers are sentences; word boundaries because
    substring matching would credit "10" inside "2010".
    """
    norm = normalize(answer)
    return any(_contains_phrase(norm, normalize(g)) for g in gold_answers)


def exact_match(prediction: str, gold_answers: Sequence[str]) -> bool:
    """Normalized equality with the best gold answer; strict, rewards terse answers only."""
    norm = normalize(prediction)
    return any(norm == normalize(g) for g in gold_answers)


def _f1(pred_tokens: list[str], gold_tokens: list[str]) -> float:
    """SQuAD-style bag-of-tokens F1 between two token lists."""
    if not pred_tokens or not gold_tokens:
        return float(pred_tokens == gold_tokens)
    common = sum((Counter(pred_tokens) & Counter(gold_tokens)).values())
    if common == 0:
        return 0.0
    precision = common / len(pred_tokens)
    recall = common / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def token_f1(prediction: str, gold_answers: Sequence[str]) -> float:
    """Best token F1 over gold answers; a soft signal that penalizes long, padded answers."""
    if not gold_answers:
        return 0.0
    pred = normalize(prediction).split()
    return max(_f1(pred, normalize(g).split()) for g in gold_answers)


# --- SQuAD 2.0 scoring of the short answer ---------------------------------------------------

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCT = frozenset(string.punctuation)


def squad_normalize(text: str) -> str:
    """The official SQuAD 2.0 normalisation: lower case, drop punctuation and articles,
    collapse white space (evaluate-v2.0.py's ``normalize_answer``)."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCT)
    return " ".join(_ARTICLES.sub(" ", text).split())


def squad_scores(prediction: str, gold_answers: Sequence[str]) -> tuple[float, float]:
    """(EM, F1) as SQuAD 2.0 scores them: max over gold answers; an unanswerable question
    (no gold answers) scores 1 only for the empty prediction, i.e. an abstention."""
    golds = [g for g in gold_answers if squad_normalize(g)] or [""]
    pred = squad_normalize(prediction)
    em = max(float(pred == squad_normalize(g)) for g in golds)
    f1 = max(_f1(pred.split(), squad_normalize(g).split()) for g in golds)
    return em, f1


# --- retrieval and citations -----------------------------------------------------------------


def _source_matches(source: str, doc_id: str, title: str) -> bool:
    """A gold source names a doc by exact ``doc_id`` or by its title, case-insensitively."""
    if source == doc_id:
        return True
    return bool(title) and source.casefold() == title.casefold()


def _distinct_docs(doc_ids: Sequence[str], titles: Sequence[str]) -> list[tuple[str, str]]:
    """Collapse a ranked chunk list to ranked distinct ``(doc_id, title)`` pairs."""
    if len(titles) not in (0, len(doc_ids)):
        raise ValueError("titles must be empty or parallel to doc_ids")
    padded = list(titles) if titles else [""] * len(doc_ids)
    seen: set[str] = set()
    out: list[tuple[str, str]] = []
    for doc_id, title in zip(doc_ids, padded, strict=True):
        if doc_id not in seen:
            seen.add(doc_id)
            out.append((doc_id, title))
    return out


def _require_sources(gold_sources: Sequence[str]) -> None:
    """Source-based metrics are undefined without gold sources; fail loudly, not 0 or 1."""
    if not gold_sources:
        raise ValueError("gold_sources is empty; this metric is undefined")


def recall_at_k(
    retrieved_doc_ids: Sequence[str],
    retrieved_titles: Sequence[str],
    gold_sources: Sequence[str],
    k: int,
) -> float:
    """Share of gold sources found among the top ``k`` distinct retrieved documents."""
    _require_sources(gold_sources)
    top = _distinct_docs(retrieved_doc_ids, retrieved_titles)[:k]
    hits = sum(1 for s in set(gold_sources) if any(_source_matches(s, d, t) for d, t in top))
    return hits / len(set(gold_sources))


def mrr(
    retrieved_doc_ids: Sequence[str],
    retrieved_titles: Sequence[str],
    gold_sources: Sequence[str],
    k: int | None = None,
) -> float:
    """Reciprocal rank of the first distinct document matching any gold source (0 if none)."""
    _require_sources(gold_sources)
    docs = _distinct_docs(retrieved_doc_ids, retrieved_titles)
    if k is not None:
        docs = docs[:k]
    for rank, (doc_id, title) in enumerate(docs, start=1):
        if any(_source_matches(s, doc_id, title) for s in gold_sources):
            return 1.0 / rank
    return 0.0


def citation_precision(
    cited_doc_ids: Sequence[str],
    cited_titles: Sequence[str],
    gold_sources: Sequence[str],
) -> float:
    """Share of distinct cited documents that are gold sources.

    An answer without citations scores 0: the service promises cited answers, so an
    uncited, non-abstained answer is a citation failure rather than "undefined".
    """
    _require_sources(gold_sources)
    docs = _distinct_docs(cited_doc_ids, cited_titles)
    if not docs:
        return 0.0
    good = sum(1 for d, t in docs if any(_source_matches(s, d, t) for s in gold_sources))
    return good / len(docs)


def citation_recall(
    cited_doc_ids: Sequence[str],
    cited_titles: Sequence[str],
    gold_sources: Sequence[str],
) -> float:
    """Share of distinct gold sources cited at least once."""
    _require_sources(gold_sources)
    docs = _distinct_docs(cited_doc_ids, cited_titles)
    sources = set(gold_sources)
    hits = sum(1 for s in sources if any(_source_matches(s, d, t) for d, t in docs))
    return hits / len(sources)


# --- abstention ------------------------------------------------------------------------------


def _share(flags: Sequence[bool]) -> float | None:
    """Mean of booleans, ``None`` for an empty list so "no data" never reads as 0% or 100%."""
    return sum(flags) / len(flags) if flags else None


def abstention_accuracy(abstained_on_unanswerable: Sequence[bool]) -> float | None:
    """Share of unanswerable questions the system abstained on (higher is better)."""
    return _share(abstained_on_unanswerable)


def false_abstention_rate(abstained_on_answerable: Sequence[bool]) -> float | None:
    """Share of answerable questions the system wrongly abstained on (lower is better)."""
    return _share(abstained_on_answerable)


# --- latency ---------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default method); ``q`` is in [0, 100]."""
    if not values:
        raise ValueError("percentile of an empty sequence")
    if not 0 <= q <= 100:
        raise ValueError(f"q must be within [0, 100], got {q}")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


# --- aggregation -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """The already-scored facts of one question, i.e. what :func:`summarize` aggregates.

    ``None`` in a per-question metric means "not applicable" (e.g. citation precision of an
    abstained answer), which keeps the denominators in :func:`summarize` explicit.
    """

    answerable: bool
    abstained: bool
    correct: bool
    latency_s: float
    token_f1: float | None = None
    exact_match: bool | None = None
    recall_at_5: float | None = None
    reciprocal_rank: float | None = None
    citation_precision: float | None = None
    citation_recall: float | None = None
    supported: list[bool] = field(default_factory=list)
    squad_em: float = 0.0
    squad_f1: float = 0.0
    confidence: float | None = None
    tier: str | None = None  # answer | guess | refusal (rag.schema.AnswerResult.tier)
    documents_f1: float | None = None  # "which briefings mention X": cited vs gold documents
    parts_ok: float | None = None  # several questions in one: share of parts handled right
    latest_ok: float | None = None  # "the latest on X": the newest briefing is cited first
    summary_coverage: float | None = None  # "summarize X": share of key sentences quoted
    parts_handled: float | None = None  # several in one: share of parts answered or refused
    list_f1: float | None = None  # list questions: item F1
    timeline_f1: float | None = None  # timelines: documents F1 when in date order, else 0
    reason_coverage: float | None = None  # why / how: share of key sentences quoted
    compare_coverage: float | None = None  # comparisons: share of sides quoted


def _mean(values: Sequence[float | None]) -> float | None:
    """Mean over applicable (non-``None``) values, ``None`` if there are none."""
    kept = [v for v in values if v is not None]
    return sum(kept) / len(kept) if kept else None


def summarize(outcomes: Sequence[Outcome]) -> dict[str, float | int | None]:
    """Aggregate one answerer's outcomes into the fixed :data:`SUMMARY_KEYS` (the
    denominators are in the module docstring)."""
    answerable = [o for o in outcomes if o.answerable]
    unanswerable = [o for o in outcomes if not o.answerable]
    answered = [o for o in answerable if not o.abstained]
    sentences = [s for o in outcomes if not o.abstained for s in o.supported]
    latencies = [o.latency_s for o in outcomes]

    def f1_of(o: Outcome) -> float:
        return 0.0 if o.abstained else (o.token_f1 or 0.0)

    def em_of(o: Outcome) -> float:
        return 0.0 if o.abstained else float(bool(o.exact_match))

    summary: dict[str, float | int | None] = {
        "n": len(outcomes),
        "answer_accuracy": _share([o.correct and not o.abstained for o in answerable]),
        "citation_precision": _mean([o.citation_precision for o in answered]),
        "citation_recall": _mean([o.citation_recall for o in answered]),
        "retrieval_recall_at_5": _mean([o.recall_at_5 for o in answerable]),
        "mrr": _mean([o.reciprocal_rank for o in answerable]),
        "abstention_accuracy": abstention_accuracy([o.abstained for o in unanswerable]),
        "false_abstention_rate": false_abstention_rate([o.abstained for o in answerable]),
        "support_rate": _share(sentences),
        "latency_p50_s": percentile(latencies, 50) if latencies else None,
        "latency_p95_s": percentile(latencies, 95) if latencies else None,
        "token_f1": _mean([f1_of(o) for o in answerable]) if answerable else None,
        "exact_match": _mean([em_of(o) for o in answerable]) if answerable else None,
        "squad_em": _mean([o.squad_em for o in outcomes]),
        "squad_f1": _mean([o.squad_f1 for o in outcomes]),
        "hasans_f1": _mean([o.squad_f1 for o in answerable]),
        "noans_accuracy": _mean([o.squad_em for o in unanswerable]),
        "mean_confidence": _mean([o.confidence for o in outcomes if not o.abstained]),
        "answer_tier_precision": _share(
            [o.correct for o in outcomes if o.tier == "answer" and not o.abstained]
        ),
        "guess_share": _share([o.tier == "guess" and not o.abstained for o in outcomes]),
        "guess_precision": _share(
            [o.correct for o in outcomes if o.tier == "guess" and not o.abstained]
        ),
        "documents_f1": _mean([o.documents_f1 for o in outcomes]),
        "parts_ok": _mean([o.parts_ok for o in outcomes]),
        "latest_ok": _mean([o.latest_ok for o in outcomes]),
        "summary_coverage": _mean([o.summary_coverage for o in outcomes]),
        "parts_handled": _mean([o.parts_handled for o in outcomes]),
        "list_f1": _mean([o.list_f1 for o in outcomes]),
        "timeline_f1": _mean([o.timeline_f1 for o in outcomes]),
        "reason_coverage": _mean([o.reason_coverage for o in outcomes]),
        "compare_coverage": _mean([o.compare_coverage for o in outcomes]),
    }
    assert tuple(summary) == SUMMARY_KEYS
    return summary


def documents_f1(
    cited_doc_ids: Sequence[str], cited_titles: Sequence[str], gold_sources: Sequence[str]
) -> float:
    """F1 of the documents an answer cites against the gold set (1.0 when both are empty)."""
    if not gold_sources:
        return 1.0 if not cited_doc_ids else 0.0
    if not cited_doc_ids:
        return 0.0
    p = citation_precision(cited_doc_ids, cited_titles, gold_sources)
    r = citation_recall(cited_doc_ids, cited_titles, gold_sources)
    return 2 * p * r / (p + r) if p + r else 0.0


def parts_ok(answer: str, parts: Sequence[tuple[Sequence[str], bool]], refusal: str) -> float:
    """Share of ``parts`` (gold answers, answerable) handled right: the answer's line for the
    part (or the whole answer when it has no line per part) holds a gold answer and no
    ``refusal``, or holds ``refusal`` for an unanswerable part."""
    lines = answer.split("\n")
    if len(lines) != len(parts):
        lines = [answer] * len(parts)
    ok = [
        (is_correct(line, golds) and refusal not in line) if answerable else refusal in line
        for line, (golds, answerable) in zip(lines, parts, strict=True)
    ]
    return sum(ok) / len(ok) if ok else 0.0


def coverage(answer: str, key_sentences: Sequence[str]) -> float:
    """Share of ``key_sentences`` that stand in ``answer`` (both normalized)."""
    text = normalize(answer)
    return sum(normalize(k) in text for k in key_sentences) / len(key_sentences)


def parts_handled(answer: str, parts: int, refusal: str) -> float:
    """Share of ``parts`` that have their own non-empty line (an answer or ``refusal``); all of
    them when the whole answer is ``refusal``."""
    if answer.strip() == refusal:
        return 1.0
    lines = [line for line in answer.split("\n") if line.strip()]
    return min(len(lines), parts) / parts if parts else 0.0


def list_items_f1(answer: str, short_answer: str | None, gold_items: Sequence[str]) -> float:
    """Item F1 of a list answer: recall over ``gold_items`` named in ``answer``; precision
    over the answer's items (its lines, or the pieces of ``short_answer`` when it has one line)
    that hold a gold item or stand in one."""
    gold = [normalize(g) for g in gold_items]
    text = normalize(answer)
    recall = sum(_contains_phrase(text, g) for g in gold) / len(gold) if gold else 0.0
    lines = [line for line in answer.split("\n") if line.strip()]
    if len(lines) < 2 and short_answer:
        lines = re.split(r",\s*(?:and\s+|or\s+)?|;\s*|\s+and\s+", short_answer)
    said = [normalize(strip_citations(line)) for line in lines]
    said = [s for s in said if s]
    right = sum(any(_contains_phrase(s, g) or _contains_phrase(g, s) for g in gold) for s in said)
    precision = right / len(said) if said else 0.0
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def in_order(cited: Sequence[str], gold: Sequence[str]) -> bool:
    """True when the cited documents that are gold stand in the gold order."""
    rank = {doc: i for i, doc in enumerate(gold)}
    seen = [rank[d] for d in dict.fromkeys(cited) if d in rank]
    return seen == sorted(seen)


def sides_covered(answer: str, sides: Sequence[Sequence[str]]) -> float:
    """Share of ``sides`` (each a list of key sentences) with a key sentence in ``answer``."""
    text = normalize(answer)
    return sum(any(normalize(k) in text for k in side) for side in sides) / len(sides)
