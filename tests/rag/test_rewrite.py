"""Follow-ups become standalone questions from the chat history."""

from __future__ import annotations

from rag.rewrite import standalone_question, topic_of
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
    assert standalone_question("Who did she succeed?", history) == "Who did Priya Valcourt succeed?"


def test_thing_pronoun_after_a_who_question_keeps_the_user_topic() -> None:
    history = [
        ChatTurn(role="user", content="Who opened the Quillon Orchard Festival?"),
        ChatTurn(role="assistant", content="Mayor Tobias Quell opened it."),
    ]
    assert standalone_question("When was it held?", history) == (
        "When was the Quillon Orchard Festival held?"
    )
