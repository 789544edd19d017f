"""The local LLM's opinion on whether a sentence answers: one signal for the decision.

Issue 11 names "the LLM's confidence when an LLM answers" as a decision signal. The local
model is asked, about the sentence the decision ranks first (its title and a little of the
text before it for context), "does the passage state the answer? yes or no"; the signal is
log P(yes) - log P(no) of its first token, read from the logits without generating.
``bench/trials/llm_judge_trial.py`` measured it on dev (held-out balanced accuracy 0.659 -> 0.688);
``eval/calibrate.py --judge-model`` fits the decision model that uses it
(``rag/data/decision-local-llm.json``).

The judge runs in its own llama.cpp instance on the answerer's model file: sharing the
answerer's context would evict the answer prompt's cached static prefix on every question
(and saving/restoring that state copies the full logits buffer). The file's pages are shared,
but llama.cpp repacks the quantised weights per instance: measured here, the process's
proportional set size grows from 1.94 to 2.63 GB. ``llama-cpp-python`` does not expose a
second context on one loaded model, which would avoid that.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.schema import Evidence

if TYPE_CHECKING:
    import numpy as np

SYSTEM = "You check whether a passage answers a question. Reply with yes or no only."
CONTEXT_CHARS = 300  # the text before the sentence the judge sees (names it leaves implicit)
CONTEXT_TOKENS = 768  # the judge's context: prompt only (~150 tokens), nothing generated
YES = ("yes", "Yes", " yes", " Yes")
NO = ("no", "No", " no", " No")


def judge_prompt(question: str, ev: Evidence) -> str:
    """ChatML: the passage (title, a little context, the sentence) and the yes/no question."""
    passage = f"{ev.chunk.title}. ...{ev.before(CONTEXT_CHARS)}{ev.text}"
    user = (
        f"Passage: {passage}\n\nQuestion: {question}\n\n"
        "Does the passage state the answer to this question? Reply yes or no."
    )
    return (
        f"<|im_start|>system\n{SYSTEM}<|im_end|>\n<|im_start|>user\n{user}<|im_end|>\n"
        "<|im_start|>assistant\n"
    )


def yes_no_margin(logits: np.ndarray, yes: Iterable[int], no: Iterable[int]) -> float:
    """log P(yes) - log P(no) from next-token logits, each summed over its spellings."""
    top = float(logits.max())
    p_yes = sum(math.exp(float(logits[t]) - top) for t in yes)
    p_no = sum(math.exp(float(logits[t]) - top) for t in no)
    return math.log(p_yes + 1e-12) - math.log(p_no + 1e-12)


class LLMJudge:
    """Scores (question, sentence) with a llama.cpp model: > 0 leans "it answers"."""

    def __init__(
        self, llm: Any, lock: threading.Lock | None = None, lock_timeout_s: float = 60.0
    ) -> None:
        """``llm``: a ``llama_cpp.Llama`` of its own; ``lock`` serialises calls into the
        process's local models (they share the cores)."""
        self.llm = llm
        self.lock = lock or threading.Lock()
        self.lock_timeout_s = lock_timeout_s
        self.yes = self._first_tokens(YES)
        self.no = self._first_tokens(NO)

    def _first_tokens(self, words: Iterable[str]) -> set[int]:
        return {self.llm.tokenize(w.encode(), add_bos=False, special=False)[0] for w in words}

    def score(self, question: str, ev: Evidence) -> float | None:
        """The yes/no margin, or None when the prompt does not fit the judge's context or
        the model stays busy (the decision then goes without it)."""
        import llama_cpp
        import numpy as np

        tokens = self.llm.tokenize(judge_prompt(question, ev).encode(), add_bos=False, special=True)
        if len(tokens) >= self.llm.n_ctx():
            return None
        if not self.lock.acquire(timeout=self.lock_timeout_s):
            return None
        try:
            self.llm.reset()
            self.llm.eval(tokens)
            # The last position's logits straight from llama.cpp: the wrapper keeps them in
            # ``scores`` only with logits_all, which projects every prompt token.
            last = llama_cpp.llama_get_logits_ith(self.llm.ctx, -1)
            logits = np.ctypeslib.as_array(last, shape=(self.llm.n_vocab(),)).copy()
        finally:
            self.lock.release()
        return yes_no_margin(logits, self.yes, self.no)


def load_judge(
    model_path: Path, threads: int, lock: threading.Lock | None = None, lock_timeout_s: float = 60.0
) -> LLMJudge:
    """A judge on ``model_path`` in its own llama.cpp instance and small context (the file's
    pages are shared with the answerer's; the repacked weights are not, see above)."""
    import llama_cpp

    llm = llama_cpp.Llama(
        model_path=str(model_path),
        n_ctx=CONTEXT_TOKENS,
        n_threads=threads,
        n_threads_batch=threads,
        verbose=False,
    )
    return LLMJudge(llm, lock, lock_timeout_s)
