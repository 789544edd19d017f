"""Refuse: every reason the service says "The briefings don't say.", in one place.

The service refuses for one of a few reasons, and a user (and the eval reports) should be able
to tell them apart: the question is out of scope, nothing was found, what was found does not
answer confidently enough (the decision, ``rag.decide``), or no answer sentence survived
verification. ``refuse`` turns any result into that refusal and names the reason in ``note``
and ``refusal``; no other code writes the refusal text into an answer.
"""

from __future__ import annotations

from enum import StrEnum

from rag.schema import AnswerResult

REFUSAL = "The briefings don't say."


class Refusal(StrEnum):
    """Why the service refused (``AnswerResult.refusal``)."""

    OUT_OF_SCOPE = "out_of_scope"  # the question asks for instructions or outside knowledge
    NO_EVIDENCE = "no_evidence"  # nothing retrieved to answer from
    LOW_CONFIDENCE = "low_confidence"  # the best passage is below the decision's floor
    UNSUPPORTED = "unsupported"  # no answer sentence was backed by its citations


MESSAGES = {
    Refusal.OUT_OF_SCOPE: "request outside the service's scope "
    "(instructions, prompts or outside knowledge)",
    Refusal.NO_EVIDENCE: "no passage found to answer from",
    Refusal.LOW_CONFIDENCE: "no passage answers the question confidently",
    Refusal.UNSUPPORTED: "no answer sentence was supported by its citations",
}


def refuse(result: AnswerResult, reason: Refusal, detail: str = "") -> AnswerResult:
    """A copy of ``result`` as a refusal for ``reason``: no answer, no citations, no short
    answer; ``note`` says why (with ``detail`` when given). Its timings stay shared."""
    return result.model_copy(
        update={
            "answer": REFUSAL,
            "citations": [],
            "support": [],
            "abstained": True,
            "grounded": False,
            "short_answer": None,
            "leads": False,
            "tier": "refusal",
            "refusal": reason.value,
            "note": f"{MESSAGES[reason]} ({detail})" if detail else MESSAGES[reason],
        }
    )
