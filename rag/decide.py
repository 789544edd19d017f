"""Decide: answer, guess or refuse, from one calibrated probability that a sentence answers.

Relevance is not answerability: a sentence can be on topic and still miss what is asked
(a swapped country, a negation, an attribute the text never gives). The trained reader
(rag/read.py), which read each sentence with its whole chunk and learned SQuAD 2.0's near
misses, gives the main signal: its best span in the sentence over "no answer here", and
whether the sentence holds its best span of all chunks. The cross-encoder's relevance and
cheap checks that the question's constraints hold in the sentence (its names and numbers are
there, its negation matches, its subject and object keep their order around the asked verb, a
span of the asked type exists) add where they still help on dev. A logistic model over them,
fitted by ``eval/calibrate.py`` on dev questions only and stored in ``rag/data/decision.json``,
turns them into ``confidence``: from its fitted threshold up the service answers, from its
fitted floor up it answers with a labelled best guess, below it refuses (``rag.refusal``). When
a local LLM answers and a model fitted with its yes/no on the first-ranked sentence is
committed (``rag.answer.judge``, ``rag/data/decision-local-llm.json``), that model decides.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from rag.fitted import DATA_DIR, committed, linear, load_fitted
from rag.schema import Evidence
from rag.spans import Reading, ScoredSpan, question_kind, reading, span_context
from rag.text import WORD, Idf, entity_terms, stem, terms, weighted_share

DECISION_MODEL = DATA_DIR / "decision.json"
JUDGED_MODEL = DATA_DIR / "decision-local-llm.json"
CONTEXT_CHARS = 600  # about three sentences of a news chunk
# An LLM's yes/no margin (log P(yes) - log P(no)) on a sentence; None when it could not judge.
Judge = Callable[[str, Evidence], float | None]

_NEGATION = re.compile(
    r"\b(not|no|never|neither|nor|none|without|n't|cannot|declined|refused|failed|denied)\b|n't\b",
    re.IGNORECASE,
)

FEATURES = (
    "bias",
    "ce",
    "ce_gap",
    "ce_rank",
    "span_p",
    "explain",
    "entity_cover",
    "number_missing",
    "term_cover",
    "relation_cover",
    "relation_absent",
    "context_cover",
    "negation_mismatch",
    "order_agree",
    "reader_margin",
    "reader_unread",
    "reader_top",
)
JUDGED_FEATURES = (*FEATURES, "llm_yes")
JUDGE_CLIP = 10.0  # the margin's range that carries information; beyond it, certainty
READER_CLIP = 10.0  # the same for the reader's margin (logits)


def clipped(margin: float, clip: float) -> float:
    """A margin clipped to [-clip, clip] and scaled to [-2, 2]."""
    return max(-clip, min(clip, margin)) / (clip / 2)


def judge_feature(margin: float | None) -> float:
    """The ``llm_yes`` feature of a judge's margin: clipped, scaled to about [-2, 2]; 0.0 for
    no judgment (the first-ranked sentence alone is judged; the others get 0.0 too)."""
    return 0.0 if margin is None else clipped(margin, JUDGE_CLIP)


def _order_agreement(question: str, sentence: str) -> float:
    """Share of (named thing, asked verb) pairs in the same order in question and sentence.

    "Who did King Charles swear fealty to?" puts the king before the verb (the subject); a
    sentence "Rollo swore fealty to King Charles" puts him after it (the object): the roles
    are swapped, whatever the overlap says. 1.0 when there is nothing to compare.
    """
    q_toks = [stem(w) for w in WORD.findall(question)]
    s_toks = [stem(w) for w in WORD.findall(sentence)]
    named = set(entity_terms(question))
    verbs = [t for t in terms(question) if t not in named]
    pairs = agree = 0
    for e in named:
        for v in verbs:
            if e in q_toks and v in q_toks and e in s_toks and v in s_toks:
                pairs += 1
                q_before = q_toks.index(e) < q_toks.index(v)
                s_before = s_toks.index(e) < s_toks.index(v)
                agree += q_before == s_before
    return agree / pairs if pairs else 1.0


@dataclass(frozen=True)
class Assessment:
    """One evidence sentence judged as the answer: its features, confidence and scored spans
    (the read step re-uses them for the short answer)."""

    evidence: Evidence
    features: tuple[float, ...]
    confidence: float
    reading: Reading | None


def feature_vector(
    question: str,
    ev: Evidence,
    rank: int,
    top_ce: float,
    span: ScoredSpan | None,
    idf: Idf,
) -> tuple[float, ...]:
    """The features of one evidence sentence as the answer, in ``FEATURES`` order."""
    sentence = ev.text
    context = f"{ev.chunk.title} {ev.heading} {ev.before(CONTEXT_CHARS)}"
    own = set(terms(sentence))
    near = own | set(terms(context))
    ents = list(dict.fromkeys(entity_terms(question)))
    numbers = [e for e in ents if e[0].isdigit()]
    q_terms = list(dict.fromkeys(terms(question)))
    relation = [t for t in q_terms if t not in ents]
    negated_q = bool(_NEGATION.search(question))
    negated_s = bool(_NEGATION.search(sentence))
    f = {
        "bias": 1.0,
        "ce": ev.ce_score if ev.ce_score is not None else 0.0,
        "ce_gap": (ev.ce_score - top_ce) if ev.ce_score is not None else 0.0,
        "ce_rank": 1.0 / rank,
        "span_p": span.probability if span else 0.0,
        "explain": float(question_kind(question) == "explain"),
        "entity_cover": weighted_share(ents, near, idf),
        "number_missing": float(any(n not in near for n in numbers)),
        "term_cover": weighted_share(q_terms, own, idf),
        # The asked relation ("represented", "hosted") must be in the sentence itself: names
        # may come from the context, the verb may not.
        "relation_cover": weighted_share(relation, own, idf),
        "relation_absent": float(bool(relation) and not any(t in own for t in relation)),
        "context_cover": weighted_share(q_terms, near, idf),
        "negation_mismatch": float(negated_q != negated_s),
        "order_agree": _order_agreement(question, sentence),
        # The trained reader, which read the sentence with its chunk (rag.read): its best span
        # here over "no answer here"; a sentence of a chunk it did not read gets the floor.
        "reader_margin": clipped(ev.reader_margin, READER_CLIP)
        if ev.reader_margin is not None
        else -2.0,
        "reader_unread": float(ev.reader_margin is None),
        "reader_top": float(ev.reader_rank == 1),
    }
    return tuple(f[name] for name in FEATURES)


def considered(evidence: Sequence[Evidence], consider: int) -> list[tuple[int, Evidence]]:
    """(rank, sentence) of the sentences judged: the first ``consider`` in the cross-encoder's
    order, and any holding one of the reader's best spans (``Evidence.reader_rank``)."""
    return [
        (rank, ev)
        for rank, ev in enumerate(evidence, start=1)
        if rank <= consider or ev.reader_rank
    ]


@dataclass(frozen=True)
class DecisionModel:
    """Logistic regression over ``features`` plus the threshold fitted with it."""

    weights: tuple[float, ...]
    threshold: float
    fitted_on: str = ""
    features: tuple[str, ...] = FEATURES
    # Below ``threshold`` and from ``floor`` up the service answers with a labelled best guess.
    floor: float | None = None
    # The threshold for a kind of question (rag.kinds: "reason", "list") whose answers the
    # model scores lower or higher than a fact's, fitted on that kind's dev questions.
    kind_thresholds: tuple[tuple[str, float], ...] = ()

    @classmethod
    def load(
        cls, path: Path = DECISION_MODEL, features: tuple[str, ...] = FEATURES
    ) -> DecisionModel:
        weights, (threshold, floor), fitted_on = load_fitted(path, features, ["threshold", "floor"])
        kinds = json.loads(path.read_text(encoding="utf-8")).get("kind_thresholds", {})
        by_kind = tuple((str(k), float(v)) for k, v in sorted(kinds.items()))
        return cls(weights, threshold, fitted_on, features, floor, by_kind)

    @property
    def judged(self) -> bool:
        """True when fitted with an LLM's yes/no (``JUDGED_FEATURES``)."""
        return self.features == JUDGED_FEATURES

    def probability(self, vector: Sequence[float]) -> float:
        z = linear(self.weights, vector)
        return 1 / (1 + math.exp(-max(min(z, 30.0), -30.0)))


@cache
def default_model() -> DecisionModel | None:
    return committed(DecisionModel.load)


@cache
def judged_model() -> DecisionModel | None:
    """The committed model with the local LLM's yes/no, or None before it is fitted."""
    return committed(lambda: DecisionModel.load(JUDGED_MODEL, JUDGED_FEATURES))


class AnswerDecider:
    """Judges the top evidence sentences as answers and orders them by confidence.

    ``judge`` looks at the first ``consider`` sentences (the cross-encoder's order), so the
    sentence quoted first is the one most likely to answer, not merely the most on-topic one.
    Without a fitted model (a fresh checkout before calibration) confidence is the sigmoid
    of the cross-encoder logit. With a ``judge`` and a model fitted with it, the judge is
    asked about the first-ranked sentence (one LLM call a question, as it was fitted).
    """

    def __init__(
        self,
        idf: Idf = lambda _t: 1.0,
        model: DecisionModel | None = None,
        threshold: float | None = None,
        consider: int = 3,
        judge: Judge | None = None,
        floor: float | None = None,
    ) -> None:
        self.idf = idf
        self.model = model if model is not None else default_model()
        if (judge is not None) != bool(self.model and self.model.judged):
            raise ValueError("a judge needs a decision model fitted with it, and vice versa")
        fitted = self.model.threshold if self.model else 0.5
        self.threshold = fitted if threshold is None else threshold
        fitted_floor = self.model.floor if self.model and self.model.floor is not None else 1.0
        # A threshold set by hand moves the floor with it (no guesses above the threshold),
        # and holds for every kind of question.
        self.floor = min(self.threshold, fitted_floor if floor is None else floor)
        by_kind = self.model.kind_thresholds if self.model and threshold is None else ()
        self.kind_thresholds = dict(by_kind)
        self.consider = consider
        self.llm_judge = judge

    def judge(self, question: str, evidence: Sequence[Evidence]) -> list[Assessment]:
        if not evidence:
            return []
        top_ce = max((e.ce_score for e in evidence if e.ce_score is not None), default=0.0)
        out = []
        for rank, ev in considered(evidence, self.consider):
            found = reading(question, ev.text, span_context(ev))
            span = found.best() if found else None
            vector = feature_vector(question, ev, rank, top_ce, span, self.idf)
            if self.llm_judge is not None:
                margin = self.llm_judge(question, ev) if rank == 1 and not ev.suspect else None
                vector = (*vector, judge_feature(margin))
            if ev.suspect:  # text addressed to readers or assistants never answers
                confidence = 0.0
            elif self.model is not None:
                confidence = self.model.probability(vector)
            else:
                confidence = 1 / (1 + math.exp(-vector[FEATURES.index("ce")]))
            out.append(Assessment(ev, vector, round(confidence, 4), found))
        out.sort(key=lambda a: -a.confidence)
        return out

    def answers(self, assessment: Assessment) -> bool:
        return assessment.confidence >= self.threshold

    def threshold_for(self, kind: str = "fact") -> float:
        """The answer threshold for ``kind`` of question (the fitted one when it has one)."""
        return self.kind_thresholds.get(kind, self.threshold)

    def floor_for(self, kind: str = "fact") -> float:
        """The best-guess floor for ``kind``: never above its threshold."""
        return min(self.floor, self.threshold_for(kind))

    def tier(
        self, assessment: Assessment, kind: str = "fact"
    ) -> Literal["answer", "guess", "refusal"]:
        """answer from the kind's threshold up, a best guess from its floor up, else refuse."""
        if assessment.confidence >= self.threshold_for(kind):
            return "answer"
        return "guess" if assessment.confidence >= self.floor_for(kind) else "refusal"
