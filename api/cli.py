"""``briefqa``: ingest, search, ask, serve, eval and documents, from one console script.

Output is for people on a terminal (rich tables) and for pipes: when stdout is not a terminal,
lists are plain tab-separated lines (no header, never wrapped), and ``--json`` prints JSON.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from rag.config import Settings

if TYPE_CHECKING:
    from rag.schema import AnswerResult

app = typer.Typer(help="Answers questions over briefing documents, with verified citations.")
documents_app = typer.Typer(help="List or delete stored documents.")
app.add_typer(documents_app, name="documents")
# soft_wrap: long lines are never broken at the console width (a terminal wraps them itself;
# a pipe or log file gets them whole).
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

ANSWERERS = ("extractive", "local-llm", "openai")
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def emit_json(data: Any) -> None:
    """JSON on stdout, unwrapped (pretty and coloured only on a terminal)."""
    if console.is_terminal:
        console.print_json(json.dumps(data, ensure_ascii=False, default=str))
    else:
        sys.stdout.write(json.dumps(data, ensure_ascii=False, default=str) + "\n")


def plain(text: str, **style: Any) -> None:
    """One line as it is: no markup, no highlighting, no wrapping at the console width."""
    console.print(text, markup=False, highlight=False, soft_wrap=True, **style)


def rows_out(header: Sequence[str], rows: list[list[str]]) -> None:
    """A rich table on a terminal; tab-separated lines (tabs/newlines in cells as spaces) when
    piped, so ``cut -f`` and ``grep`` work."""
    if console.is_terminal:
        table = Table(*header)
        for row in rows:
            table.add_row(*row)
        console.print(table)
        return
    for row in rows:
        sys.stdout.write("\t".join(" ".join(cell.split()) for cell in row) + "\n")


def _components(settings: Settings, threads: int | None = None):
    from rag.components import build_components
    from rag.store.chroma import StoreUnavailable

    if threads:
        settings = settings.model_copy(update={"torch_threads": threads})
    try:
        return build_components(settings)
    except (StoreUnavailable, ValueError) as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(3) from exc


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders of briefings.")],
    prune: Annotated[bool, typer.Option(help="Remove stored documents not found now.")] = False,
) -> None:
    """Clean, chunk, embed and store documents; unchanged ones are not re-embedded."""
    from ingest.pipeline import IngestPipeline
    from rag.store.chroma import StoreUnavailable

    settings = Settings()
    comps = _components(settings, threads=2)
    pipeline = IngestPipeline(settings, comps.store, comps.embedder, comps.bm25)
    with Progress(
        TextColumn("embedding"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task("chunks", total=None)
        try:
            report = pipeline.run(
                paths,
                prune=prune,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
        except (StoreUnavailable, OSError) as exc:
            # Disk full, read-only data dir, store gone: say so; a re-run resumes safely.
            err.print(f"[red]error:[/red] ingest stopped: {exc}")
            raise typer.Exit(3) from exc
    for name, reason in report.skipped:
        err.print(f"[yellow]skipped[/yellow] {name}: {reason}")
    console.print(report.summary())
    if report.explicit_failures:
        raise typer.Exit(1)


@app.command()
def search(
    query: str,
    k: Annotated[int, typer.Option("-k", help="How many chunks.")] = 5,
    as_json: JsonOpt = False,
) -> None:
    """Top chunks for a query (hybrid retrieval), with document title and score.

    Piped: one line per chunk, tab-separated: score, dense score, doc_id, title, text."""
    from rag.retrieve import HybridRetriever

    settings = Settings()
    comps = _components(settings)
    retriever = HybridRetriever(settings, comps.store, comps.embedder, comps.bm25)
    chunks = retriever.retrieve(query, top_k=k)
    if as_json:
        emit_json([c.model_dump() for c in chunks])
        return
    rows = []
    width = 160 if console.is_terminal else None  # a pipe gets the whole chunk
    for chunk in chunks:
        dense = f"{chunk.dense_score:.3f}" if chunk.dense_score is not None else "-"
        rows.append([f"{chunk.score:.4f}", dense, chunk.doc_id, chunk.title, chunk.text[:width]])
    rows_out(("score", "dense", "doc", "title", "text"), rows)


@app.command()
def ask(
    question: str,
    answerer: Annotated[
        str | None,
        typer.Option(help=f"One of: {', '.join(ANSWERERS)} (default: BRIEFQA_ANSWERER)."),
    ] = None,
    source: Annotated[
        list[str] | None, typer.Option("--source", help="Only this source (repeatable).")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Only documents dated on/after YYYY-MM-DD.")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Only documents dated on/before YYYY-MM-DD.")
    ] = None,
    doc: Annotated[
        list[str] | None, typer.Option("--doc", help="Only this doc_id (repeatable).")
    ] = None,
    include_undated: Annotated[
        bool, typer.Option(help="With --since/--until, search undated documents too.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full JSON result.")] = False,
) -> None:
    """Answer one question with numbered citations to verbatim quotes, streamed as it is written."""
    from contextlib import closing

    from rag.schema import AnswerResult

    filters = _filters(source, since, until, doc, include_undated)
    service, name = _service_for(answerer)
    if as_json:
        emit_json(service.ask(question, filters=filters, answerer=name).model_dump(mode="json"))
        return
    streamed: list[str] = []
    result: AnswerResult | None = None
    # Closed even on Ctrl-C, so a local LLM's lock is released.
    stream = service.ask_stream(question, filters=filters, answerer=name)
    with closing(stream) as items:  # type: ignore[type-var]
        for item in items:
            if isinstance(item, AnswerResult):
                result = item
            elif item:
                streamed.append(item)
                console.print(item, end="", markup=False, highlight=False, soft_wrap=True)
    assert result is not None, "ask_stream ended without a result"
    console.print()
    _print_verified(result, "".join(streamed))


def _print_verified(result: AnswerResult, streamed: str) -> None:
    """After the streamed text: the verified answer where it differs, the quotes, a status."""
    if streamed.strip() != result.answer.strip():
        # Verification dropped or re-cited what was streamed: the verified answer is what counts.
        plain("verified answer:", style="dim")
        plain(result.answer)
    for c in result.citations:
        page = f", p. {c.page}" if c.page is not None else ""
        plain(
            f"  [{c.n}] {c.title or c.doc_id} ({c.doc_id}{page}, chars {c.start_char}-{c.end_char})"
        )
        plain(f"      \u201c{c.quote}\u201d", style="dim")
    if result.short_answer:
        label = "short answer" if result.leads else "short answer (unsure)"
        plain(f"{label}: {result.short_answer}")
    if result.abstained:
        status = f"abstained ({result.note})" if result.note else "abstained"
    else:
        quotes = "quotes verified" if result.grounded else "quotes NOT all verified"
        status = f"{quotes}; confidence {result.confidence:.2f}"
        if result.note:
            status += f" ({result.note})"
    plain(
        f"{status}; answerer {result.answerer}; {result.timings.get('total', 0):.2f} s", style="dim"
    )


def _filters(
    sources: list[str] | None,
    since: str | None,
    until: str | None,
    doc_ids: list[str] | None,
    include_undated: bool,
):
    """``ask``'s filter options as retrieval ``Filters`` (None when none is given)."""
    from datetime import date

    from rag.schema import Filters

    for flag, value in (("--since", since), ("--until", until)):
        if value is None:
            continue
        try:
            date.fromisoformat(value)
        except ValueError as exc:
            err.print(f"[red]error:[/red] {flag} wants a date as YYYY-MM-DD, not {value!r}")
            raise typer.Exit(2) from exc
    if not (sources or since or until or doc_ids):
        return None
    return Filters(
        sources=sources or None,
        doc_ids=doc_ids or None,
        date_from=since,
        date_to=until,
        include_undated=include_undated,
    )


def _service_for(answerer: str | None):
    """The service with ``answerer`` built, and its name; an unknown or unbuildable one is an
    error naming the answerers (never a silent fallback to extractive)."""
    from rag.answer.registry import build_answerers
    from rag.service import QAService

    settings = Settings()
    if answerer is not None and answerer not in ANSWERERS:
        err.print(
            f"[red]error:[/red] unknown answerer {answerer!r}; one of: {', '.join(ANSWERERS)}"
        )
        raise typer.Exit(2)
    if answerer:
        settings = settings.model_copy(update={"answerer": answerer})
    try:
        extra = build_answerers(settings)
    except (ValueError, ImportError, OSError, RuntimeError) as exc:
        err.print(f"[red]error:[/red] answerer {settings.answerer!r} is not available: {exc}")
        raise typer.Exit(2) from exc
    service = QAService(_components(settings), extra)
    name = answerer or service.default_answerer
    return service, name


@app.command()
def serve(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
) -> None:
    """Run the HTTP API (OpenAPI docs at /docs)."""
    import uvicorn

    from api.security import SERVER_OPTIONS

    uvicorn.run(
        "api.main:create_app",
        factory=True,
        host=host,
        port=port,
        log_level="info",
        **SERVER_OPTIONS,
    )


@app.command("eval")
def evaluate(
    gold: Annotated[Path, typer.Argument(help="Gold questions (JSONL).")],
    corpus: Annotated[
        list[Path] | None, typer.Option(help="Ingest into a fresh eval collection.")
    ] = None,
    url: Annotated[str | None, typer.Option(help="Ask a running service instead.")] = None,
    answerer: Annotated[str, typer.Option(help="Comma-separated answerers.")] = "",
    out: Annotated[Path, typer.Option(help="Report folder.")] = Path("eval-out"),
    api_key: Annotated[str | None, typer.Option(envvar="BRIEFQA_EVAL_API_KEY")] = None,
    min_accuracy: Annotated[float | None, typer.Option()] = None,
    min_support: Annotated[float | None, typer.Option()] = None,
    min_abstention: Annotated[float | None, typer.Option()] = None,
    min_citation_precision: Annotated[float | None, typer.Option()] = None,
    max_false_abstention: Annotated[float | None, typer.Option()] = None,
    min_squad_f1: Annotated[float | None, typer.Option()] = None,
    min_noans: Annotated[float | None, typer.Option()] = None,
    min_mrr: Annotated[float | None, typer.Option()] = None,
    gate: Annotated[
        list[str] | None, typer.Option(help="METRIC=VALUE, any summary metric (repeatable).")
    ] = None,
    split_file: Annotated[
        Path | None, typer.Option(help="A committed split (eval/splits/*.json).")
    ] = None,
    split: Annotated[str, typer.Option(help="dev or test (with --split-file).")] = "test",
) -> None:
    """Score the service against gold Q&A; writes report.json, report.md and charts."""
    from eval.harness import run_eval
    from eval.run import build_runner_factories

    only = _split_ids(split_file, split)
    gates = {
        "answer_accuracy": min_accuracy,
        "support_rate": min_support,
        "abstention_accuracy": min_abstention,
        "citation_precision": min_citation_precision,
        "false_abstention_rate": max_false_abstention,
        "squad_f1": min_squad_f1,
        "noans_accuracy": min_noans,
        "mrr": min_mrr,
    }
    thresholds = {name: value for name, value in gates.items() if value is not None}
    thresholds |= _gates(gate or [])
    names = [a.strip() for a in answerer.split(",") if a.strip()]
    try:
        factories = build_runner_factories(Settings(), names, corpus or [], url, api_key, err)
    except (ValueError, FileNotFoundError) as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    split_name = split if only is not None else None
    try:
        code = run_eval(
            gold, factories, out, thresholds, console=err, only=only, split_name=split_name
        )
    except ValueError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    console.print(f"report: {out / 'report.md'}")
    raise typer.Exit(code)


def _gates(given: list[str]) -> dict[str, float]:
    """``--gate METRIC=VALUE`` options as thresholds; a malformed one is a usage error."""
    from eval.metrics import SUMMARY_KEYS

    out = {}
    for item in given:
        name, _, value = item.partition("=")
        try:
            if name not in SUMMARY_KEYS:
                raise ValueError(f"unknown metric {name!r}")
            out[name] = float(value)
        except ValueError as exc:
            err.print(f"[red]error:[/red] --gate {item!r}: {exc}")
            raise typer.Exit(2) from exc
    return out


def _split_ids(split_file: Path | None, split: str) -> set[str] | None:
    """The gold ids of ``split`` in a committed split file (None: every question)."""
    from eval.splits import load_split

    if split_file is None:
        return None
    try:
        return load_split(split_file, split)  # type: ignore[arg-type]
    except (OSError, ValueError, KeyError) as exc:
        err.print(f"[red]error:[/red] bad split {split!r} in {split_file}: {exc}")
        raise typer.Exit(2) from exc


@app.command()
def doctor(
    repair: Annotated[
        bool,
        typer.Option(help="Delete orphan chunks; re-embed ghost documents from their text."),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Check that the documents list agrees with the stored chunks (exit 1 if not)."""
    from rag.store.bm25 import BM25Index
    from rag.store.chroma import ChromaStore, StoreUnavailable

    settings = Settings()
    try:
        store = ChromaStore(settings)
        found = store.check()
    except (StoreUnavailable, ValueError) as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(3) from exc
    bm25 = BM25Index(settings.bm25_path / settings.collection)
    current = bm25.saved_generation() == store.generation()
    if as_json:
        emit_json({"ok": found.ok, "store": found.summary(), "bm25_cache_current": current})
    else:
        plain(f"store: {found.summary()}")
        plain(
            f"bm25 cache: {'current' if current else 'behind the store (caught up on next start)'}"
        )
    if found.ok or not repair:
        raise typer.Exit(0 if found.ok else 1)
    store.close()
    _repair(settings, found.ghosts)


def _repair(settings: Settings, ghosts: dict[str, tuple[int, int]]) -> None:
    """Orphans go (``repair``); ghosts are ingested again from the text their record holds."""
    from ingest.loaders import SourceDocument
    from ingest.pipeline import IngestPipeline

    comps = _components(settings)
    pipeline = IngestPipeline(settings, comps.store, comps.embedder, comps.bm25)
    stored = comps.store.get_documents(ghosts)
    docs = [
        SourceDocument(m.doc_id, m.title, text, date=m.date, source=m.source, url=m.url)
        for m, text in stored.values()
    ]
    report = pipeline.ingest(docs)
    after = comps.store.check()
    console.print(
        f"repaired: {report.repaired_chunks} orphan chunks deleted, "
        f"{report.updated + report.new} ghost documents re-embedded; now: {after.summary()}",
        markup=False,
        highlight=False,
    )
    raise typer.Exit(0 if after.ok else 1)


@documents_app.command("list")
def documents_list(as_json: JsonOpt = False) -> None:
    """Stored documents: id, title, source, date and chunk count.

    Piped: one line per document, tab-separated in that order (empty fields stay empty)."""
    comps = _components(Settings())
    docs = comps.store.list_documents()
    if as_json:
        emit_json([d.model_dump() for d in docs])
        return
    rows = [[d.doc_id, d.title, d.source or "", d.date or "", str(d.n_chunks)] for d in docs]
    rows_out(("doc_id", "title", "source", "date", "chunks"), rows)


@documents_app.command("delete")
def documents_delete(doc_id: str, as_json: JsonOpt = False) -> None:
    """Delete one document and its chunks."""
    from ingest.pipeline import IngestPipeline

    settings = Settings()
    comps = _components(settings)
    if not IngestPipeline(settings, comps.store, comps.embedder, comps.bm25).delete(doc_id):
        err.print(f"[red]error:[/red] no document '{doc_id}'")
        raise typer.Exit(1)
    if as_json:
        emit_json({"doc_id": doc_id, "deleted": True})
    else:
        plain(f"deleted {doc_id}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
