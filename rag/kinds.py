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

from rag.schema import AnswerType

__all__ = [
    "AnswerType",
    "answer_type",
    "compare_sides",
    "documents_topic",
    "first_name",
    "split_parts",
]

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
    r"|what\s+are\s+the\s+(?:key|main)\s+points\s+(?:of|in|about)(?!\s+(?:contention|dispute"
    r"|disagreement|difference|conflict))"
    r"|(?:the\s+)?(?:key|main)\s+points\s+(?:of|in|about)(?!\s+(?:contention|dispute"
    r"|disagreement|difference|conflict))"
    r"|what\s+(?:does|do)\s+the\s+(?:briefings?|documents?|reports?|memos?)\s+say\s+(?:about|on))"
    r"\s+(?P<topic>.+)$",
    re.IGNORECASE,
)
# "Compare X and Y", "How does X compare with Y?", "What is the difference between X and Y?",
# "X versus Y".
_COMPARE = re.compile(
    r"^\s*(?:compare\s+(?P<a>.+?)\s+(?:and|with|to|against)\s+(?P<b>.+)"
    r"|how\s+(?:does|do|did)\s+(?P<c>.+?)\s+compare\s+(?:with|to|against)\s+(?P<d>.+)"
    r"|what(?:'s|\s+is|\s+are|\s+were|\s+was)\s+the\s+(?:main\s+|key\s+)?differences?\s+"
    r"between\s+(?P<e>.+?)\s+and\s+(?P<f>.+)"
    r"|(?P<g>.+?)\s+(?:versus|vs\.?)\s+(?P<h>.+))$",
    re.IGNORECASE,
)
# "Why did X ...?" and "How did X ...?" (a method, not "how many / much / long ..."): the
# answer is the sentence that states the reason or the method.
_REASON = re.compile(
    r"^\s*(?:why\b|for\s+what\s+reason\b|what\s+(?:caused|led\s+to)\b"
    r"|how\s+(?:did|does|do|was|were|is|are|will|would|could|can|has|have)\b)",
    re.IGNORECASE,
)
_COUNTED = re.compile(
    r"^\s*how\s+(?:many|much|long|old|far|often|big|large|tall|soon|early|late|high|fast|deep"
    r"|wide|few|heavy|close|expensive)\b",
    re.IGNORECASE,
)
# "Which countries signed ...?", "Who attended ...?", "Name the three ...", "List the ...":
# a plural head noun or a verb of attending asks for every item the evidence gives.
_IRREGULAR_PLURALS = r"people|children|men|women|staff|members|media|police"
_NOT_PLURAL = re.compile(r"(?:ss|us|is|ics|news|series|species|ous)$", re.IGNORECASE)
_LIST = re.compile(
    r"^\s*(?:what\s+(?:are|were)\s+the\s+(?:(?:two|three|four|five|six|seven|eight|nine|ten"
    r"|\d+)\s+)?(?:\w+\s+){0,2}?(?P<c>[a-z][\w-]*s)\b"
    r"|(?:which|what)\s+(?:(?:two|three|four|five|six|seven|eight|nine|ten|\d+|other)\s+)?"
    r"(?P<a>[a-z][\w-]*)\b"
    r"|(?:list|name)\s+(?:all\s+)?(?:of\s+)?(?:the\s+)?(?:(?:two|three|four|five|six|seven"
    r"|eight|nine|ten|\d+)\s+)?(?:\w+\s+){0,2}?(?P<b>[a-z][\w-]*s)\b"
    r"|who\s+(?:attended|took\s+part|participated|were)\b(?P<d>))",
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
    more questions in one, ``compare`` for "compare X and Y", ``reason`` for "why / how did",
    ``list`` for "which countries / name the ...", else ``fact`` (the single-answer path)."""
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
    if compare_sides(question):
        return "compare"
    if _REASON.search(question) and not _COUNTED.search(question):
        return "reason"
    if _wants_list(question):
        return "list"
    return "fact"


def _wants_list(question: str) -> bool:
    """A plural head noun ("which countries", "name the ministers") or "who attended"."""
    m = _LIST.search(question)
    if m is None:
        return False
    if m.group("d") is not None:
        return True
    noun = next(g for g in (m.group("a"), m.group("b"), m.group("c")) if g is not None).lower()
    if re.fullmatch(_IRREGULAR_PLURALS, noun):
        return True
    return noun.endswith("s") and len(noun) > 3 and not _NOT_PLURAL.search(noun)


def _bare(side: str) -> str:
    """A side as a label: no end punctuation, no leading "the", no trailing "'s"."""
    side = side.strip().rstrip("?.! ").strip()
    side = re.sub(r"^the\s+", "", side, flags=re.IGNORECASE)
    return re.sub(r"['\u2019]s$", "", side)


def compare_sides(question: str) -> list[str]:
    """The two things a comparison question compares ("Compare X and Y" gives [X, Y]), or []
    when it is not one."""
    m = _COMPARE.search(question.strip())
    if m is None:
        return []
    pairs = (("a", "b"), ("c", "d"), ("e", "f"), ("g", "h"))
    x, y = next((m.group(a), m.group(b)) for a, b in pairs if m.group(a) is not None)
    # "... with Y in cost?", "... and Y, the two founders": what follows Y is not Y.
    y = re.sub(r"(?:,|\s+(?:in|on|over|for)\s+(?:terms\s+of\s+)?).*$", "", y)
    sides = [_bare(x), _bare(y)]
    return sides if all(side.split() for side in sides) else []


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


_NAMED = re.compile(r"[A-Z][\w'\u2019-]*(?:\s+(?:(?:of|the|de|for)\s+)*[A-Z][\w'\u2019-]*)*")
_NOT_NAMES = {"the", "a", "an", "its", "their", "his", "her"}


def first_name(phrase: str) -> str:
    """The first capitalised name in ``phrase`` ("the applications by Tessel Lithium" gives
    "Tessel Lithium"; a possessive loses its "'s"), or "" when it names nothing: what a
    phrase that no sentence states word for word is most surely about."""
    for m in _NAMED.finditer(phrase):
        name = re.split(r"['\u2019]s\b", m.group(0))[0]
        if name.lower() not in _NOT_NAMES:
            return name
    return ""


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
