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
    python bench/decision_trial.py --cache /tmp/observed.pkl --reader rag/data/reader \\
        --reader /tmp/other-reader

A ``--reader`` directory other than the shipped one is loaded without its sha256 check (it is
a candidate being measured, not a file the service loads).

Result 2026-12-03 (332 dev questions, 996 sentences, 20 half-splits): mean balanced accuracy
0.659 with the decision's features, 0.654 adding the shipped reader's margin, 0.652 adding a
reader trained with same-article "no answer" pairs (``train_reader.py --same-article 0.5``);
sentence chosen right 0.889 for the cross-encoder's top 1, 0.888 / 0.885 / 0.884 for the
conditional logit without / with either reader's margin. Neither reader landed as a signal.
"""

from __future__ import annotations

import argparse
import pickle
import sys
from pathlib import Path

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

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
from rag.components import build_components
from rag.config import Settings
from rag.extract import SpanExtractor
from rag.models import READER, ModelFiles
from rag.spans import default_model


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


def held_out(
    observed: list[Observed], x: np.ndarray, y: np.ndarray, owner: np.ndarray, halves: list
) -> list[float]:
    """Mean balanced accuracy on the held-out half, per split."""
    scores = []
    for fit_q, test_q in halves:
        fit_rows = np.isin(owner, fit_q)
        p = logistic(x, fit_logistic(x[fit_rows], y[fit_rows]))
        threshold, _ = fit_threshold(*subset(observed, p, y, owner, fit_q))
        _, objective = fit_threshold(*subset(observed, p, y, owner, test_q))
        scores.append(objective(threshold)[0])
    return scores


def dev_rows(observed: list[Observed], shared: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The decision's (features, label, question index) rows of the cached dev evidence, with
    the idf of the mixed collection it was observed on (``eval/calibrate.py`` ingested it)."""
    comps = build_components(eval_settings(Settings(torch_threads=2), default_corpus(shared)))
    return decision_rows(observed, comps.bm25.idf, default_model())


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
    args = parser.parse_args()

    observed: list[Observed] = pickle.loads(args.cache.read_bytes())
    base, y, owner = dev_rows(observed, args.shared)
    halves = half_splits(len(observed), args.rounds, args.seed)
    results = {"decision features": held_out(observed, base, y, owner, halves)}
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
