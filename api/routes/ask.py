"""``POST /v1/ask``: one question in, the full verified ``AnswerResult`` out."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ServiceDep, SettingsDep, StoreLockDep
from api.errors import invalid
from api.schemas import AskRequest
from rag.config import Settings
from rag.schema import AnswerResult, ChatTurn, Filters, Query
from rag.service import QAService

router = APIRouter(prefix="/v1", tags=["ask"])


def check_question(question: str, settings: Settings, loc: tuple[str | int, ...]) -> str:
    """Strip and bound the question (the service embeds it, so length is cost)."""
    question = question.strip()
    if not question:
        raise invalid(loc, "question must not be empty", question)
    if len(question) > settings.max_question_chars:
        raise invalid(
            loc, f"question longer than {settings.max_question_chars} characters", len(question)
        )
    return question


def check_top_k(top_k: int | None, settings: Settings) -> int | None:
    if top_k is not None and not 1 <= top_k <= settings.max_top_k:
        raise invalid(("body", "top_k"), f"top_k must be between 1 and {settings.max_top_k}", top_k)
    return top_k


def check_answerer(service: QAService, name: str | None) -> str:
    """The answerer to use; 422 naming the available ones when ``name`` is unknown."""
    try:
        return service.resolve_answerer(name)
    except KeyError as exc:
        raise invalid(("body", "answerer"), str(exc.args[0]), name) from exc


def conversation(history: list[ChatTurn]) -> list[ChatTurn]:
    """System turns are dropped: instructions come from the service, never from the caller."""
    return [turn for turn in history if turn.role in ("user", "assistant")]


@router.post("/ask", response_model=AnswerResult)
def ask(
    body: AskRequest, service: ServiceDep, settings: SettingsDep, lock: StoreLockDep
) -> AnswerResult:
    """Answer from the briefings with numbered citations, or abstain ("The briefings don't say.").

    Runs in the threadpool (plain ``def``): embedding and answering never block the event loop.
    """
    question = check_question(body.question, settings, ("body", "question"))
    if len(body.history) > settings.max_history_turns:
        raise invalid(
            ("body", "history"),
            f"history longer than {settings.max_history_turns} turns",
            len(body.history),
        )
    chars = sum(len(turn.content) for turn in body.history)
    if chars > settings.max_history_chars:
        why = f"history longer than {settings.max_history_chars} characters"
        raise invalid(("body", "history"), why, chars)
    top_k = check_top_k(body.top_k, settings)
    answerer = check_answerer(service, body.answerer)
    with lock.read():
        query = Query(
            question=question,
            history=conversation(body.history),
            filters=body.filters,
            top_k=top_k,
            answerer=answerer,
        )
        result = service.ask(query)
        result.undated_left_out = undated_left_out(service, body.filters)
    return result


def undated_left_out(service: QAService, filters: Filters | None) -> int | None:
    """How many undated documents a date range kept out of the search (None: no date range)."""
    if filters is None or filters.include_undated or not (filters.date_from or filters.date_to):
        return None
    return service.count_undated(filters)
