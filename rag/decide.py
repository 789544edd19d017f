"""Decide: answer or abstain, from one calibrated probability that a sentence answers.

Relevance is not answerability: a sentence can be on topic and still miss what is asked
(a swapped country, a negation, an attribute the text never gives). So the cross-encoder's
relevance is one signal among several cheap checks that the question's constraints hold in
the sentence: its names and numbers are there, its negation matches, its subject and object
keep their order around the asked verb, a span of the asked type exists. A logistic model
over them, fitted by ``eval/calibrate.py`` on dev questions only and stored in
``rag/data/decision.json``, turns them into ``confidence``; below the fitted threshold the
service abstains. When a local LLM answers, its own yes/no on the first-ranked sentence
(``rag.answer.judge``) is one more feature, in a model fitted with it
(``rag/data/decision-local-llm.json``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from rag.evidence import entity_terms, weighted_share
from rag.fitted import DATA_DIR, committed, linear, load_fitted
from rag.read import span_context
from rag.schema import Evidence
from rag.spans import Reading, ScoredSpan, question_kind, reading
from rag.text import WORD, stem, terms

DECISION_MODEL = DATA_DIR / "decision.json"
JUDGED_MODEL = DATA_DIR / "decision-local-llm.json"
CONTEXT_CHARS = 600  # about three sentences of a news chunk
Idf = Callable[[str], float]
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
)
JUDGED_FEATURES = (*FEATURES, "llm_yes")
JUDGE_CLIP = 10.0  # the margin's range that carries information; beyond it, certainty


def judge_feature(margin: float | None) -> float:
    """The ``llm_yes`` feature of a judge's margin: clipped, scaled to about [-2, 2]; 0.0 for
    no judgment (the first-ranked sentence alone is judged; the others get 0.0 too)."""
    if margin is None:
        return 0.0
    return max(-JUDGE_CLIP, min(JUDGE_CLIP, margin)) / (JUDGE_CLIP / 2)


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


def preceding(ev: Evidence, chars: int = CONTEXT_CHARS) -> str:
    """The chunk's text before the sentence (up to ``chars``): names an answer sentence
    leaves implicit ("Representing Dravia was ...") are usually set up a few sentences before."""
    offset = ev.start_char - ev.chunk.start_char
    return ev.chunk.text[max(0, offset - chars) : max(0, offset)]


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
    context = f"{ev.chunk.title} {ev.heading} {preceding(ev)}"
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
    }
    return tuple(f[name] for name in FEATURES)


@dataclass(frozen=True)
class DecisionModel:
    """Logistic regression over ``features`` plus the threshold fitted with it."""

    weights: tuple[float, ...]
    threshold: float
    fitted_on: str = ""
    features: tuple[str, ...] = FEATURES

    @classmethod
    def load(
        cls, path: Path = DECISION_MODEL, features: tuple[str, ...] = FEATURES
    ) -> DecisionModel:
        weights, (threshold,), fitted_on = load_fitted(path, features, ["threshold"])
        return cls(weights, threshold, fitted_on, features)

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
    ) -> None:
        self.idf = idf
        self.model = model if model is not None else default_model()
        if (judge is not None) != bool(self.model and self.model.judged):
            raise ValueError("a judge needs a decision model fitted with it, and vice versa")
        fitted = self.model.threshold if self.model else 0.5
        self.threshold = fitted if threshold is None else threshold
        self.consider = consider
        self.llm_judge = judge

    def judge(self, question: str, evidence: Sequence[Evidence]) -> list[Assessment]:
        if not evidence:
            return []
        top_ce = max((e.ce_score for e in evidence if e.ce_score is not None), default=0.0)
        out = []
        for rank, ev in enumerate(evidence[: self.consider], start=1):
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
