"""Hand-computed cases for eval.metrics; each assertion pins one convention."""

from __future__ import annotations

import math

import pytest

from eval import metrics
from eval.metrics import Outcome


def test_normalize_lowercases_strips_punctuation_and_collapses_space() -> None:
    assert (
        metrics.normalize("  The U.S.-Quad  minerals\n(initiative)! ")
        == "the u s quad minerals initiative"
    )
    assert metrics.normalize("rare-earth_elements—vital") == "rare earth elements vital"
    assert metrics.normalize("America's") == "america s"
    assert metrics.normalize("") == ""


def test_is_correct_needs_word_boundaries() -> None:
    assert metrics.is_correct("New Delhi lists over 30 minerals.", ["30"])
    assert not metrics.is_correct("New Delhi lists 300 minerals.", ["30"])
    assert not metrics.is_correct("Rubios", ["Rubio"])
    assert metrics.is_correct("It is a 10 year framework", ["10-year"])
    assert metrics.is_correct("Hosted by SCOTT   BESSENT.", ["Scott Bessent", "Bessent"])
    assert not metrics.is_correct("Hosted by Rubio.", ["Scott Bessent", "Bessent"])
    assert not metrics.is_correct("anything", [])
    assert not metrics.is_correct("anything", ["", "!!"])


def test_exact_match_is_normalized_equality_over_any_gold() -> None:
    assert metrics.exact_match("Bessent.", ["Scott Bessent", "Bessent"])
    assert not metrics.exact_match("Scott Bessent hosted it", ["Scott Bessent"])


def test_token_f1_hand_computed() -> None:
    # pred: it happened on 28 january (5); gold: 27 january (2); common 1 -> P=.2 R=.5 F=2/7
    assert metrics.token_f1("It happened on 28 January.", ["27 January"]) == pytest.approx(2 / 7)
    # best over golds: "scott bessent hosted it" vs "scott bessent" -> P=.5 R=1 F=2/3
    assert metrics.token_f1("Scott Bessent hosted it", ["Rubio", "Scott Bessent"]) == pytest.approx(
        2 / 3
    )
    assert metrics.token_f1("Bessent", ["Bessent"]) == 1.0
    assert metrics.token_f1("", ["Bessent"]) == 0.0
    assert metrics.token_f1("Bessent", []) == 0.0
    # repeated tokens count once per occurrence: pred a a, gold a -> common 1, P=.5 R=1
    assert metrics.token_f1("a a", ["a"]) == pytest.approx(2 / 3)


def test_recall_at_k_uses_distinct_docs() -> None:
    ids = ["a", "a", "a", "a", "a", "f"]
    # chunk ranks would put f at 6; distinct docs put it at 2
    assert metrics.recall_at_k(ids, [], ["f"], k=2) == 1.0
    assert metrics.recall_at_k(ids, [], ["f"], k=1) == 0.0
    assert metrics.recall_at_k(["a", "b", "c"], [], ["a", "z"], k=5) == 0.5
    assert metrics.recall_at_k([], [], ["a"], k=5) == 0.0


def test_recall_at_k_matches_titles_case_insensitively() -> None:
    ids = ["x1", "x2"]
    titles = ["Other", "Jaishankar Heads To US"]
    assert metrics.recall_at_k(ids, titles, ["jaishankar heads to us"], k=5) == 1.0
    assert metrics.recall_at_k(ids, titles, ["jaishankar"], k=5) == 0.0
    # doc_id matching stays exact
    assert metrics.recall_at_k(ids, titles, ["X1"], k=5) == 0.0


def test_retrieval_metrics_reject_empty_gold_and_bad_titles() -> None:
    with pytest.raises(ValueError):
        metrics.recall_at_k(["a"], [], [], k=5)
    with pytest.raises(ValueError):
        metrics.mrr(["a"], [], [])
    with pytest.raises(ValueError):
        metrics.recall_at_k(["a", "b"], ["only one"], ["a"], k=5)


def test_mrr_hand_computed() -> None:
    assert metrics.mrr(["b", "b", "a"], [], ["a"]) == 0.5
    assert metrics.mrr(["b", "c", "a"], [], ["a", "c"]) == 0.5
    assert metrics.mrr(["a"], [], ["a"]) == 1.0
    assert metrics.mrr(["b", "c"], [], ["a"]) == 0.0
    assert metrics.mrr(["b", "c", "a"], [], ["a"], k=2) == 0.0


def test_citation_precision_and_recall() -> None:
    # cited docs a (twice), c; gold a, b -> precision 1/2, recall 1/2
    ids, titles = ["a", "a", "c"], ["A", "A", "C"]
    assert metrics.citation_precision(ids, titles, ["a", "b"]) == 0.5
    assert metrics.citation_recall(ids, titles, ["a", "b"]) == 0.5
    assert metrics.citation_precision(["a"], ["Seed Doc"], ["seed doc"]) == 1.0
    assert metrics.citation_precision([], [], ["a"]) == 0.0
    assert metrics.citation_recall([], [], ["a"]) == 0.0


def test_abstention_rates() -> None:
    assert metrics.abstention_accuracy([True, True, False, True]) == 0.75
    assert metrics.false_abstention_rate([True, False, False, False, False]) == 0.2
    assert metrics.abstention_accuracy([]) is None
    assert metrics.false_abstention_rate([]) is None


def test_percentile_matches_linear_interpolation() -> None:
    values = [4.0, 1.0, 3.0, 2.0]
    assert metrics.percentile(values, 50) == pytest.approx(2.5)
    assert metrics.percentile(values, 95) == pytest.approx(3.85)
    assert metrics.percentile(values, 0) == 1.0
    assert metrics.percentile(values, 100) == 4.0
    assert metrics.percentile([7.0], 95) == 7.0
    with pytest.raises(ValueError):
        metrics.percentile([], 50)
    with pytest.raises(ValueError):
        metrics.percentile([1.0], 101)


def test_summarize_denominators() -> None:
    outcomes = [
        # answerable, correct, cited right, 2 of 2 sentences supported
        Outcome(True, False, True, 1.0, 1.0, True, 1.0, 1.0, 1.0, 1.0, [True, True]),
        # answerable, wrong, half-right citations, 0 of 1 supported
        Outcome(True, False, False, 2.0, 0.5, False, 1.0, 0.5, 0.5, 1.0, [False]),
        # answerable but abstained: counts for false abstention, not for citations/support
        Outcome(True, True, False, 3.0, 0.9, True, 0.0, 0.0, None, None, [False, False]),
        # unanswerable, abstained (correct)
        Outcome(False, True, True, 4.0),
        # unanswerable, answered anyway with one unsupported sentence
        Outcome(False, False, False, 5.0, supported=[False]),
    ]
    s = metrics.summarize(outcomes)
    assert tuple(s) == metrics.SUMMARY_KEYS
    assert s["n"] == 5
    assert s["answer_accuracy"] == pytest.approx(1 / 3)
    assert s["citation_precision"] == pytest.approx(0.75)
    assert s["citation_recall"] == pytest.approx(1.0)
    assert s["retrieval_recall_at_5"] == pytest.approx(2 / 3)
    assert s["mrr"] == pytest.approx(0.5)
    assert s["abstention_accuracy"] == pytest.approx(0.5)
    assert s["false_abstention_rate"] == pytest.approx(1 / 3)
    # sentences of non-abstained answers: T, T, F, F -> 2/4
    assert s["support_rate"] == pytest.approx(0.5)
    assert s["latency_p50_s"] == pytest.approx(3.0)
    assert s["latency_p95_s"] == pytest.approx(4.8)
    # abstained answer scores 0 even if its text overlapped: (1 + 0.5 + 0) / 3
    assert s["token_f1"] == pytest.approx(0.5)
    assert s["exact_match"] == pytest.approx(1 / 3)


def test_summarize_empty_groups_are_none_not_zero() -> None:
    s = metrics.summarize([Outcome(True, True, False, 0.5)])
    assert s["abstention_accuracy"] is None
    assert s["citation_precision"] is None
    assert s["support_rate"] is None
    assert s["false_abstention_rate"] == 1.0
    assert not math.isnan(s["latency_p50_s"] or math.nan)


def test_documents_f1_compares_cited_documents_with_the_gold_set() -> None:
    from eval.metrics import documents_f1

    assert documents_f1(["a.md", "b.md"], ["A", "B"], ["a.md", "c.md"]) == 0.5
    assert documents_f1(["a.md"], ["A"], ["a.md"]) == 1.0
    assert documents_f1([], [], ["a.md"]) == 0.0  # refused while a briefing names it
    assert documents_f1([], [], []) == 1.0  # refused, and none does


def test_parts_ok_reads_each_part_on_its_own_line() -> None:
    from eval.metrics import parts_ok

    refusal = "The briefings don't say."
    parts = [(["Odessa Prane"], True), ([], False)]
    answer = "Who chairs it? Odessa Prane chairs it [1]\nWhen? The briefings don't say."
    assert parts_ok(answer, parts, refusal) == 1.0
    swapped = "Who chairs it? The briefings don't say.\nWhen? On 3 May [1]"
    assert parts_ok(swapped, parts, refusal) == 0.0
    assert parts_ok("Odessa Prane chairs it [1]", parts, refusal) == 0.5  # one line for two


def test_coverage_counts_the_key_sentences_an_answer_quotes() -> None:
    from eval.metrics import coverage

    answer = "The bridge opened on 3 May. [1]\nIt carries two tram tracks, a cycle path. [2]"
    keys = ["The bridge opened on 3 May.", "It carries two tram tracks, a cycle path.", "Nope."]
    assert coverage(answer, keys) == 2 / 3


def test_list_f1_counts_named_gold_items_and_the_answers_own_items() -> None:
    gold = ["Dravia", "Ostrelle", "Keld"]
    assert metrics.list_items_f1("Dravia [1]\nOstrelle [1]\nKeld [1]", None, gold) == 1.0
    two_of_three = metrics.list_items_f1("Dravia [1]\nKeld [1]\nBrenn [2]", None, gold)
    assert math.isclose(two_of_three, 2 / 3)  # precision 2/3, recall 2/3
    # one quoted sentence: its items are the short answer's pieces
    quoted = metrics.list_items_f1(
        "Dravia, Ostrelle and Keld signed. [1]", "Dravia, Ostrelle", gold
    )
    assert math.isclose(quoted, 1.0)  # all three named; both short-answer pieces are gold


def test_parts_handled_wants_a_line_per_part_or_a_refusal() -> None:
    refusal = "The briefings don't say."
    assert metrics.parts_handled(f"Who? Ada [1]\nWhen? {refusal}", 2, refusal) == 1.0
    assert metrics.parts_handled("Who? Ada [1]", 2, refusal) == 0.5
    assert metrics.parts_handled(refusal, 2, refusal) == 1.0


def test_timeline_order_and_compare_sides() -> None:
    assert metrics.in_order(["a", "x", "b", "b"], ["a", "b", "c"])
    assert not metrics.in_order(["b", "a"], ["a", "b"])
    sides = [["Dravia spent 4 million."], ["Keld spent 2 million.", "Keld saved."]]
    assert metrics.sides_covered("Keld: Keld saved. [2]", sides) == 0.5
