"""The local LLM's yes/no on a sentence: its prompt, its margin, and a real small model."""

from __future__ import annotations

import math
import threading
from pathlib import Path

import numpy as np
import pytest

from rag.answer.judge import LLMJudge, judge_prompt, load_judge, yes_no_margin
from rag.schema import Evidence, RetrievedChunk


def _ev(sentence: str, before: str = "", title: str = "Harlow water talks") -> Evidence:
    text = before + sentence
    chunk = RetrievedChunk(
        chunk_id="d:0", doc_id="d", title=title, text=text, start_char=0, end_char=len(text)
    )
    start = len(before)
    return Evidence(
        n=1, chunk=chunk, text=sentence, start_char=start, end_char=len(text), score=0.0
    )


def test_the_prompt_shows_title_context_sentence_and_question_once() -> None:
    ev = _ev("She arrived on Tuesday.", before="Dravia sent Ilse Darrow. ")
    prompt = judge_prompt("When did Ilse Darrow arrive?", ev)
    passage = "Harlow water talks. ...Dravia sent Ilse Darrow. She arrived on Tuesday."
    assert passage in prompt and prompt.count("When did Ilse Darrow arrive?") == 1
    assert prompt.endswith("<|im_start|>assistant\n")


def test_the_margin_sums_each_answers_spellings() -> None:
    logits = np.log(np.array([0.1, 0.2, 0.3, 0.4]))
    # yes = tokens 0 and 1 (0.3 in all), no = token 3 (0.4)
    assert yes_no_margin(logits, {0, 1}, {3}) == pytest.approx(math.log(0.3 / 0.4))


@pytest.fixture(scope="module")
def smollm2() -> Path:
    pytest.importorskip(
        "llama_cpp", reason="llama-cpp-python not installed (bash scripts/install_llm.sh)"
    )
    from rag.answer.gguf import smollm2_path

    return smollm2_path()


@pytest.mark.slow
def test_a_real_model_judges_and_declines_what_it_cannot(smollm2: Path) -> None:
    lock = threading.Lock()
    judge = load_judge(smollm2, threads=1, lock=lock, lock_timeout_s=0.05)
    ev = _ev("Dravia sent Councillor Ilse Darrow to the Harlow water talks.")
    margin = judge.score("Who did Dravia send to the talks?", ev)
    assert margin is not None and math.isfinite(margin)
    assert judge.score("Who did Dravia send to the talks?", ev) == margin  # same prompt, same
    with lock:  # the model is busy past the timeout: no judgment, not a wait
        assert judge.score("Who did Dravia send?", ev) is None
    long = _ev("Dravia sent envoys. " * 400)
    assert judge.score("Who did Dravia send?", long) is None  # beyond the judge's context
    assert isinstance(judge, LLMJudge) and judge.yes.isdisjoint(judge.no)
