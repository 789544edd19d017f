"""Turn scored rows into ``report.json``, ``report.md``, ``metrics.png`` and ``latency.png``.

Charts are drawn on explicit ``Figure`` + ``FigureCanvasAgg`` objects (the Agg backend)
instead of ``pyplot``, so reporting never needs a display and never changes the global
matplotlib backend of a process that imported it.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from eval.metrics import SUMMARY_KEYS

Summary = Mapping[str, float | int | None]

CHART_METRICS: tuple[str, ...] = tuple(
    k for k in SUMMARY_KEYS if k != "n" and not k.startswith("latency_")
)
"""The [0, 1] metrics that share one axis in ``metrics.png``."""

MD_ANSWER_CHARS = 500
"""Answers longer than this are clipped in report.md's failure list."""

DENOMINATORS_NOTE = (
    "answer_accuracy, token_f1, exact_match and false_abstention_rate are over answerable "
    "questions; citation metrics over answerable, non-abstained answers; "
    "abstention_accuracy over unanswerable questions; support_rate over the sentences of "
    "all non-abstained answers."
)


def write_reports(out_dir: Path, report: Mapping[str, Any]) -> None:
    """Write all four artifacts of ``report`` (from ``build_report_json``) into ``out_dir``
    (which must exist)."""
    (out_dir / "report.json").write_text(
        json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (out_dir / "report.md").write_text(render_markdown(report), encoding="utf-8")
    summaries = report["answerers"]
    plot_metrics(summaries, out_dir / "metrics.png")
    plot_latency(report["per_question"], list(summaries), out_dir / "latency.png")


def build_report_json(
    gold_path: str,
    summaries: Mapping[str, Summary],
    per_question: Sequence[Mapping[str, Any]],
    thresholds: Mapping[str, float],
    failures: Sequence[str],
    skipped: Sequence[str],
) -> dict[str, Any]:
    """The machine-readable report; ``summary`` is the first answerer's, for single-run tools."""
    first = next(iter(summaries))
    errors: dict[str, int] = {name: 0 for name in summaries}
    for row in per_question:
        if row.get("error"):
            errors[row["answerer"]] = errors.get(row["answerer"], 0) + 1
    return {
        "summary": dict(summaries[first]),
        "answerers": {name: dict(s) for name, s in summaries.items()},
        "per_question": [dict(row) for row in per_question],
        "gold_path": gold_path,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "thresholds": dict(thresholds),
        "threshold_failures": list(failures),
        "threshold_skipped": list(skipped),
        "errors": errors,
        "passed": not failures,
    }


# --- markdown --------------------------------------------------------------------------------


def _fmt(value: Any) -> str:
    """Numbers to 3 decimals, ``None`` to n/a; ints (like ``n``) stay whole."""
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _cell(text: str) -> str:
    """Make arbitrary text safe for one markdown table cell or list line."""
    return " ".join(text.split()).replace("|", "\\|")


def _clip(text: str, limit: int = MD_ANSWER_CHARS) -> str:
    """Shorten long answers in the markdown; report.json keeps the full text."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _category_table(report: Mapping[str, Any], names: list[str]) -> list[str]:
    """Correct-rate per gold category and answerer; empty when the gold set has no categories."""
    counts: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    for row in report["per_question"]:
        if row.get("category"):
            counts[row["category"]][row["answerer"]].append(bool(row["correct"]))
    if not counts:
        return []
    lines = [
        "## Correct by category",
        "",
        "Unanswerable categories count an abstention as correct.",
        "",
        "| category | n | " + " | ".join(_cell(n) for n in names) + " |",
        "|---|---:|" + "---:|" * len(names),
    ]
    for category in sorted(counts):
        by_name = counts[category]
        n = max(len(v) for v in by_name.values())
        cells = []
        for name in names:
            flags = by_name.get(name, [])
            cells.append(f"{sum(flags)}/{len(flags)}" if flags else "n/a")
        lines.append(f"| {_cell(category)} | {n} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def _failure_lines(row: Mapping[str, Any]) -> list[str]:
    """One failed question as a nested markdown list: question, gold, answer, why."""
    label = f"**{_cell(row['id'])}**"
    if row.get("category"):
        label += f" ({_cell(row['category'])})"
    lines = [f"- {label}: {_cell(row['question'])}"]
    for turn in row.get("history") or []:
        lines.append(f"  - history {turn['role']}: {_cell(turn['content'])}")
    if row["answerable"]:
        gold = " / ".join(f"`{_cell(g)}`" for g in row["gold"])
        lines.append(f"  - gold: {gold}")
    else:
        lines.append("  - gold: *(unanswerable: should abstain)*")
    answer = _clip(_cell(row["answer"])) or "*(empty)*"
    flag = " *[abstained]*" if row["abstained"] else ""
    lines.append(f"  - answer{flag}: {answer}")
    cited = sorted({c["doc_id"] for c in row.get("citations", [])})
    if cited:
        lines.append(f"  - cited: {', '.join(_cell(c) for c in cited)}")
    if row.get("error"):
        lines.append(f"  - error: `{_cell(row['error'])}`")
    return lines


def render_markdown(report: Mapping[str, Any]) -> str:
    """A human report: side-by-side summary, gates, by-category table, charts, failures."""
    answerers: Mapping[str, Summary] = report["answerers"]
    names = list(answerers)
    lines = [
        "# Briefing QA evaluation",
        "",
        f"- gold: `{report['gold_path']}`",
        f"- questions: {next(iter(answerers.values()))['n']}",
        f"- answerers: {', '.join(names)}",
        f"- generated: {report['generated_at']}",
        f"- result: {'PASS' if report['passed'] else 'FAIL'}",
        "",
        "## Summary",
        "",
        "| metric | " + " | ".join(_cell(n) for n in names) + " |",
        "|---|" + "---:|" * len(names),
    ]
    for key in SUMMARY_KEYS:
        lines.append(f"| {key} | " + " | ".join(_fmt(answerers[n].get(key)) for n in names) + " |")
    lines.append("| errors | " + " | ".join(str(report["errors"].get(n, 0)) for n in names) + " |")
    lines += ["", DENOMINATORS_NOTE, ""]
    if report["thresholds"]:
        lines += ["## Thresholds", ""]
        lines += [f"- `{k}`: {v:g}" for k, v in report["thresholds"].items()]
        lines += [f"- **FAIL** {_cell(m)}" for m in report["threshold_failures"]]
        lines += [f"- skipped: {_cell(m)}" for m in report["threshold_skipped"]]
        lines.append("")
    lines += _category_table(report, names)
    lines += [
        "## Charts",
        "",
        "![metrics](metrics.png)",
        "",
        "![latency](latency.png)",
        "",
    ]
    lines += ["## Failures", ""]
    for name in names:
        failed = [r for r in report["per_question"] if r["answerer"] == name and not r["correct"]]
        lines += [f"### {_cell(name)} ({len(failed)} failed)", ""]
        if not failed:
            lines += ["None.", ""]
            continue
        for row in failed:
            lines += _failure_lines(row)
        lines.append("")
    return "\n".join(lines)


# --- charts ----------------------------------------------------------------------------------


def _new_figure(width: float, height: float) -> Figure:
    """A figure bound to an Agg canvas, independent of pyplot's global state."""
    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def plot_metrics(summaries: Mapping[str, Summary], path: Path) -> None:
    """Grouped bars: one group per metric, one bar per answerer; n/a metrics are labelled."""
    names = list(summaries)
    fig = _new_figure(max(8.0, 1.1 * len(CHART_METRICS) * max(1, len(names)) ** 0.5), 4.8)
    ax = fig.add_subplot()
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        xs = [m + (i - (len(names) - 1) / 2) * width for m in range(len(CHART_METRICS))]
        raw = [summaries[name].get(k) for k in CHART_METRICS]
        heights = [math.nan if v is None else float(v) for v in raw]
        ax.bar(xs, heights, width=width, label=name)
        for x, v in zip(xs, raw, strict=True):
            if v is None:
                ax.text(x, 0.02, "n/a", ha="center", va="bottom", fontsize=7, rotation=90)
    ax.set_xticks(range(len(CHART_METRICS)), CHART_METRICS, rotation=35, ha="right")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("score (false_abstention_rate: lower is better)")
    ax.set_title("Briefing QA metrics by answerer")
    ax.grid(axis="y", alpha=0.3)
    ax.legend()
    fig.savefig(path)


def plot_latency(per_question: Sequence[Mapping[str, Any]], names: list[str], path: Path) -> None:
    """Box plot of per-question latency per answerer, with the individual points overlaid."""
    data = [[float(r["latency_s"]) for r in per_question if r["answerer"] == n] for n in names]
    fig = _new_figure(max(5.0, 1.8 * len(names) + 2), 4.2)
    ax = fig.add_subplot()
    ax.boxplot(data, showfliers=False)
    ax.set_xticks(range(1, len(names) + 1), names)
    for i, values in enumerate(data, start=1):
        count = len(values)
        xs = [i + 0.25 * ((j % 7) / 6 - 0.5) for j in range(count)]
        ax.scatter(xs, values, s=10, alpha=0.5)
    ax.set_ylabel("latency per question (s)")
    ax.set_title("Latency distribution by answerer")
    ax.grid(axis="y", alpha=0.3)
    fig.savefig(path)
