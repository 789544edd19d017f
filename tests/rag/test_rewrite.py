"""Follow-ups become standalone questions from the chat history."""

from __future__ import annotations

from rag.rewrite import accept_rewrite, standalone_question, topic_of
from rag.schema import ChatTurn


def _history(question: str) -> list[ChatTurn]:
    return [
        ChatTurn(role="user", content=question),
        ChatTurn(role="assistant", content="Answer [1]."),
    ]


def test_pronoun_resolves_to_the_previous_topic() -> None:
    history = _history("Who opened the Quillon Orchard Festival?")
    assert (
        standalone_question("and who judged it?", history)
        == "Who judged the Quillon Orchard Festival?"
    )


def test_elliptical_follow_up_carries_the_previous_question() -> None:
    out = standalone_question("what about Dunmore?", _history("Who repaired the Lantern Bridge?"))
    assert "Dunmore" in out and "Lantern Bridge" in out


def test_no_history_or_standalone_question_is_unchanged() -> None:
    assert (
        standalone_question("Who chairs the works committee?", None)
        == "Who chairs the works committee?"
    )
    assert topic_of("When will the Kestrel Observatory reopen?") == "Kestrel Observatory"


def test_person_pronoun_takes_the_name_from_the_answer_to_a_who_question() -> None:
    history = [
        ChatTurn(role="user", content="Who did the Kestrel Observatory name as director?"),
        ChatTurn(role="assistant", content="Astronomer Priya Valcourt [1]."),
    ]
    # The rules keep the name as the answer wrote it, title and all (no list of titles).
    assert standalone_question("Who did she succeed?", history) == (
        "Who did Astronomer Priya Valcourt succeed?"
    )


def test_thing_pronoun_after_a_who_question_keeps_the_user_topic() -> None:
    history = [
        ChatTurn(role="user", content="Who opened the Quillon Orchard Festival?"),
        ChatTurn(role="assistant", content="Mayor Tobias Quell opened it."),
    ]
    assert standalone_question("When was it held?", history) == (
        "When was the Quillon Orchard Festival held?"
    )


def test_accept_rewrite_keeps_plausible_llm_questions_only() -> None:
    history = [
        ChatTurn(role="user", content="Who chairs the works committee?"),
        ChatTurn(role="assistant", content="Councillor Odessa Prane [1]."),
    ]
    question = "What plan did she present?"
    assert accept_rewrite("What plan did Odessa Prane present?", question, history)
    for candidate in (
        "What plan did Mayor Tobias Quell present?",  # a name nobody said
        "What plan did Odessa Prane present in 2031?",  # a number nobody said
        "Odessa Prane presented the bridge repair plan.",  # an answer, not a question
        "What plan?\nAlso, who is she?",  # more than one line
        "Who chairs the works committee?",  # lost the follow-up's own words
        "",
    ):
        assert not accept_rewrite(candidate, question, history), candidate


def test_possessives_neither_stay_on_the_topic_nor_double_up() -> None:
    gift = _history("Who gave the largest gift in the National Museum of Ostrel's history?")
    assert topic_of(gift[0].content) == "National Museum of Ostrel"
    assert standalone_question("How much was it?", gift) == (
        "How much was the National Museum of Ostrel?"
    )
    plant = [
        ChatTurn(role="user", content="Which carmaker signed with Vantor Cells?"),
        ChatTurn(role="assistant", content="Quarrow Motors signed a supply deal [1]."),
    ]
    assert standalone_question("Where is its main plant?", plant) == (
        "Where is the Quarrow Motors' main plant?"
    )
