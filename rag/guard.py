"""Abstain: questions the service must not answer from the briefings, decided before retrieval.

Requests to drop the rules, reveal prompts, role-play, or answer from outside knowledge get the
fixed refusal. Text inside documents is never screened here: it is data, and answerers only
quote it.
"""

from __future__ import annotations

import re

REFUSAL = "The briefings don't say."

_HOSTILE = re.compile(
    r"""
      \b(ignore|disregard|forget|override|bypass)\b.{0,40}\b(instructions?|rules?|prompts?|guidelines?|context|briefings?|documents?)\b
    | \b(system|hidden|initial|developer)\s+(prompt|message|instructions?)\b
    | \breveal\b.{0,30}\b(prompt|instructions?|rules?|configuration)\b
    | \b(pretend|act\s+as|you\s+are\s+now|role[- ]?play|jailbreak|DAN\b)
    | \b(outside|general|your\s+own|prior|world|background)\s+knowledge\b
    | \bwithout\s+(using|looking\s+at|the)\s+(the\s+)?(briefings?|documents?|sources?)\b
    | \b(tell|write|make)\s+(me\s+)?(a\s+)?(joke|poem|story|song)\b
    """,
    re.IGNORECASE | re.VERBOSE,
)


def screen_question(question: str) -> str | None:
    """Return why the question is refused, or None when it may be answered from the briefings."""
    if _HOSTILE.search(question):
        return "request outside the service's scope (instructions, prompts or outside knowledge)"
    return None
