"""What still fails on dev, by category, with examples (issue 25's "show").

Reads the dev observations ``python -m eval.calibrate --cache PATH`` kept (every dev question
through the real pipeline: retrieval, the reader over the best chunks, evidence selection) and
judges them with the committed decision model, as the service does. Dev splits only.

    python bench/reader_failures.py /tmp/obs.pkl [--examples 3]
"""

from __future__ import annotations

import argparse
import pickle
import sys
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eval.calibrate import Observed, default_corpus  # noqa: F401  (unpickling needs Observed)
from eval.metrics import is_correct
from eval.run import eval_settings
from rag.components import build_components
from rag.config import Settings
from rag.decide import AnswerDecider


def category(o, decider: AnswerDecider) -> str | None:  # type: ignore[no-untyped-def]
    """Why this dev question went wrong, or None when it went right."""
    judged = decider.judge(o.standalone, list(o.evidence))
    best = judged[0] if judged else None
    answered = best is not None and decider.answers(best)
    if not o.item.answerable:
        return "unanswerable, answered" if answered else None
    holds = [is_correct(e.text, o.item.answers) for e in o.evidence]
    if answered and is_correct(best.evidence.text, o.item.answers):
        return None
    if not any(holds):
        return "answerable, no evidence sentence holds the answer (retrieval or selection)"
    if answered:
        return "answerable, answered from another sentence"
    return "answerable, the sentence was found but refused (below the threshold)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cache", type=Path)
    parser.add_argument("--examples", type=int, default=3)
    parser.add_argument("--shared", type=Path, default=Path("../shared/benchmarks"))
    args = parser.parse_args()
    observed = pickle.loads(args.cache.read_bytes())
    # The idf of the collection calibration observed (the decision's term features use it).
    comps = build_components(eval_settings(Settings(), default_corpus(args.shared)))
    decider = AnswerDecider(comps.bm25.idf)
    counts: Counter[tuple[str, str]] = Counter()
    examples: dict[str, list[str]] = defaultdict(list)
    for o in observed:
        why = category(o, decider)
        if why is None:
            continue
        counts[(o.set_name, why)] += 1
        top = o.evidence[0].text if o.evidence else "(no evidence)"
        examples[why].append(f"[{o.set_name}] {o.standalone} | gold {o.item.answers[:1]} | {top}")
    total = Counter(o.set_name for o in observed)
    for (name, why), n in sorted(counts.items()):
        print(f"{name:15s} {n:3d}/{total[name]:3d}  {why}")
    for why, rows in examples.items():
        print(f"\n{why}:")
        for row in rows[: args.examples]:
            print(f"  - {row[:300]}")


if __name__ == "__main__":
    main()
