"""Chat: turn a follow-up ("and who hosted it?") into a standalone question using the history.

Rules always run; they resolve pronouns to the topic of the previous user question and carry
that question along for elliptical follow-ups. An LLM rewrite can be layered on top.
"""

from __future__ import annotations

import re

from rag.schema import ChatTurn
from rag.text import STOPWORDS

_PRONOUN = re.compile(r"\b(it|its|they|them|their|there|that event|this event)\b", re.I)
_PERSON = re.compile(r"\b(he|him|his|she|her)\b", re.I)
_ELLIPTIC = re.compile(r"^\s*(and|also|what about|how about|and what about|what of)\b", re.I)
_PHRASE = re.compile(
    r"(?:[A-Z][\w'-]*(?:\s+(?:of|the|for|and|on|de)\s+|\s+)?)+[A-Z][\w'-]*|[A-Z][a-z][\w'-]+"
)
_QWORDS = {
    "who",
    "what",
    "when",
    "where",
    "which",
    "why",
    "how",
    "did",
    "does",
    "do",
    "is",
    "was",
    "were",
    "are",
}


def topic_of(question: str) -> str | None:
    """The main named thing in a question: its longest capitalised phrase."""
    phrases = []
    for match in _PHRASE.finditer(question):
        words = match.group(0).split()
        while words and (words[0].lower() in _QWORDS or words[0].lower() in STOPWORDS):
            words.pop(0)
        if words:
            phrases.append(" ".join(words))
    return max(phrases, key=len) if phrases else None


def standalone_question(question: str, history: list[ChatTurn] | None) -> str:
    """Resolve the follow-up against the last user turn; unchanged when there is no history."""
    previous = next((t.content for t in reversed(history or []) if t.role == "user"), None)
    if not previous or not question.strip():
        return question
    topic = topic_of(previous)
    rewritten = question
    if topic and _PRONOUN.search(question):

        def repl(m: re.Match[str]) -> str:
            word = m.group(0).lower()
            return (
                f"the {topic}'s"
                if word in ("its", "their")
                else f"the {topic}"
                if word != "there"
                else f"at the {topic}"
            )

        rewritten = _PRONOUN.sub(repl, question, count=1)
        rewritten = rewritten.replace("the the ", "the ")
    elif _ELLIPTIC.search(question) or _PERSON.search(question) or len(question.split()) <= 3:
        rewritten = f"{question.rstrip('?. ')} ({previous.rstrip('?. ')})?"
    return _ELLIPTIC.sub("", rewritten, count=1).strip() or question
