"""Run a gold set through one or more answerers, score it, write reports, gate on thresholds.

Entry point: :func:`run_eval`. The CLI (``briefqa eval``) only builds runner factories and
thresholds and passes the exit code on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from eval import metrics
from eval.report import build_report_json, write_reports
from eval.runners import Runner
from ingest.loaders import LoadError, json_lines
from rag.refusal import REFUSAL
from rag.schema import AnswerResult, ChatTurn

LOWER_IS_BETTER: frozenset[str] = frozenset(
    {"false_abstention_rate", "latency_p50_s", "latency_p95_s"}
)
"""Metrics where a bare threshold name means a *maximum*; all others mean a minimum."""

RETRIEVAL_K = 5


class GoldPart(BaseModel):
    """One part of a several-questions-in-one item: its gold answers, or none to refuse."""

    model_config = ConfigDict(extra="forbid")

    answers: list[str] = []
    answerable: bool = True


class GoldSide(BaseModel):
    """One side of a comparison item: its name and the sentences that state it."""

    model_config = ConfigDict(extra="forbid")

    name: str
    key_sentences: list[str]


class GoldItem(BaseModel):
    """One gold question; ``extra="forbid"`` so a typo like ``answer`` fails loudly."""

    model_config = ConfigDict(extra="forbid")

    id: str
    question: str
    answers: list[str] = []
    sources: list[str] = []
    answerable: bool = True
    history: list[ChatTurn] | None = None
    category: str | None = None
    parts: list[GoldPart] | None = None  # several questions in one (rag.kinds)
    key_sentences: list[str] | None = None  # what a summary (or a why, a comparison) must quote
    items: list[str] | None = None  # a list question's items
    sides: list[GoldSide] | None = None  # a comparison's sides

    @model_validator(mode="after")
    def _consistent(self) -> GoldItem:
        """An answerable item needs answers; an unanswerable one must claim none."""
        if not self.question.strip():
            raise ValueError("question is empty")
        if self.answerable and not any(a.strip() for a in self.answers):
            raise ValueError("answerable item needs at least one non-empty answer")
        if not self.answerable and (self.answers or self.sources):
            raise ValueError("unanswerable item must have empty answers and sources")
        return self


def load_gold(path: str | Path, only: set[str] | None = None) -> list[GoldItem]:
    """Parse a gold JSONL file; blank lines are skipped, any bad line raises ``ValueError``.

    The message names ``path:line`` so a hand-edited gold file is quick to fix. ``only``
    keeps the items of one split (ids from ``eval.splits.load_split``); every line is still
    validated.
    """
    path = Path(path)
    items: list[GoldItem] = []
    seen: dict[str, int] = {}
    with path.open(encoding="utf-8") as handle:
        try:
            records = list(json_lines(handle, str(path)))
        except LoadError as exc:
            raise ValueError(str(exc)) from exc
        for lineno, raw in records:
            if not isinstance(raw, dict):
                raise ValueError(
                    f"{path}:{lineno}: expected a JSON object, got {type(raw).__name__}"
                )
            try:
                item = GoldItem.model_validate(raw)
            except ValidationError as exc:
                problems = "; ".join(
                    f"{'.'.join(str(p) for p in err['loc']) or 'item'}: {err['msg']}"
                    for err in exc.errors()
                )
                raise ValueError(f"{path}:{lineno}: invalid gold item: {problems}") from exc
            if item.id in seen:
                raise ValueError(
                    f"{path}:{lineno}: duplicate id {item.id!r} (first on line {seen[item.id]})"
                )
            seen[item.id] = lineno
            items.append(item)
    if only is not None:
        unknown = only - set(seen)
        if unknown:
            raise ValueError(f"{path}: split names ids not in the gold file: {sorted(unknown)[:3]}")
        items = [item for item in items if item.id in only]
    if not items:
        raise ValueError(f"{path}: no gold items")
    return items


def score_question(
    item: GoldItem,
    result: AnswerResult | None,
    latency_s: float,
    answerer: str,
    error: str | None = None,
) -> tuple[dict[str, Any], metrics.Outcome]:
    """Score one answer: a JSON-ready row for the report plus the ``Outcome`` to aggregate.

    A failed call (``result is None``) counts as a wrong, non-abstained answer, so errors can
    never make a run look better.
    """
    outcome = outcome_of(item, result, latency_s)
    return report_row(item, result, answerer, outcome, error), outcome


def outcome_of(item: GoldItem, result: AnswerResult | None, latency_s: float) -> metrics.Outcome:
    """What one answer scores against its gold item (``eval.metrics`` does the arithmetic)."""
    answer = result.answer if result else ""
    abstained = bool(result and result.abstained)
    cited_ids = [c.doc_id for c in result.citations] if result else []
    cited_titles = [c.title for c in result.citations] if result else []
    ret_ids = [r.doc_id for r in result.retrieved] if result else []
    ret_titles = [r.title for r in result.retrieved] if result else []

    if item.answerable:
        # A list answer names its items one per line; its short answer is the list as the
        # quote writes it ("A, B and C"), which is what a gold answer holds.
        short_answer = (result.short_answer if result else None) or ""
        matched = metrics.is_correct(answer, item.answers) or metrics.is_correct(
            short_answer, item.answers
        )
        correct = matched and not abstained and result is not None
        f1 = metrics.token_f1(answer, item.answers)
        em = metrics.exact_match(answer, item.answers)
    else:
        correct = abstained
        f1, em = None, None

    short = "" if abstained or result is None else (result.short_answer or answer)
    squad_em, squad_f1 = metrics.squad_scores(short, item.answers if item.answerable else [])

    has_sources = item.answerable and bool(item.sources)
    cited = has_sources and not abstained
    return metrics.Outcome(
        answerable=item.answerable,
        abstained=abstained,
        correct=correct,
        latency_s=latency_s,
        token_f1=f1,
        exact_match=em,
        recall_at_5=metrics.recall_at_k(ret_ids, ret_titles, item.sources, RETRIEVAL_K)
        if has_sources
        else None,
        reciprocal_rank=metrics.mrr(ret_ids, ret_titles, item.sources) if has_sources else None,
        citation_precision=metrics.citation_precision(cited_ids, cited_titles, item.sources)
        if cited
        else None,
        citation_recall=metrics.citation_recall(cited_ids, cited_titles, item.sources)
        if cited
        else None,
        supported=[s.supported for s in result.support] if result else [],
        squad_em=squad_em,
        squad_f1=squad_f1,
        confidence=result.confidence if result else None,
        tier=result.tier if result else None,
        **kind_scores(item, result, cited_ids, cited_titles),
    )


def kind_scores(
    item: GoldItem, result: AnswerResult | None, cited_ids: list[str], cited_titles: list[str]
) -> dict[str, float | None]:
    """The score of an answer of another kind than one fact (gold ``category``): only the
    one its category asks for is set; a refused unanswerable item scores 1 in it."""
    answer = result.answer if result else ""
    abstained = bool(result and result.abstained)
    refused_right = float(abstained) if not item.answerable else None
    category = item.category
    if category in ("documents", "timeline"):
        f1 = metrics.documents_f1(cited_ids, cited_titles, item.sources)
        if category == "timeline":
            f1 = f1 if metrics.in_order(cited_ids, item.sources) else 0.0
        return {f"{category}_f1": f1}
    if category == "latest":
        return {
            "latest_ok": float(
                cited_ids[:1] == item.sources[:1] or (not item.sources and abstained)
            )
        }
    if item.parts:
        answers = [(p.answers, p.answerable) for p in item.parts]
        return {
            "parts_ok": metrics.parts_ok(answer, answers, REFUSAL),
            "parts_handled": metrics.parts_handled(answer, len(item.parts), REFUSAL),
        }
    if category == "list":
        short = result.short_answer if result else None
        scored = 0.0 if abstained else metrics.list_items_f1(answer, short, item.items or [])
        return {"list_f1": scored if refused_right is None else refused_right}
    if category == "compare" and item.sides:
        sides = [side.key_sentences for side in item.sides]
        return {"compare_coverage": metrics.sides_covered(answer, sides)}
    if category in ("summary", "reason"):
        covered = metrics.coverage(answer, item.key_sentences) if item.key_sentences else None
        return {f"{category}_coverage": covered if refused_right is None else refused_right}
    return {}


def report_row(
    item: GoldItem,
    result: AnswerResult | None,
    answerer: str,
    outcome: metrics.Outcome,
    error: str | None,
) -> dict[str, Any]:
    """The report's JSON row for one answer: the question, what came back, and its scores."""
    return {
        "id": item.id,
        "answerer": answerer,
        "category": item.category,
        "question": item.question,
        "history": [t.model_dump() for t in item.history] if item.history else None,
        "answerable": item.answerable,
        "gold": item.answers,
        "gold_sources": item.sources,
        "answer": result.answer if result else "",
        "short_answer": result.short_answer if result else None,
        "confidence": result.confidence if result else None,
        "squad_em": outcome.squad_em,
        "squad_f1": outcome.squad_f1,
        "standalone_question": result.standalone_question if result else None,
        "service_answerer": result.answerer if result else None,
        "abstained": outcome.abstained,
        "tier": result.tier if result else None,
        "refusal": result.refusal if result else None,
        "grounded": bool(result and result.grounded),
        "correct": outcome.correct,
        "token_f1": outcome.token_f1,
        "exact_match": outcome.exact_match,
        "citations": [
            {"n": c.n, "doc_id": c.doc_id, "title": c.title, "quote": c.quote}
            for c in (result.citations if result else [])
        ],
        "citation_precision": outcome.citation_precision,
        "citation_recall": outcome.citation_recall,
        "retrieved_doc_ids": list(dict.fromkeys(r.doc_id for r in result.retrieved))
        if result
        else [],
        "recall_at_5": outcome.recall_at_5,
        "documents_f1": outcome.documents_f1,
        "parts_ok": outcome.parts_ok,
        "latest_ok": outcome.latest_ok,
        "summary_coverage": outcome.summary_coverage,
        "parts_handled": outcome.parts_handled,
        "list_f1": outcome.list_f1,
        "timeline_f1": outcome.timeline_f1,
        "reason_coverage": outcome.reason_coverage,
        "compare_coverage": outcome.compare_coverage,
        "reciprocal_rank": outcome.reciprocal_rank,
        "supported_sentences": sum(outcome.supported),
        "total_sentences": len(outcome.supported),
        "latency_s": outcome.latency_s,
        "timings": result.timings if result else {},
        "note": result.note if result else None,
        "error": error,
    }


def _parse_threshold(name: str) -> tuple[str, str]:
    """Map a threshold name to ``(metric, "min"|"max")``; unknown metrics raise ``ValueError``.

    ``min_X`` / ``max_X`` are explicit. A bare ``X`` is a minimum, except for
    :data:`LOWER_IS_BETTER` metrics (false abstentions, latency), where it is a maximum.
    """
    for prefix in ("min_", "max_"):
        if name.startswith(prefix) and name[len(prefix) :] in metrics.SUMMARY_KEYS:
            return name[len(prefix) :], prefix[:-1]
    if name in metrics.SUMMARY_KEYS:
        return name, "max" if name in LOWER_IS_BETTER else "min"
    raise ValueError(f"unknown threshold {name!r}; metrics are {', '.join(metrics.SUMMARY_KEYS)}")


def check_thresholds(
    summaries: Mapping[str, Mapping[str, float | int | None]],
    thresholds: Mapping[str, float],
) -> tuple[list[str], list[str]]:
    """Check every answerer against every threshold; return ``(failures, skipped)`` messages.

    A metric that is ``None`` (no qualifying questions, e.g. abstention accuracy on a set with
    no unanswerable items) cannot be below anything, so it is reported as skipped, not failed.
    """
    parsed = {name: (_parse_threshold(name), float(limit)) for name, limit in thresholds.items()}
    failures: list[str] = []
    skipped: list[str] = []
    for answerer, summary in summaries.items():
        for name, ((metric, kind), limit) in parsed.items():
            value = summary.get(metric)
            if value is None:
                skipped.append(
                    f"{answerer}: {metric} is n/a (threshold {name}={limit:g} not applied)"
                )
            elif kind == "min" and value < limit:
                failures.append(f"{answerer}: {metric}={value:.3f} < min {limit:g}")
            elif kind == "max" and value > limit:
                failures.append(f"{answerer}: {metric}={value:.3f} > max {limit:g}")
    return failures, skipped


def _run_one(
    name: str,
    runner: Runner,
    gold: list[GoldItem],
    progress: Progress,
) -> tuple[list[dict[str, Any]], list[metrics.Outcome]]:
    """Ask every gold question in order; exceptions are recorded per question, not raised."""
    rows: list[dict[str, Any]] = []
    outcomes: list[metrics.Outcome] = []
    task = progress.add_task(name, total=len(gold))
    for item in gold:
        error: str | None = None
        result: AnswerResult | None = None
        started = time.perf_counter()
        try:
            result = runner.ask(item.question, item.history)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
        latency = time.perf_counter() - started
        row, outcome = score_question(item, result, latency, name, error)
        rows.append(row)
        outcomes.append(outcome)
        progress.advance(task)
    return rows, outcomes


def run_eval(
    gold_path: str | Path,
    runner_factories: Mapping[str, Callable[[], Runner]],
    out_dir: str | Path,
    thresholds: Mapping[str, float] | None = None,
    *,
    console: Console | None = None,
    only: set[str] | None = None,
    split_name: str | None = None,
) -> int:
    """Evaluate each answerer on the gold set, write reports to ``out_dir``, return an exit code.

    ``runner_factories`` maps an answerer label to a zero-argument factory, so expensive
    runners are built one at a time and only when their turn comes; the first entry is the
    report's headline ``summary``.

    ``thresholds`` gate *every* answerer: ``{"answer_accuracy": 0.8}`` (or ``min_answer_accuracy``)
    is a minimum; ``false_abstention_rate`` and ``latency_p50_s`` / ``latency_p95_s`` are
    maximums when given bare; ``min_X`` / ``max_X`` force the direction. Unknown names raise
    ``ValueError`` before any question is asked.

    Writes ``report.json``, ``report.md``, ``metrics.png`` and ``latency.png``. Returns 0 when
    all applicable thresholds hold, 1 when any is violated.
    """
    console = console or Console(stderr=True)
    thresholds = dict(thresholds or {})
    for name in thresholds:
        _parse_threshold(name)  # fail fast on typos
    if not runner_factories:
        raise ValueError("runner_factories is empty")
    gold = load_gold(gold_path, only)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    per_question: list[dict[str, Any]] = []
    summaries: dict[str, dict[str, float | int | None]] = {}
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        for name, factory in runner_factories.items():
            runner = factory()
            try:
                rows, outcomes = _run_one(name, runner, gold, progress)
            finally:
                close = getattr(runner, "close", None)
                if callable(close):
                    close()
            per_question.extend(rows)
            summaries[name] = metrics.summarize(outcomes)

    failures, skipped = check_thresholds(summaries, thresholds)
    source = f"{gold_path} ({split_name} split)" if split_name else str(gold_path)
    report = build_report_json(source, summaries, per_question, thresholds, failures, skipped)
    write_reports(out, report)
    _print_summary(console, summaries, failures, skipped, out)
    return 1 if failures else 0


def _print_summary(
    console: Console,
    summaries: Mapping[str, Mapping[str, float | int | None]],
    failures: list[str],
    skipped: list[str],
    out: Path,
) -> None:
    """A terminal table mirroring report.md, so CI logs show the numbers without artifacts."""
    table = Table(title="briefing QA eval")
    table.add_column("metric")
    for name in summaries:
        table.add_column(name, justify="right")
    for key in metrics.SUMMARY_KEYS:
        table.add_row(key, *(_fmt(s.get(key)) for s in summaries.values()))
    console.print(table)
    for msg in skipped:
        console.print(f"[yellow]skipped[/]: {msg}")
    for msg in failures:
        console.print(f"[red]FAIL[/]: {msg}")
    console.print(f"reports written to {out}")


def _fmt(value: float | None) -> str:
    """Compact number formatting shared by the console table."""
    if value is None:
        return "n/a"
    if isinstance(value, int):
        return str(value)
    return f"{value:.3f}"
