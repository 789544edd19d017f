"""Decision trial: does a trained reader's "no answer" help decide whether to answer? (dev only)

The decision model (``rag.decide``) is fitted on the dev splits by ``eval/calibrate.py``.
A candidate signal earns its place only if it improves the decision on dev questions it was
not fitted on. This script takes the dev evidence ``eval/calibrate.py --cache`` saved, adds
each reader's features for every kept sentence (the reader's margin, best span minus [CLS],
and the probability of its best span), and over ``--rounds`` random half-splits of the dev
questions fits the logistic model and its threshold on one half and measures the mean
balanced accuracy (``eval.calibrate.fit_threshold``'s objective) on the other, with and
without them. Paired: every feature set sees the same splits.

It also asks whether the reader picks the answering sentence better than the cross-encoder:
over the answerable dev questions with the answer in a kept sentence, the share whose chosen
sentence holds it, for the cross-encoder's top 1 and for a conditional logit over each
question's kept sentences (``eval.calibrate.fit_conditional_logit``) with and without the
reader's margin, fitted on one half and scored on the other.

    python -m eval.calibrate --cache /tmp/observed.pkl      # once, saves the dev evidence
    python bench/trials/decision_trial.py --cache /tmp/observed.pkl --reader rag/data/reader \\
        --reader /tmp/other-reader

A ``--reader`` directory other than the shipped one is loaded without its sha256 check (it is
a candidate being measured, not a file the service loads).

Result 2026-12-03 (332 dev questions, 996 sentences, 20 half-splits): mean balanced accuracy
0.659 with the decision's features, 0.654 adding the shipped reader's margin, 0.652 adding a
reader trained with same-article "no answer" pairs (``train_reader.py --same-article 0.5``);
sentence chosen right 0.889 for the cross-encoder's top 1, 0.888 / 0.885 / 0.884 for the
conditional logit without / with either reader's margin. Neither reader landed as a signal.

``--signals`` adds cheap candidates (stop 22): a time conflict between the periods the
question and the sentence name, entity cover in the sentence alone, negation scoped to the
question's words, the cross-encoder's logit drop when the answer span is masked, and the context
read from the whole document instead of the chunk. Result 2026-12-03, same splits: 0.666,
0.660, 0.643-0.648, 0.656-0.661, 0.658-0.662 against 0.659; none landed (docs/quality.md).

``--forms`` (stop 23) tries other model forms over the same features (pairwise products,
gradient-boosted trees), the question's kind, and the cross-encoder reading the sentence
before as well; none landed (docs/quality.md).
"""

from __future__ import annotations

import argparse
import pickle
import re
import sys
from collections.abc import Callable
from pathlib import Path
from unittest.mock import patch

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from eval.calibrate import (
    Observed,
    decision_rows,
    default_corpus,
    fit_conditional_logit,
    fit_logistic,
    fit_threshold,
    logistic,
)
from eval.run import eval_settings
from rag import decide
from rag.components import Components, build_components
from rag.config import Settings
from rag.extract import SpanExtractor, get_extractor
from rag.models import READER, ModelFiles
from rag.read import masked
from rag.rerank import get_cross_encoder
from rag.schema import Evidence
from rag.spans import default_model, question_kind, reading, span_context
from rag.text import WORD, entity_terms, stem, terms, titled, weighted_share


def extractor_for(directory: Path) -> SpanExtractor:
    """The reader in ``directory``; the shipped one sha256-checked, a candidate not."""

    class Candidate(SpanExtractor):
        files = ModelFiles(READER.name, f"candidate reader {directory}")
        bundled = directory

    if directory.resolve() == SpanExtractor.bundled.resolve():
        return SpanExtractor(threads=2)
    return Candidate(threads=2)


def reader_features(observed: list[Observed], extractor: SpanExtractor) -> np.ndarray:
    """(margin, span probability) of every kept sentence, in ``decision_rows`` order."""
    rows = []
    for o in observed:
        found = extractor.extract(o.standalone, [ev.text for ev in o.evidence])
        for ex in found:
            rows.append((ex.margin / 10.0, ex.probability) if ex else (-3.0, 0.0))
    return np.array(rows).reshape(-1, 2)


# Cheap candidate signals measured at stop 22 (--signals; none landed, docs/quality.md).
_CENTURY = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)\b(?=(?:\W+\w+){0,4}?\W+centur)", re.I)
_DECADE = re.compile(r"\b(\d{2,3})0s\b")
_YEAR = re.compile(r"\b(\d{3,4})\b(?!s)")


def periods(text: str) -> list[tuple[int, int]]:
    """Year intervals a text names: "the 10th century", "the 1100s", "the 1990s", "1072"."""
    out = [((int(m[1]) - 1) * 100, int(m[1]) * 100 - 1) for m in _CENTURY.finditer(text)]
    for m in _DECADE.finditer(text):
        n = int(m[1]) * 10
        out.append((n, n + 99) if n % 100 == 0 else (n, n + 9))
    out += [(int(m[1]), int(m[1])) for m in _YEAR.finditer(text) if 500 <= int(m[1]) <= 2100]
    return out


def time_conflict(question: str, near: str) -> float:
    """1.0 when the question names a period, the text names some, and none overlaps it."""
    asked, given = periods(question), periods(near)
    if not asked or not given:
        return 0.0
    return float(not any(a <= d and c <= b for a, b in asked for c, d in given))


def scoped_negation(question: str, sentence: str, window: int) -> float:
    """Negation mismatch counting only a sentence negation within ``window`` words before one
    of the question's terms ("to no avail" elsewhere in the sentence does not count)."""
    wanted = set(terms(question))
    words = WORD.findall(sentence)
    stems = [stem(w) for w in words]
    negated = any(
        any(t in wanted for t in stems[i + 1 : i + 1 + window])
        for i, w in enumerate(words)
        if decide._NEGATION.fullmatch(w)
    )
    return float(bool(decide._NEGATION.search(question)) != negated)


def span_drops(observed: list[Observed]) -> np.ndarray:
    """Cross-encoder logit drop when the span model's best span, the best of its top 3, or the
    reader's span is masked (does the relevance rest on the answer?), per kept sentence."""
    encoder, extractor, model = get_cross_encoder(2), get_extractor(2), default_model()
    rows = []
    for o in observed:
        found_by_reader = extractor.extract(o.standalone, [ev.text for ev in o.evidence])
        for ev, ex in zip(o.evidence, found_by_reader, strict=True):
            s = ev.text
            found = reading(o.standalone, s, span_context(ev), model)
            top = [found.candidates[i] for i in found.top(3)] if found else []
            spans = [(c.start, c.end) for c in top] + ([(ex.start, ex.end)] if ex else [])
            texts = [s] + [masked(s, a, b) for a, b in spans]
            logits = encoder.score(o.standalone, [titled(ev.chunk.title, t) for t in texts])
            drops = logits[0] - logits[1:]
            grammar = drops[: len(top)]
            rows.append(
                (
                    grammar[0] if len(grammar) else 0.0,
                    grammar.max() if len(grammar) else 0.0,
                    drops[-1] if ex else 0.0,
                )
            )
    return np.array(rows).reshape(-1, 3) / 5.0


def signal_columns(observed: list[Observed], idf: decide.Idf) -> dict[str, np.ndarray]:
    """Each candidate signal of every kept sentence, in ``decision_rows`` order."""
    cols: dict[str, list[float]] = {"time conflict": [], "entity cover in the sentence": []}
    for window in (3, 5, 8):
        cols[f"negation within {window} words (replaces negation_mismatch)"] = []
    for o in observed:
        ents = list(dict.fromkeys(entity_terms(o.standalone)))
        for ev in o.evidence:
            near = f"{ev.text} {ev.chunk.title} {ev.before(decide.CONTEXT_CHARS)}"
            cols["time conflict"].append(time_conflict(o.standalone, near))
            cols["entity cover in the sentence"].append(
                weighted_share(ents, set(terms(ev.text)), idf)
            )
            for window in (3, 5, 8):
                key = f"negation within {window} words (replaces negation_mismatch)"
                cols[key].append(scoped_negation(o.standalone, ev.text, window))
    out = {name: np.array(v)[:, None] for name, v in cols.items()}
    drops = span_drops(observed)
    for k, name in enumerate(("best span", "best of 3 spans", "reader's span")):
        out[f"logit drop masking the {name}"] = drops[:, [k]]
    return out


def document_context_rows(
    observed: list[Observed], idf: decide.Idf, text_of: Callable[[str], str], chars: int
) -> np.ndarray:
    """The decision's rows with the context read from the whole document (``chars`` before
    the sentence) instead of the sentence's chunk."""

    def from_document(ev: Evidence, _chars: int) -> str:
        return text_of(ev.chunk.doc_id)[max(0, ev.start_char - chars) : ev.start_char]

    with patch.object(Evidence, "before", from_document):
        return decision_rows(observed, idf, default_model())[0]


def form_trials(observed: list[Observed], base: np.ndarray) -> dict[str, tuple[np.ndarray, Fit]]:
    """Stop 23: other model forms over the same features, the question's kind, and the
    cross-encoder reading the sentence with the one before it (for "It is owned by ...").
    scikit-learn comes with sentence-transformers; only this trial uses it directly."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.preprocessing import PolynomialFeatures

    def pairwise(l2: float) -> Fit:
        poly = PolynomialFeatures(2, include_bias=False)

        def expand(rows: np.ndarray) -> np.ndarray:  # the bias column stays alone
            return np.hstack([rows[:, :1], poly.fit_transform(rows[:, 1:])])

        def fit(x: np.ndarray, y: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
            w = fit_logistic(expand(x), y, l2=l2)
            return lambda rows: logistic(expand(rows), w)

        return fit

    def boosted(depth: int) -> Fit:
        def fit(x: np.ndarray, y: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
            model = HistGradientBoostingClassifier(
                max_depth=depth, learning_rate=0.05, l2_regularization=1.0, random_state=0
            ).fit(x[:, 1:], y)
            return lambda rows: model.predict_proba(rows[:, 1:])[:, 1]

        return fit

    kind = _question_kind_rows(observed)
    with_before = _ce_with_sentence_before(observed)
    ce = base[:, [decide.FEATURES.index("ce")]]
    return {
        "pairwise products, L2 10": (base, pairwise(10.0)),
        "pairwise products, L2 30": (base, pairwise(30.0)),
        "gradient-boosted trees, depth 2": (base, boosted(2)),
        "gradient-boosted trees, depth 3": (base, boosted(3)),
        "+ question kind (one-hot)": (np.hstack([base, kind]), logistic_fit),
        "+ question kind x ce": (np.hstack([base, kind * ce / 5]), logistic_fit),
        "+ ce reading the sentence before too": (np.hstack([base, with_before / 5]), logistic_fit),
        "+ max(ce, ce with the sentence before)": (
            np.hstack([base, np.maximum(ce, with_before) / 5]),
            logistic_fit,
        ),
    }


def _question_kind_rows(observed: list[Observed]) -> np.ndarray:
    """The question's kind, one-hot, repeated for each of its kept sentences (a row each)."""
    kinds = ("date", "number", "name", "place", "other")
    kind = np.array(
        [
            [float(question_kind(o.standalone) == k) for k in kinds]
            for o in observed
            for _ev in o.evidence
        ]
    )
    return kind


def _ce_with_sentence_before(observed: list[Observed]) -> np.ndarray:
    """The cross-encoder's score for each kept sentence read with its context before it."""
    encoder = get_cross_encoder(2)
    with_before = np.concatenate(
        [
            encoder.score(
                o.standalone,
                [
                    titled(ev.chunk.title, f"{ev.context} {ev.text}".strip(), ev.heading)
                    for ev in o.evidence
                ],
            )
            for o in observed
        ]
    )[:, None]
    return with_before


def subset(
    observed: list[Observed], p: np.ndarray, y: np.ndarray, owner: np.ndarray, qs: np.ndarray
) -> tuple[list[Observed], np.ndarray, np.ndarray, np.ndarray]:
    """The questions ``qs`` and their sentences' rows, owners renumbered from 0."""
    keep = np.isin(owner, qs)
    remap = {int(q): i for i, q in enumerate(qs)}
    owners = np.array([remap[int(k)] for k in owner[keep]])
    return [observed[int(q)] for q in qs], p[keep], y[keep], owners


def half_splits(n: int, rounds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """``rounds`` random (fit, held-out) halves of ``n`` question indices, the same per seed."""
    rng = np.random.default_rng(seed)
    halves = []
    for _ in range(rounds):
        order = rng.permutation(n)
        halves.append((np.sort(order[: n // 2]), np.sort(order[n // 2 :])))
    return halves


Fit = Callable[[np.ndarray, np.ndarray], Callable[[np.ndarray], np.ndarray]]


def logistic_fit(
    x: np.ndarray, y: np.ndarray, l2: float = 1.0
) -> Callable[[np.ndarray], np.ndarray]:
    """The decision's own model form: L2-regularised logistic regression."""
    w = fit_logistic(x, y, l2=l2)
    return lambda rows: logistic(rows, w)


def held_out(
    observed: list[Observed],
    x: np.ndarray,
    y: np.ndarray,
    owner: np.ndarray,
    halves: list,
    fit: Fit = logistic_fit,
) -> list[float]:
    """Mean balanced accuracy on the held-out half, per split (``fit`` gives the model)."""
    scores = []
    for fit_q, test_q in halves:
        fit_rows = np.isin(owner, fit_q)
        p = fit(x[fit_rows], y[fit_rows])(x)
        threshold, _ = fit_threshold(*subset(observed, p, y, owner, fit_q))
        _, objective = fit_threshold(*subset(observed, p, y, owner, test_q))
        scores.append(objective(threshold)[0])
    return scores


def dev_components(shared: Path) -> Components:
    """The mixed collection the dev evidence was observed on (``eval/calibrate.py`` ingested
    it): its idf, its stored documents."""
    return build_components(eval_settings(Settings(torch_threads=2), default_corpus(shared)))


def dev_rows(observed: list[Observed], shared: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The decision's (features, label, question index) rows of the cached dev evidence, with
    the idf of the collection it was observed on."""
    return decision_rows(observed, dev_components(shared).bm25.idf, default_model())


def choice_held_out(
    x: np.ndarray, y: np.ndarray, owner: np.ndarray, questions: list[int], halves: list
) -> list[float]:
    """Share of held-out ``questions`` whose highest-scoring sentence holds the answer, a
    conditional logit over each question's sentences fitted on the other half."""
    scores = []
    chosen = set(questions)
    for fit_q, test_q in halves:
        fit_q = [q for q in fit_q if q in chosen]
        test_q = [q for q in test_q if q in chosen]
        w = fit_conditional_logit([(x[owner == q], y[owner == q]) for q in fit_q])
        scores.append(float(np.mean([y[owner == q][np.argmax(x[owner == q] @ w)] for q in test_q])))
    return scores


def report(results: dict[str, list[float]], reference: str) -> None:
    ref = np.array(results[reference])
    for name, scores in results.items():
        s = np.array(scores)
        print(
            f"{name:60s} {s.mean():.3f} ± {s.std():.3f}  "
            f"(vs {reference} {np.mean(s - ref):+.3f}, better in {int(np.sum(s > ref))}/{len(s)})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--reader", type=Path, action="append", default=[])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--shared", type=Path, default=Path("../shared/benchmarks"))
    parser.add_argument("--signals", action="store_true", help="Also the stop-22 candidates.")
    parser.add_argument("--forms", action="store_true", help="Also the stop-23 candidates.")
    args = parser.parse_args()

    observed: list[Observed] = pickle.loads(args.cache.read_bytes())
    comps = dev_components(args.shared)
    base, y, owner = decision_rows(observed, comps.bm25.idf, default_model())
    halves = half_splits(len(observed), args.rounds, args.seed)
    results = {"decision features": held_out(observed, base, y, owner, halves)}
    if args.signals:
        negation = decide.FEATURES.index("negation_mismatch")
        for name, col in signal_columns(observed, comps.bm25.idf).items():
            if name.startswith("negation"):
                x = base.copy()
                x[:, negation] = col[:, 0]
            else:
                x = np.hstack([base, col])
            results[f"+ {name}"] = held_out(observed, x, y, owner, halves)
        ids = {ev.chunk.doc_id for o in observed for ev in o.evidence}
        docs = comps.store.get_documents(ids)
        for chars in (600, 1200):
            x = document_context_rows(observed, comps.bm25.idf, lambda d: docs[d][1], chars)
            results[f"context: {chars} characters of the document"] = held_out(
                observed, x, y, owner, halves
            )
    if args.forms:
        for name, (x, fit) in form_trials(observed, base).items():
            results[name] = held_out(observed, x, y, owner, halves, fit)
    answering = [k for k, o in enumerate(observed) if o.item.answerable and y[owner == k].any()]
    top1 = [float(np.mean([y[owner == q][0] for q in b if q in answering])) for _, b in halves]
    choice = {
        "cross-encoder top 1": top1,
        "conditional logit, decision features": choice_held_out(base, y, owner, answering, halves),
    }
    for directory in args.reader:
        extra = reader_features(observed, extractor_for(directory))
        for name, cols in (("margin", [0]), ("margin + probability", [0, 1])):
            x = np.hstack([base, extra[:, cols]])
            results[f"+ {directory} {name}"] = held_out(observed, x, y, owner, halves)
        x = np.hstack([base, extra[:, [0]]])
        choice[f"+ {directory} margin"] = choice_held_out(x, y, owner, answering, halves)
    print(f"{len(observed)} dev questions, {len(y)} sentences, {args.rounds} half-splits")
    print("answer or abstain: held-out mean balanced accuracy")
    report(results, "decision features")
    print(f"which sentence: held-out share chosen right ({len(answering)} questions)")
    report(choice, "cross-encoder top 1")


if __name__ == "__main__":
    main()
