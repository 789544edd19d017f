"""LLM judge trial: does the local LLM's "yes, this answers" help decide whether to answer? (dev)

Issue 11 names the LLM's confidence as a signal for the answer-or-abstain decision when an LLM
answers. This measures it before anything is built: for every dev question in the evidence
``eval/calibrate.py --cache`` saved, the local model (Qwen2.5-Coder-1.5B Q4_K_M) reads the top
sentence (after its title and up to 300 characters before it) and is asked whether it states
the answer; the signal is log P(yes) - log P(no) of its first token. Added to the top
sentence's decision features, it is scored like ``bench/trials/decision_trial.py``: held-out mean
balanced accuracy over random half-splits of the dev questions.

    python bench/trials/llm_judge_trial.py --cache /tmp/observed.pkl --model QWEN.gguf \\
        --judged /tmp/judged.pkl

Result 2026-12-03 (332 dev questions, 20 half-splits; 4.08 s a question at 2 threads): held-out
mean balanced accuracy 0.659 -> 0.688 with the LLM's yes/no (better in 18 of 20 splits); mean
signal +0.33 where the top sentence holds the answer, +0.07 where an answerable question's top
sentence does not, -0.03 for unanswerable questions. The largest gain of any signal tried, at
four times the latency goal: wired into the local-llm answerer's decision only
(``rag/data/decision-local-llm.json``), never the default path.

Needs llama-cpp-python (``make install-llm``). ``--judged`` keeps the model's answers, so the
scoring can be re-run without the model. One prompt a question (~150 tokens): its cost per
question is printed. The judge (prompt, yes/no margin) is the service's, ``rag.answer.judge``;
``eval/calibrate.py --judge-model`` fits the decision model that uses it.
"""

from __future__ import annotations

import argparse
import pickle
import sys
from pathlib import Path

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.trials.decision_trial import dev_rows, half_splits, held_out, report
from eval.calibrate import Observed, first_rows, judge_column, judge_observed
from rag.answer.judge import load_judge


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--model", type=Path, help="the GGUF (needed unless --judged exists)")
    parser.add_argument("--judged", type=Path, help="pickle of the model's judgments")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--shared", type=Path, default=Path("../shared/benchmarks"))
    args = parser.parse_args()

    observed: list[Observed] = pickle.loads(args.cache.read_bytes())
    if args.judged and args.judged.exists():
        judged = pickle.loads(args.judged.read_bytes())
    else:
        if args.model is None:
            parser.error("--model is needed to judge (no --judged file yet)")
        judged = judge_observed(observed, load_judge(args.model, args.threads))
        if args.judged:
            args.judged.write_bytes(pickle.dumps(judged))
    base, y, owner = dev_rows(observed, args.shared)
    # The judgment belongs to each question's top sentence (rank 1, its first row); a question
    # with no evidence has no row and was not judged.
    signal = judge_column(owner, judged)
    first = {int(owner[i]): int(i) for i in first_rows(owner)}
    judged_q = [k for k, value in enumerate(judged) if value is not None and k in first]
    halves = half_splits(len(observed), args.rounds, args.seed)
    results = {
        "decision features": held_out(observed, base, y, owner, halves),
        "+ LLM yes/no": held_out(observed, np.hstack([base, signal]), y, owner, halves),
    }
    top = signal[[first[k] for k in judged_q], 0]
    answers = np.array([observed[k].item.answerable for k in judged_q])
    holds = y[[first[k] for k in judged_q]].astype(bool)
    print(
        f"mean signal: top sentence holds the answer {top[holds].mean():+.2f}, "
        f"answerable but not held {top[answers & ~holds].mean():+.2f}, "
        f"unanswerable {top[~answers].mean():+.2f}"
    )
    print(f"{len(observed)} dev questions, {args.rounds} half-splits: held-out balanced accuracy")
    report(results, "decision features")


if __name__ == "__main__":
    main()
