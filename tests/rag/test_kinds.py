"""The answer kind of a question, and several questions split into parts (rag.kinds)."""

from __future__ import annotations

import pytest

from rag.kinds import answer_type, compare_sides, documents_topic, split_parts


@pytest.mark.parametrize(
    ("question", "kind", "topic"),
    [
        ("Which briefings mention Ilse Darrow?", "documents", "Ilse Darrow"),
        ("What documents cover the tram extension?", "documents", "the tram extension"),
        ("In which reports is the harbour levy discussed?", "documents", "the harbour levy"),
        ("List the briefings that mention the Lantern Bridge", "documents", "the Lantern Bridge"),
        ("What is the latest on the Corran link?", "latest", "the Corran link"),
        ("What's new with Ostrelle?", "latest", "Ostrelle"),
        ("Latest news about the Harlow Basin compact", "latest", "the Harlow Basin compact"),
        ("Summarize the Corran memo", "summary", "the Corran memo"),
        ("What are the key points of the 2032 budget?", "summary", "the 2032 budget"),
        ("What does the briefing say about the tram?", "summary", "the tram"),
        ("Give me a timeline of the Harlow Basin talks", "timeline", "the Harlow Basin talks"),
        ("How has the Ferrin port strike developed?", "timeline", "the Ferrin port strike"),
    ],
)
def test_questions_about_a_topic_name_their_kind_and_topic(
    question: str, kind: str, topic: str
) -> None:
    assert answer_type(question) == kind
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
        "Which country hosted the accord talks?",
        "Who did Vance and Ortega meet?",
        "What was discussed and agreed at the meeting?",
    ],
)
def test_one_question_stays_one_fact(question: str) -> None:
    assert answer_type(question) == "fact"
    assert split_parts(question) == [question]
    assert documents_topic(question) == ""


def test_a_latest_figure_or_a_how_many_question_is_still_a_fact() -> None:
    assert answer_type("What is the latest figure for turnout?") == "fact"
    assert answer_type("How many stations did the tunnel flood?") == "fact"


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Which countries signed the accord?", "list"),
        ("Who attended the Lindqvist summit?", "list"),
        ("Name the three ministers who resigned", "list"),
        ("What are the risks the memo lists?", "list"),
        ("Which people did the inquiry interview?", "list"),
        ("Which process did the board follow?", "fact"),  # not a plural
        # points of contention are a list of facts, not a summary of a briefing
        ("What are the main points of contention between Dravia and Keld?", "list"),
        ("Why did Ostrelle not send an observer?", "reason"),
        ("How did the council pay for the bridge?", "reason"),
        ("What caused the tunnel to flood?", "reason"),
        ("How long did the flood last?", "fact"),
    ],
)
def test_lists_and_reasons_are_recognised(question: str, kind: str) -> None:
    assert answer_type(question) == kind


@pytest.mark.parametrize(
    ("question", "sides"),
    [
        (
            "Compare Aldous Rail Group and Vantor Shipyards",
            ["Aldous Rail Group", "Vantor Shipyards"],
        ),
        (
            "How does the Corran link compare with the Varn upgrade in cost?",
            ["Corran link", "Varn upgrade"],
        ),
        ("What is the difference between Dravia and Keld?", ["Dravia", "Keld"]),
        ("Ferrin versus Halden", ["Ferrin", "Halden"]),
    ],
)
def test_a_comparison_names_its_two_sides(question: str, sides: list[str]) -> None:
    from rag.kinds import first_name

    assert first_name("Bank of Calvania's November 2031 decision") == "Bank of Calvania"
    assert first_name("its migration working group") == ""
    assert answer_type(question) == "compare"
    assert compare_sides(question) == sides
    assert compare_sides("Who compared the two plans?") == []
