"""What kind of answer a question wants (issue 28), from its wording alone.

A factoid ("who represented India?") is one span in one sentence; an analyst also asks for
which briefings mention something, or several questions in one breath. The service answers
each kind from cited sentences; this module only recognises the kind and, for several
questions at once, splits them into parts.

Plain English grammar, in the style of ``rag.spans.question_kind``: a wrong guess costs little,
since a part that is not a question of its own is answered as the whole question is.
"""

from __future__ import annotations

import re
from typing import Literal

AnswerType = Literal["fact", "documents", "latest", "timeline", "summary", "parts"]

_DOC_NOUN = r"(?:briefings?|documents?|articles?|reports?|memos?|notes?|files?|sources?|stories)"
_MENTION = (
    r"(?:mention(?:s|ed)?|cover(?:s|ed)?|discuss(?:es|ed)?|talk(?:s|ed)? about|refer(?:s|red)? to"
    r"|name(?:s|d)?|cite(?:s|d)?|report(?:s|ed)? on|deal(?:s|t)? with|feature(?:s|d)?)"
)
# "Which briefings mention Ilse Darrow?", "What documents cover the tram extension?",
# "In which reports is the levy discussed?", "List the briefings that mention X".
_DOCUMENTS = re.compile(
    rf"^\s*(?:(?:in\s+)?(?:which|what)\s+(?:of\s+the\s+)?{_DOC_NOUN}\s+"
    rf"(?:(?:do|does|did|that|which)\s+)?(?:also\s+)?{_MENTION}\b(?P<a>.*)"
    rf"|(?:list|show|find|name)\s+(?:all\s+)?(?:the\s+)?{_DOC_NOUN}\s+(?:that|which)\s+"
    rf"{_MENTION}\b(?P<b>.*)"
    rf"|(?:in\s+)?(?:which|what)\s+{_DOC_NOUN}\s+(?:is|are|was|were)\s+(?P<c>.*?)\s+{_MENTION}\s*\??\s*$)",
    re.IGNORECASE,
)
# "What is the latest on the Corran interconnector?", "What's new with Ostrelle?",
# "Most recent news about the Harlow Basin compact".
_LATEST = re.compile(
    r"^\s*(?:what(?:'s|\s+is|\s+are)\s+(?:the\s+)?(?:latest|newest|most\s+recent)"
    r"(?:\s+(?:news|updates?|briefings?|developments?))?|what(?:'s|\s+is)\s+new"
    r"|(?:the\s+)?(?:latest|newest|most\s+recent)\s+(?:news|updates?|briefings?|developments?))"
    r"\s+(?:on|about|with|regarding|in|for)\s+(?P<topic>.+)$",
    re.IGNORECASE,
)
# "Give me a timeline of the Harlow Basin talks", "How has the Ferrin port strike developed?"
_TIMELINE = re.compile(
    r"^\s*(?:(?:give\s+(?:me\s+)?)?(?:a\s+)?(?:timeline|chronology)\s+(?:of|for)\s+(?P<a>.+)"
    r"|how\s+(?:has|have|did)\s+(?P<b>.+?)\s+(?:developed|evolved|unfolded|changed|develop"
    r"|evolve|unfold|change)(?:\s+over\s+time)?\s*\??\s*$)",
    re.IGNORECASE,
)
# "Summarize the Corran memo", "What are the key points of the budget?", "What does the
# briefing say about the tram extension?", "Give me a summary of the museum reopening".
_SUMMARY = re.compile(
    r"^\s*(?:summari[sz]e|(?:give\s+(?:me\s+)?)?(?:a\s+)?(?:short\s+|brief\s+)?summary\s+of"
    r"|what\s+are\s+the\s+(?:key|main)\s+points\s+(?:of|in|about)"
    r"|(?:the\s+)?(?:key|main)\s+points\s+(?:of|in|about)"
    r"|what\s+(?:does|do)\s+the\s+(?:briefings?|documents?|reports?|memos?)\s+say\s+(?:about|on))"
    r"\s+(?P<topic>.+)$",
    re.IGNORECASE,
)
# A second question joined by "and": "Who hosted the summit and when did it open?"
_WH = r"(?:who|whom|whose|what|when|where|which|why|how(?:\s+(?:many|much|long|old|far))?)"
_AUX = r"(?:is|are|was|were|do|does|did|has|have|had|will|would|can|could)"
# After a comma any wh-word starts a new question (", and who opened it?"); without one, only a
# wh-word with its auxiliary ("and when did it open?"), so "Who did Vance and Ortega meet?" stays.
_JOIN = re.compile(
    rf",\s+and\s+(?={_WH}\b)|\s+and\s+(?={_WH}\s+{_AUX}\b|{_WH}\s+\w+\s+{_AUX}\b)",
    re.IGNORECASE,
)


def answer_type(question: str) -> AnswerType:
    """``documents`` for "which briefings mention X", ``latest`` for "the latest on X",
    ``timeline`` for "a timeline of X", ``summary`` for "summarize X", ``parts`` for two or
    more questions in one, else ``fact`` (the single-answer path)."""
    if len(split_parts(question)) > 1:
        return "parts"
    if _DOCUMENTS.search(question):
        return "documents"
    if _LATEST.search(question):
        return "latest"
    if _TIMELINE.search(question):
        return "timeline"
    if _SUMMARY.search(question):
        return "summary"
    return "fact"


def documents_topic(question: str) -> str:
    """What a "which briefings mention X" or "the latest on X" question asks about (X), or ""
    when it is neither."""
    m = _DOCUMENTS.search(question)
    if m is not None:
        topic = next((g for g in (m.group("a"), m.group("b"), m.group("c")) if g), "")
    elif (m := _TIMELINE.search(question)) is not None:
        topic = m.group("a") or m.group("b") or ""
    elif (m := _LATEST.search(question) or _SUMMARY.search(question)) is not None:
        topic = m.group("topic")
    else:
        return ""
    return topic.strip().rstrip("?.! ").strip()


def split_parts(question: str) -> list[str]:
    """The questions in ``question``: split at question marks followed by more text, and at
    "and" joining a second wh-question ("... and when did it open?"). Each part ends with "?".
    One part (the question itself) when there is nothing to split."""
    pieces = [p.strip() for p in re.split(r"(?<=\?)\s+(?=\S)", question.strip()) if p.strip()]
    parts: list[str] = []
    for piece in pieces:
        parts.extend(s.strip() for s in _JOIN.split(piece) if s.strip())
    # "When and where was it signed?" is one question: every part must be a clause of its own.
    if len(parts) < 2 or any(len(p.split()) < 3 for p in parts):
        return [question]
    return [_as_question(p) for p in parts]


def _as_question(part: str) -> str:
    part = part.strip().rstrip("?.!,; ").strip()
    return part[:1].upper() + part[1:] + "?"
