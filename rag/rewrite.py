"""Chat: turn a follow-up ("and who hosted it?") into a standalone question using the history.

Rules always run. With ``llm_rewrite`` on and an LLM answerer, the LLM rewrites as well, and
its question is used only if ``accept_rewrite`` finds it plausible (one question, no name or
number that isn't in the conversation, the follow-up's own words kept); otherwise the rules'.
A thing-pronoun ("it", "they", "there") becomes the topic of the last
exchange; a person-pronoun ("he", "she") becomes the person it was about: the answer's name
when the user had asked "who", else the name in the user's question. Elliptical follow-ups
("what about Japan?") carry the previous question along.
"""

from __future__ import annotations

import re

from rag.schema import ChatTurn, last_exchange
from rag.spans import names_in
from rag.text import STOPWORDS, terms, words

_THING = re.compile(r"\b(it|its|they|them|their|there|that event|this event)\b", re.I)
_PERSON = re.compile(r"\b(he|him|his|she|her)\b", re.I)
_ELLIPTIC = re.compile(r"^\s*(and what about|what about|how about|what of|and|also)\b\s*", re.I)
_PHRASE = re.compile(
    r"(?:[A-Z][\w'-]*(?:\s+(?:of|the|for|and|on|de)\s+|\s+)?)+[A-Z][\w'-]*|[A-Z][a-z][\w'-]+"
)
_QWORDS = {"who", "what", "when", "where", "which", "why", "how", "did", "does", "do", "is"}
_ASKS_WHO = re.compile(r"^\s*(who|whom)\b", re.I)
_POSSESSIVE = re.compile(r"['\u2019]s?$")


def topic_of(text: str) -> str | None:
    """The main named thing in a text: its longest capitalised phrase."""
    phrases = []
    for match in _PHRASE.finditer(text):
        words = match.group(0).split()
        while words and (words[0].lower() in _QWORDS or words[0].lower() in STOPWORDS):
            words.pop(0)
        if words:  # "the Museum of Calvania's history": the topic is the museum
            phrases.append(_POSSESSIVE.sub("", " ".join(words)))
    return max(phrases, key=len) if phrases else None


def _first_name(text: str) -> str | None:
    names = names_in(text)
    return names[0] if names else None


def accept_rewrite(candidate: str, question: str, history: list[ChatTurn]) -> bool:
    """Whether an LLM's standalone question can be trusted over the rules' one."""
    candidate = candidate.strip()
    if not candidate.endswith("?") or len(candidate) > 300 or "\n" in candidate:
        return False
    said = " ".join([question, *(t.content for t in history)]).lower()
    invented = [w for w in words(candidate)[1:] if (w[0].isupper() or w[0].isdigit())]
    if any(w.lower() not in said for w in invented):
        return False
    own = set(terms(question))
    return not own or len(own & set(terms(candidate))) * 2 >= len(own)


def standalone_question(question: str, history: list[ChatTurn] | None) -> str:
    """Resolve the follow-up against the last exchange; unchanged when there is no history."""
    previous, answer = last_exchange(history)
    if not previous or not question.strip():
        return question
    asked_who = bool(_ASKS_WHO.search(previous))
    thing = (None if asked_who else topic_of(answer)) or topic_of(previous)
    person = (_first_name(answer) if asked_who else _first_name(previous)) or thing

    rewritten, resolved = question, False
    if thing and _THING.search(rewritten):
        rewritten, resolved = with_thing(rewritten, thing), True
    if person and _PERSON.search(rewritten):
        rewritten, resolved = with_person(rewritten, person), True
    elliptic = bool(_ELLIPTIC.search(rewritten))
    rewritten = _ELLIPTIC.sub("", rewritten, count=1).strip() or question
    if not resolved and (elliptic or len(question.split()) <= 3):
        rewritten = f"{rewritten.rstrip('?. ')} ({previous.rstrip('?. ')})?"
    return rewritten[0].upper() + rewritten[1:]


def with_thing(question: str, thing: str) -> str:
    """``question`` with its first thing-pronoun ("it", "its", "there") naming ``thing``."""
    return _THING.sub(lambda m: _thing_phrase(m.group(0), thing), question, count=1)


def with_person(question: str, person: str) -> str:
    """``question`` with its first person-pronoun ("he", "her") naming ``person``."""
    return _PERSON.sub(
        lambda m: f"{person}'s" if m.group(0).lower() in ("his", "her") else person,
        question,
        count=1,
    )


def _thing_phrase(pronoun: str, topic: str) -> str:
    word = pronoun.lower()
    if word in ("its", "their"):  # "Hesketh Motors'", not "Hesketh Motors's"
        return f"the {topic}'" if topic.endswith("s") else f"the {topic}'s"
    return f"at the {topic}" if word == "there" else f"the {topic}"
