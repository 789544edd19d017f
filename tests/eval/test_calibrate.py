"""The decision threshold the calibration picks: balanced over answerable and unanswerable."""

from __future__ import annotations

import numpy as np

from eval.calibrate import Observed, fit_threshold, judge_column
from eval.harness import GoldItem


def _question(set_name: str, n: int, answerable: bool) -> Observed:
    item = GoldItem(
        id=f"{set_name}-{n}",
        question=f"question {n}?",
        answers=["x"] if answerable else [],
        answerable=answerable,
    )
    return Observed(set_name, item, item.question, [])


def test_the_threshold_balances_answers_against_refusals() -> None:
    # Two answerable questions whose best sentence holds the answer (p 0.9 and 0.6), one
    # unanswerable at 0.4 and one at 0.7: any threshold in (0.6, 0.7] refuses one of each
    # kind, (0.4, 0.6] answers both answerable and refuses one; the latter wins (0.75).
    observed = [
        _question("a", 0, True),
        _question("a", 1, True),
        _question("a", 2, False),
        _question("a", 3, False),
    ]
    # Each question has two sentences; the likeliest one is judged.
    p = np.array([0.9, 0.2, 0.6, 0.1, 0.4, 0.3, 0.7, 0.05])
    y = np.array([1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    owner = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    threshold, objective = fit_threshold(observed, p, y, owner)
    assert 0.4 < threshold <= 0.6
    score, per = objective(threshold)
    assert per["a"] == (1.0, 0.5) and score == 0.75
    assert objective(0.95)[1]["a"] == (0.0, 1.0)


def test_a_question_whose_likeliest_sentence_lacks_the_answer_counts_as_wrong() -> None:
    observed = [_question("a", 0, True), _question("b", 0, True)]
    # Question 0's likeliest sentence (0.8) does not hold the answer; its second one does.
    p = np.array([0.8, 0.7, 0.9])
    y = np.array([0.0, 1.0, 1.0])
    owner = np.array([0, 0, 1])
    threshold, objective = fit_threshold(observed, p, y, owner)
    score, per = objective(threshold)
    assert per["a"] == (0.0, None) and per["b"] == (1.0, None)
    assert score == 0.5


def test_the_judge_column_marks_each_questions_first_sentence_only() -> None:
    owner = np.array([0, 0, 0, 1, 2, 2])
    column = judge_column(owner, [5.0, None, -20.0])
    assert column[:, 0].tolist() == [1.0, 0.0, 0.0, 0.0, -2.0, 0.0]


def test_a_kind_gets_its_own_threshold_only_with_enough_dev_questions() -> None:
    from eval.calibrate import KIND_MIN, fit_kind_thresholds

    def why(n: int, answerable: bool) -> Observed:
        item = GoldItem(
            id=f"why-{n}",
            question=f"Why did question {n} happen?",
            answers=["x"] if answerable else [],
            answerable=answerable,
        )
        return Observed("a", item, item.question, [])

    # Why-questions score low: the right ones at 0.5, the unanswerable at 0.2.
    n = KIND_MIN
    observed = [why(k, k % 3 != 0) for k in range(n)]
    best_p = np.array([0.5 if o.item.answerable else 0.2 for o in observed])
    best_ok = np.array([o.item.answerable for o in observed])
    found = fit_kind_thresholds(observed, best_p, best_ok, general=0.6)
    assert 0.2 < found["reason"] <= 0.5 and "list" not in found
    assert fit_kind_thresholds(observed[: n - 1], best_p, best_ok, general=0.6) == {}
