"""LLM judge trial: does the local LLM's "yes, this answers" help decide whether to answer? (dev)

Issue 11 names the LLM's confidence as a signal for the answer-or-abstain decision when an LLM
answers. This measures it before anything is built: for every dev question in the evidence
``eval/calibrate.py --cache`` saved, the local model (Qwen2.5-Coder-1.5B Q4_K_M) reads the top
sentence (after its title and up to 300 characters before it) and is asked whether it states
the answer; the signal is log P(yes) - log P(no) of its first token. Added to the top
sentence's decision features, it is scored like ``bench/decision_trial.py``: held-out mean
balanced accuracy over random half-splits of the dev questions.

    python bench/llm_judge_trial.py --cache /tmp/observed.pkl --model QWEN.gguf \\
        --judged /tmp/judged.pkl

Result 2026-12-03 (332 dev questions, 20 half-splits; 4.08 s a question at 2 threads): held-out
mean balanced accuracy 0.659 -> 0.688 with the LLM's yes/no (better in 18 of 20 splits); mean
signal +0.33 where the top sentence holds the answer, +0.07 where an answerable question's top
sentence does not, -0.03 for unanswerable questions. The largest gain of any signal tried, at
four times the latency goal: not wired into the service yet.

Needs llama-cpp-python (``make install-llm``). ``--judged`` keeps the model's answers, so the
scoring can be re-run without the model. One prompt a question (~150 tokens): its cost per
question is printed.
"""

from __future__ import annotations

import argparse
import math
import pickle
import sys
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.decision_trial import dev_rows, half_splits, held_out, report
from eval.calibrate import Observed
from rag.decide import preceding
from rag.schema import Evidence

SYSTEM = "You check whether a passage answers a question. Reply with yes or no only."
CONTEXT_CHARS = 300


def prompt(question: str, ev: Evidence) -> str:
    """ChatML: the passage (title, a little context, the sentence) and the yes/no question."""
    passage = f"{ev.chunk.title}. ...{preceding(ev, CONTEXT_CHARS)}{ev.text}"
    user = (
        f"Passage: {passage}\n\nQuestion: {question}\n\n"
        "Does the passage state the answer to this question? Reply yes or no."
    )
    return (
        f"<|im_start|>system\n{SYSTEM}<|im_end|>\n<|im_start|>user\n{user}<|im_end|>\n"
        "<|im_start|>assistant\n"
    )


def judge(observed: list[Observed], model: Path, threads: int) -> list[float | None]:
    """log P(yes) - log P(no) of the model's first token, per question (None: no evidence)."""
    import llama_cpp

    llm = llama_cpp.Llama(
        model_path=str(model), n_ctx=768, n_threads=threads, n_threads_batch=threads, verbose=False
    )

    def first_tokens(words: list[str]) -> set[int]:
        return {llm.tokenize(w.encode(), add_bos=False, special=False)[0] for w in words}

    yes, no = first_tokens(["yes", "Yes", " yes", " Yes"]), first_tokens(["no", "No", " no", " No"])
    out: list[float | None] = []
    started = time.perf_counter()
    for o in observed:
        if not o.evidence:
            out.append(None)
            continue
        tokens = llm.tokenize(
            prompt(o.standalone, o.evidence[0]).encode(), add_bos=False, special=True
        )
        llm.reset()
        llm.eval(tokens)
        # The last position's logits, read from llama.cpp (the wrapper's ``scores`` holds them
        # only with logits_all, which projects every prompt token onto the vocabulary).
        last = llama_cpp.llama_get_logits_ith(llm.ctx, -1)
        logits = np.ctypeslib.as_array(last, shape=(llm.n_vocab(),)).astype(np.float64)
        top = logits.max()
        p_yes = sum(math.exp(logits[t] - top) for t in yes)
        p_no = sum(math.exp(logits[t] - top) for t in no)
        out.append(math.log(p_yes + 1e-12) - math.log(p_no + 1e-12))
    per = (time.perf_counter() - started) / max(1, len(observed))
    print(f"judged {len(observed)} questions, {per:.2f} s each ({threads} threads)")
    return out


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
        judged = judge(observed, args.model, args.threads)
        if args.judged:
            args.judged.write_bytes(pickle.dumps(judged))
    base, y, owner = dev_rows(observed, args.shared)
    # The judgment belongs to each question's top sentence (rank 1, its first row); a question
    # with no evidence has no row and was not judged.
    first = {k: int(np.flatnonzero(owner == k)[0]) for k in set(owner.tolist())}
    judged_q = [k for k, value in enumerate(judged) if value is not None and k in first]
    signal = np.zeros((len(y), 1))
    for k in judged_q:
        signal[first[k], 0] = np.clip(judged[k], -10, 10) / 5.0
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
