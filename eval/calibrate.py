"""Calibrate abstention on gold sets: ``python -m eval.calibrate GOLD... --corpus PATH...``.

The service abstains when the best evidence scores below ``abstain_threshold`` or when the
question's terms are mostly missing from the best passage (``max_missing_share``). This runs
every question with both gates open, records the two signals and whether the extractive answer
is correct, and prints the pairs that best balance answer accuracy on answerable questions
against abstention on unanswerable ones.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from eval.harness import load_gold
from eval.metrics import is_correct
from eval.run import eval_settings
from ingest.pipeline import IngestPipeline
from rag.components import build_components
from rag.config import Settings
from rag.evidence import missing_share
from rag.service import QAService


@dataclass(frozen=True)
class Observation:
    gold: str
    answerable: bool
    correct: bool
    score: float
    missing: float

    def answered(self, threshold: float, max_missing: float) -> bool:
        return self.score >= threshold and self.missing <= max_missing


def observe(service: QAService, gold_paths: list[Path]) -> list[Observation]:
    out = []
    for path in gold_paths:
        for item in load_gold(path):
            result = service.ask(item.question, history=item.history)
            prepared, evidence = service.prepare(item.question, item.history)
            score = evidence[0].score if evidence else 0.0
            missing = (
                missing_share(
                    prepared.standalone_question, evidence[0].chunk, service.components.bm25.idf
                )
                if evidence
                else 1.0
            )
            correct = item.answerable and is_correct(result.answer, item.answers)
            out.append(Observation(path.name, item.answerable, correct, score, missing))
    return out


def rates(obs: list[Observation], threshold: float, max_missing: float) -> tuple[float, float]:
    """(accuracy on answerable, abstention on unanswerable) under the given gates."""
    answerable = [o for o in obs if o.answerable]
    unanswerable = [o for o in obs if not o.answerable]
    acc = sum(o.correct and o.answered(threshold, max_missing) for o in answerable)
    abst = sum(not o.answered(threshold, max_missing) for o in unanswerable)
    return acc / max(len(answerable), 1), abst / max(len(unanswerable), 1) if unanswerable else 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("gold", nargs="+", type=Path)
    parser.add_argument("--corpus", action="append", type=Path, required=True)
    parser.add_argument("--top", type=int, default=15, help="How many grid rows to print.")
    args = parser.parse_args()

    settings = eval_settings(Settings(), args.corpus).model_copy(
        update={"abstain_threshold": 0.0, "max_missing_share": 1.0}
    )
    comps = build_components(settings)
    IngestPipeline(settings, comps.store, comps.embedder, comps.bm25).run(args.corpus, prune=True)
    obs = observe(QAService(comps), args.gold)
    grid = []
    for t in [x / 100 for x in range(30, 76, 2)]:
        for m in [x / 100 for x in range(30, 101, 10)]:
            per_set = {
                g: rates([o for o in obs if o.gold == g], t, m)
                for g in dict.fromkeys(o.gold for o in obs)
            }
            balanced = sum((a + b) / 2 for a, b in per_set.values()) / len(per_set)
            grid.append((balanced, t, m, per_set))
    grid.sort(key=lambda row: -row[0])
    print("balanced  threshold  max_missing  per gold set (accuracy, abstention)")
    for balanced, t, m, per_set in grid[: args.top]:
        sets = "  ".join(f"{g}: {a:.3f}/{b:.3f}" for g, (a, b) in per_set.items())
        print(f"{balanced:8.3f}  {t:9.2f}  {m:11.2f}  {sets}")


if __name__ == "__main__":
    main()
