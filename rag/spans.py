"""Short answers: what kind of span a question asks for, candidate spans in a sentence, and a
fitted linear scorer that picks the one that answers.

No reader model ships anywhere we can reach, so span choice is a ranking problem over
candidates a general English grammar of names, numbers, dates and noun phrases proposes;
which features matter (type match, distance from the words the question matched, overlap
with the question, length, whether the first word is a common noun used as a title) is
learned by ``eval/calibrate.py`` on dev questions and stored in ``rag/data/spans.json``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import ClassVar

from rag.fitted import DATA_DIR, committed, linear, load_fitted
from rag.schema import Evidence
from rag.text import stem, terms

SPAN_MODEL = DATA_DIR / "spans.json"

_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.?"
)
_DATE = re.compile(
    rf"\b(?:\d{{1,2}}(?:\s*(?:to|-|–|and)\s*\d{{1,2}})?\s+{_MONTH}(?:,?\s+\d{{4}})?"
    rf"|{_MONTH}\s+\d{{1,2}}(?:\s*(?:-|–|to)\s*\d{{1,2}})?(?:,?\s+\d{{4}})?"
    rf"|{_MONTH}\s+\d{{4}}|(?:19|20)\d{{2}}s?|\d{{1,2}}(?:st|nd|rd|th)\s+centur(?:y|ies)"
    rf"|\d{{1,4}}\s*(?:BC|AD|BCE|CE))\b"
)
_NUMBER = re.compile(
    r"\$?\d[\d,.]*(?:\s*(?:per\s*cent|percent|%|million|billion|trillion|thousand|hundred))?"
)
_TOKEN = re.compile(r"[\w$][\w'’.,%-]*[\w%]|[\w$%]|[^\w\s]")
_OPEN, _CLOSE = "([“\"'‘", ")]”\"'’"
# Words that may sit inside a name ("Duchy of Normandy", "Bank of the Republic").
_CONNECT = frozenset({"of", "the", "de", "del", "la", "van", "von", "bin", "al"})
_LIST_JOIN = frozenset({",", "and", "or"})


@cache
def _stopwords() -> frozenset[str]:
    """NLTK's English stopwords (shipped inside llama-index-core): phrase boundaries."""
    from llama_index.core.utils import globals_helper

    return frozenset(globals_helper.stopwords)


_ASKS_DATE = re.compile(r"\b(when|(?:what|which) (?:date|day|month|year|century|decade|time))\b")
_ASKS_NUMBER = re.compile(
    # "how long" wants a measure, a length or a duration ("6.4 kilometres", "48 hours"), not a date
    r"\b(how (?:many|much|old|far|large|big|often|long)"
    r"|what (?:percentage|share|number|proportion|amount|sum))\b"
)


def question_kind(question: str) -> str:
    """The answer type a question asks for, from its wh-phrase (plain English grammar)."""
    q = question.lower()
    if re.search(r"\b(why|how come|for what reason|what (?:caused|led to))\b", q):
        return "explain"
    if re.search(r"^\s*how\b(?!\s+(?:many|much|long|old|far|large|big|often))", q):
        return "explain"
    if _ASKS_DATE.search(q):
        return "date"
    if _ASKS_NUMBER.search(q):
        return "number"
    if re.search(r"\b(who|whom|whose)\b", q):
        return "name"
    if re.search(r"\b(where|which (?:city|country|countries|place|region|town|state))\b", q):
        return "place"
    return "other"


@dataclass(frozen=True)
class Candidate:
    """A span of a sentence, ``text == sentence[start:end]``."""

    start: int
    end: int
    text: str
    kind: str  # date | number | name | list | phrase


def _tokens(sentence: str) -> list[tuple[int, int, str]]:
    out = []
    for m in _TOKEN.finditer(sentence):
        tok = m.group(0)
        end = m.end()
        while len(tok) > 1 and tok[-1] in ".,":  # "Norway." / "1066," end a sentence or clause
            tok, end = tok[:-1], end - 1
        out.append((m.start(), end, tok))
    return out


def _is_cap(tok: str) -> bool:
    return tok[:1].isupper() or tok[:1].isdigit()


def _content_runs(toks: list[tuple[int, int, str]], stop: frozenset[str]) -> list[list[int]]:
    """Runs of content words, as token indices (capitalised connectors such as "of" are
    allowed inside capitalised runs: "Bank of Ardent")."""
    runs: list[list[int]] = []
    current: list[int] = []
    for i, (_, _, tok) in enumerate(toks):
        low = tok.lower()
        word = tok[0].isalnum() or tok[0] == "$"
        inside_name = (
            low in _CONNECT
            and current
            and _is_cap(toks[current[-1]][2])
            and i + 1 < len(toks)
            and _is_cap(toks[i + 1][2])
        )
        if word and (low not in stop or inside_name):
            current.append(i)
        else:
            if current:
                runs.append(current)
            current = []
    if current:
        runs.append(current)
    return runs


def candidates(sentence: str, limit: int = 80) -> list[Candidate]:
    """Dates, numbers, capitalised names, lists of names and short noun phrases in a sentence.

    Phrases are runs of non-stopword words; every sub-run of up to five words is a candidate,
    so a title before a name ("Councillor Ilse Darrow") leaves the bare name as one.
    """
    stop = _stopwords()
    seen: dict[tuple[int, int], Candidate] = {}

    def add(start: int, end: int, kind: str) -> None:
        text = sentence[start:end].strip(" ,;:.")
        start = sentence.find(text, start)
        if text and (start, start + len(text)) not in seen:
            seen[(start, start + len(text))] = Candidate(start, start + len(text), text, kind)

    for m in _DATE.finditer(sentence):
        add(m.start(), m.end(), "date")
    for m in _NUMBER.finditer(sentence):
        add(m.start(), m.end(), "number")
    toks = _tokens(sentence)
    runs = _content_runs(toks, stop)
    for run in runs:
        n = len(run)
        for a in range(n):
            for b in range(a, min(n, a + 5)):
                if toks[run[a]][2].lower() in _CONNECT or toks[run[b]][2].lower() in _CONNECT:
                    continue
                add(toks[run[a]][0], toks[run[b]][1], _run_kind(toks[run[a] : run[b] + 1]))
    # Lists: capitalised or short runs joined by commas and and/or ("Denmark, Iceland and Norway").
    for i, run in enumerate(runs):
        kind = _run_kind([toks[k] for k in run])
        j, last_and = i, i
        while j + 1 < len(runs) and _run_kind([toks[k] for k in runs[j + 1]]) == kind:
            gap = {t[2].lower() for t in toks[runs[j][-1] + 1 : runs[j + 1][0]]}
            if not gap or not gap <= _LIST_JOIN | {"the"} or not gap & _LIST_JOIN:
                break
            j += 1
            if gap & {"and", "or"}:
                last_and = j
        if last_and > i:  # a list ends with "and"/"or": "X, Y" alone is apposition
            add(toks[run[0]][0], toks[runs[last_and][-1]][1], "list")
    out = sorted(seen.values(), key=lambda c: (c.start, c.end))
    return out[:limit]


def span_kind(text: str) -> str:
    """The kind of any span (one the grammar did not propose, e.g. a reader's)."""
    toks = _tokens(text)
    return _run_kind(toks) if toks else "phrase"


def _run_kind(span: Sequence[tuple[int, int, str]]) -> str:
    """date ("February 2026"), number (starts with a digit: "300 megawatts"), name
    (capitalised words), or phrase."""
    text = " ".join(t[2] for t in span)
    if _DATE.fullmatch(text):
        return "date"
    if span[0][2][:1].isdigit() or span[0][2][:1] == "$":
        return "number"
    if all(_is_cap(t[2]) for t in span if t[2].lower() not in _CONNECT):
        return "name"
    return "phrase"


# "Who hosted ...", "Which minister chairs ...": the wh-phrase is the subject (no do-support).
_WH_SUBJECT = re.compile(
    r"(?i)(?:who|what|which)(?:\s+\w+){0,2}?\s+(?!did\b|does\b|do\b|was\b|is\b|were\b|are\b)"
    r"\w+(?:ed|s)\b"
)


# "by" and then only capitalised words (or "of", "the") up to the span: "convened by US
# Secretary of State | Marco Rubio" makes the span part of the passive's agent.
_AGENT = re.compile(r"\bby\s+(?:(?:the|of|[A-Z][\w.'’-]*)\s+)*$")


def _cap_at(sentence: str, end: int) -> bool:
    """The word right after ``end`` (one space on) is capitalised: the span cuts a name."""
    rest = sentence[end:]
    return rest.startswith(" ") and rest[1:2].isupper()


def _cap_before(sentence: str, start: int) -> bool:
    """The word right before ``start`` is capitalised and not sentence-initial-only."""
    head = sentence[:start]
    if not head.endswith(" "):
        return False
    words = head.split()
    if len(words) > 2 and words[-1].lower() in _CONNECT:  # "Secretary of | State"
        words = words[:-1]
    return bool(words) and words[-1][:1].isupper() and len(words) > 1


def _lower_ratio(word: str, context: Sequence[str]) -> float:
    """How often ``word`` is written in lower case in the context texts: high for common nouns
    used as titles ("Minister", "Duke"), zero for names."""
    low = word.lower()
    if not word[:1].isupper():
        return 1.0
    total = lower = 0
    pattern = re.compile(rf"\b{re.escape(low)}\b", re.IGNORECASE)
    for text in context:
        for m in pattern.finditer(text):
            total += 1
            lower += m.group(0)[0].islower()
    return lower / total if total else 0.0


FEATURES = (
    "bias",
    "type_date",
    "type_number",
    "type_name",
    "type_place",
    "type_list",
    "other_name",
    "other_phrase",
    "other_number",
    "other_date",
    "mismatch",
    "q_overlap",
    "any_overlap",
    "log_distance",
    "after_anchor",
    "n_words",
    "inv_words",
    "first_lower",
    "in_brackets",
    "sentence_start",
    "plural_q_list",
    "cuts_name",
    "after_capital",
    "clause_end",
    "before_relation",
    "after_relation",
    "agent",
    "wh_subject_before",
    "wh_object_after",
)


def _type_features(kind: str, c: str) -> dict[str, float]:
    """How the question's answer type (``kind``) meets the candidate's (``c``)."""
    return {
        "bias": 1.0,
        "type_date": float(kind == "date" and c == "date"),
        "type_number": float(kind == "number" and c == "number"),
        "type_name": float(kind == "name" and c in ("name", "list")),
        "type_place": float(kind == "place" and c in ("name", "list")),
        "type_list": float(c == "list"),
        "other_name": float(kind == "other" and c == "name"),
        "other_phrase": float(kind == "other" and c == "phrase"),
        "other_number": float(kind == "other" and c == "number"),
        "other_date": float(kind == "other" and c == "date"),
        "mismatch": float(
            (kind == "date" and c != "date")
            or (kind == "number" and c != "number")
            or (kind in ("name", "place") and c not in ("name", "list"))
        ),
    }


def features(
    question: str, kind: str, sentence: str, cand: Candidate, context: Sequence[str] = ()
) -> list[float]:
    """One candidate's feature vector, in ``FEATURES`` order."""
    q_terms = set(terms(question))
    c_terms = [stem(w) for w in re.findall(r"\w+", cand.text)]
    c_content = [t for t in c_terms if t not in _stopwords()] or c_terms
    overlap = sum(t in q_terms for t in c_content) / max(len(c_content), 1)
    anchors = [m.start() for m in re.finditer(r"\w+", sentence) if stem(m.group(0)) in q_terms]
    outside = [a for a in anchors if not cand.start <= a < cand.end]
    distance = min((min(abs(a - cand.start), abs(a - cand.end)) for a in outside), default=200)
    words = cand.text.split()
    q = question.lower()
    # Where the asked relation ("hosted") sits: "Who hosted X?" wants the subject before it,
    # "Whom did X host?" the object after it.
    relation = q_terms - {stem(w) for w in re.findall(r"\b[A-Z]\w*", question[1:])}
    rel_at = [m.start() for m in re.finditer(r"\w+", sentence) if stem(m.group(0)) in relation]
    before_rel = any(0 <= r - cand.end <= 12 for r in rel_at)
    after_rel = any(0 <= cand.start - r <= 40 and r < cand.start for r in rel_at)
    wh_subject = bool(_WH_SUBJECT.match(question.strip()))
    plural_q = bool(
        re.search(r"\b(which|what)\s+\w+s\b|\bwhat (?:are|were)\b|\bname (?:the|all)\b", q)
    )
    c = cand.kind
    f = {
        **_type_features(kind, c),
        "q_overlap": overlap,
        "any_overlap": float(overlap > 0),
        "log_distance": math.log1p(distance) / math.log1p(200),
        "after_anchor": float(bool(outside) and cand.start > min(outside)),
        "n_words": min(len(words), 10) / 10,
        "inv_words": 1 / max(len(words), 1),
        "first_lower": _lower_ratio(words[0], context) if words else 0.0,
        "in_brackets": float(
            cand.start > 0
            and sentence[cand.start - 1] in _OPEN
            and cand.end < len(sentence)
            and sentence[cand.end] in _CLOSE
        ),
        "sentence_start": float(cand.start == 0),
        "plural_q_list": float(plural_q and c == "list"),
        # A name cut in two ("Councillor Ilse" | "Darrow") is never the answer.
        "cuts_name": float(c == "name" and _cap_at(sentence, cand.end)),
        # After a capitalised word: a title ("Mayor | Ilse Darrow") or a cut name.
        "after_capital": float(c == "name" and _cap_before(sentence, cand.start)),
        "clause_end": float(cand.end >= len(sentence) or sentence[cand.end] in ",.;:)!?"),
        "before_relation": float(before_rel),
        "after_relation": float(after_rel),
        # "convened by X": the passive's agent answers "who convened".
        "agent": float(bool(_AGENT.search(sentence[: cand.start]))),
        "wh_subject_before": float(wh_subject and before_rel),
        "wh_object_after": float(not wh_subject and after_rel),
    }
    return [f[name] for name in FEATURES]


@dataclass(frozen=True)
class SpanModel:
    """A linear scorer over ``FEATURES``, fitted as a conditional logit: within one sentence,
    P(candidate) is the softmax of the scores (``Reading.best``). ``mask_weight`` scales the
    cross-encoder's check of the best few (``rag.read``)."""

    weights: tuple[float, ...]
    short_threshold: float = 0.5  # a span is the short answer from this probability up
    lead_threshold: float = 0.5  # and the answer text leads with it from this one up
    mask_weight: float = 0.0
    # With the trained reader (rag/extract.py): the weight of its log-probability of each
    # candidate, and the same two thresholds for the combined probability.
    reader_weight: float = 1.0
    reader_short_threshold: float = 0.5
    reader_lead_threshold: float = 0.5
    # The chunk reader's span (rag.read.chunk_span): the same two thresholds on its margin's
    # probability.
    chunk_short_threshold: float = 0.5
    chunk_lead_threshold: float = 0.5
    fitted_on: str = ""

    # The fitted scalars, in field order: what spans.json stores beside the weights.
    PARAMS: ClassVar[tuple[str, ...]] = (
        "short_threshold",
        "lead_threshold",
        "mask_weight",
        "reader_weight",
        "reader_short_threshold",
        "reader_lead_threshold",
        "chunk_short_threshold",
        "chunk_lead_threshold",
    )

    @classmethod
    def load(cls, path: Path = SPAN_MODEL) -> SpanModel:
        weights, values, fitted_on = load_fitted(path, FEATURES, list(cls.PARAMS))
        return cls(weights, *values, fitted_on=fitted_on)

    def params(self) -> dict[str, float]:
        return {k: getattr(self, k) for k in self.PARAMS}

    def score(self, vector: Sequence[float]) -> float:
        return linear(self.weights, vector)


@cache
def default_model() -> SpanModel | None:
    return committed(SpanModel.load)


@dataclass(frozen=True)
class ScoredSpan:
    text: str
    start: int
    end: int
    probability: float


@dataclass(frozen=True)
class Reading:
    """A sentence's candidate spans with the span model's scores, and optionally a second
    opinion on some of them (``bonus``: index -> score added, from ``rag.read``)."""

    candidates: tuple[Candidate, ...]
    scores: tuple[float, ...]
    bonus: tuple[tuple[int, float], ...] = ()

    def top(self, n: int) -> list[int]:
        """Indices of the ``n`` best candidates by the span model alone."""
        return sorted(range(len(self.scores)), key=lambda i: -self.scores[i])[:n]

    def best(self, weight: float = 1.0) -> ScoredSpan:
        """The best candidate once ``weight`` times the bonus is added. The model is a
        conditional logit over a sentence's candidates: its softmax share is the probability
        that this candidate, of all in the sentence, is the answer."""
        scores = list(self.scores)
        for i, extra in self.bonus:
            scores[i] += weight * extra
        top = max(scores)
        total = sum(math.exp(x - top) for x in scores)
        c = self.candidates[scores.index(top)]
        return ScoredSpan(c.text, c.start, c.end, 1.0 / total)


def reading(
    question: str,
    sentence: str,
    context: Sequence[str] = (),
    model: SpanModel | None = None,
) -> Reading | None:
    """``sentence``'s candidates scored for ``question`` (None for explanation questions,
    sentences without candidates, or before a model is fitted)."""
    kind = question_kind(question)
    model = model or default_model()
    if kind == "explain" or model is None:
        return None
    cands = tuple(candidates(sentence))
    if not cands:
        return None
    return Reading(cands, score_candidates(question, kind, sentence, cands, context, model))


def score_candidates(
    question: str,
    kind: str,
    sentence: str,
    cands: Sequence[Candidate],
    context: Sequence[str],
    model: SpanModel,
) -> tuple[float, ...]:
    """The span model's score of each candidate."""
    return tuple(model.score(features(question, kind, sentence, c, context)) for c in cands)


def best_of(found: Reading | None) -> ScoredSpan | None:
    """The best candidate of a ``reading`` by the span model alone (what the decision
    model's ``span_p`` reads); None where there was nothing to read."""
    return found.best() if found else None


def names_in(text: str) -> list[str]:
    """Capitalised names in a text, longest first within each run (for follow-up rewriting)."""
    found = [c for c in candidates(text) if c.kind == "name" and (c.start > 0 or " " in c.text)]
    found.sort(key=lambda c: (c.start, -(c.end - c.start)))
    out: list[str] = []
    last_end = -1
    for c in found:
        if c.start >= last_end:
            out.append(c.text)
            last_end = c.end
    return out


def span_context(ev: Evidence) -> tuple[str, ...]:
    """The texts the span features read besides the sentence (how a word is usually cased)."""
    return (ev.chunk.title, ev.context, ev.chunk.text)
