"""The answer kind of a question, and several questions split into parts (rag.kinds)."""

from __future__ import annotations

import pytest

from rag.kinds import answer_type, documents_topic, split_parts


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("Which briefings mention Ilse Darrow?", "Ilse Darrow"),
        ("What documents cover the tram extension?", "the tram extension"),
        ("In which reports is the harbour levy discussed?", "the harbour levy"),
        ("List the briefings that mention the Lantern Bridge", "the Lantern Bridge"),
    ],
)
def test_which_documents_questions_name_their_topic(question: str, topic: str) -> None:
    assert answer_type(question) == "documents"
    assert documents_topic(question) == topic


@pytest.mark.parametrize(
    ("question", "parts"),
    [
        (
            "Who hosted the summit and when did it open?",
            ["Who hosted the summit?", "When did it open?"],
        ),
        (
            "How much did the fire cost Aldous Rail, and where did the fire start?",
            ["How much did the fire cost Aldous Rail?", "Where did the fire start?"],
        ),
        ("Who chairs the committee? What does the plan cost?", None),
    ],
)
def test_several_questions_are_split_into_parts(question: str, parts: list[str] | None) -> None:
    assert answer_type(question) == "parts"
    found = split_parts(question)
    assert found == (parts or ["Who chairs the committee?", "What does the plan cost?"])


@pytest.mark.parametrize(
    "question",
    [
        "Who represented India at the Finance Ministerial?",
        "When and where was the treaty signed?",  # one question about two things
        "Which countries signed the accord?",
        "Who did Vance and Ortega meet?",
        "What was discussed and agreed at the meeting?",
    ],
)
def test_one_question_stays_one_fact(question: str) -> None:
    assert answer_type(question) == "fact"
    assert split_parts(question) == [question]
    assert documents_topic(question) == ""


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("What is the latest on the Corran interconnector?", "the Corran interconnector"),
        ("What's new with Ostrelle?", "Ostrelle"),
        ("Latest news about the Harlow Basin compact", "the Harlow Basin compact"),
    ],
)
def test_latest_questions_name_their_topic(question: str, topic: str) -> None:
    assert answer_type(question) == "latest"
    assert documents_topic(question) == topic


def test_a_latest_figure_is_still_a_fact() -> None:
    assert answer_type("What is the latest figure for turnout?") == "fact"


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("Summarize the Corran memo", "the Corran memo"),
        ("What are the key points of the 2032 budget?", "the 2032 budget"),
        ("What does the briefing say about the tram extension?", "the tram extension"),
    ],
)
def test_summary_questions_name_their_topic(question: str, topic: str) -> None:
    assert answer_type(question) == "summary"
    assert documents_topic(question) == topic


def test_timeline_questions_name_their_topic() -> None:
    assert answer_type("Give me a timeline of the Harlow Basin talks") == "timeline"
    assert documents_topic("How has the Ferrin port strike developed?") == "the Ferrin port strike"
    assert answer_type("How did the tunnel flood?") == "fact"
