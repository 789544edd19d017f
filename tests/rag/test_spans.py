"""Candidate spans and the fitted span scorer (rag/data/spans.json)."""

from __future__ import annotations

import pytest

from rag.spans import (
    FEATURES,
    ScoredSpan,
    SpanModel,
    best_of,
    candidates,
    features,
    question_kind,
    reading,
)


def test_question_kinds() -> None:
    assert question_kind("When will the bridge reopen?") == "date"
    assert question_kind("How many visitors came?") == "number"
    # a length or a duration is a measure ("6.4 kilometres", "48 hours"), not a date
    assert question_kind("How long is the Vellmark tunnel?") == "number"
    assert question_kind("How long did the strike last?") == "number"
    assert question_kind("Who chairs the works committee?") == "name"
    assert question_kind("Where did the ferry sink?") == "place"
    assert question_kind("Why was it cancelled?") == "explain"
    assert question_kind("How did the council respond?") == "explain"
    assert question_kind("What did the council build?") == "other"


def test_candidates_are_exact_substrings_of_each_kind() -> None:
    sentence = (
        "Representing Vellmark was Councillor Odessa Prane, who signed for 300 megawatts from "
        "Ardent, Brisk and Corvel on 3 September 2031."
    )
    found = {(c.text, c.kind) for c in candidates(sentence)}
    for c in candidates(sentence):
        assert sentence[c.start : c.end] == c.text
    assert ("Odessa Prane", "name") in found  # the bare name, without the title
    assert ("Councillor Odessa Prane", "name") in found
    assert ("300 megawatts", "number") in found
    assert ("3 September 2031", "date") in found
    assert ("Ardent, Brisk and Corvel", "list") in found


def test_apposition_is_not_a_list() -> None:
    texts = {c.text for c in candidates("Under their leader Ovid Marr, they swore an oath.")}
    assert "leader Ovid Marr, they" not in texts and "Ovid Marr" in texts


def test_the_fitted_model_picks_typed_spans() -> None:
    """The committed fit must find the obvious answers in plain fictional sentences."""

    def best_span(question: str, sentence: str) -> ScoredSpan | None:
        return best_of(reading(question, sentence))

    assert best_span("When did it open?", "The festival opened on 3 September 2031.").text == (
        "3 September 2031"
    )
    span = best_span("How many visitors came to the fair?", "Organisers counted 12,500 visitors.")
    assert span is not None and span.text.startswith("12,500")
    span = best_span("Who chairs the works committee?", "Ilse Darrow chairs the works committee.")
    assert span is not None and span.text == "Ilse Darrow"
    assert best_span("Why was it cancelled?", "It was cancelled because of floods.") is None


def test_model_refuses_a_file_fitted_for_other_features(tmp_path) -> None:
    path = tmp_path / "spans.json"
    path.write_text('{"features": ["bias"], "weights": [0.0], "lead_threshold": 0.5}')
    with pytest.raises(ValueError, match=r"re-run eval/calibrate\.py"):
        SpanModel.load(path)


def test_features_follow_the_declared_order() -> None:
    sentence = "Ilse Darrow chairs the works committee."
    cand = next(c for c in candidates(sentence) if c.text == "Ilse Darrow")
    vector = features("Who chairs the works committee?", "name", sentence, cand)
    assert len(vector) == len(FEATURES)
    assert vector[FEATURES.index("type_name")] == 1.0
    assert vector[FEATURES.index("q_overlap")] == 0.0
