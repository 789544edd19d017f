"""``briefqa``: ingest, search, ask, serve, eval and documents, from one console script."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from rag.config import Settings

app = typer.Typer(help="Answers questions over briefing documents, with verified citations.")
documents_app = typer.Typer(help="List or delete stored documents.")
app.add_typer(documents_app, name="documents")
console = Console()
err = Console(stderr=True)


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
) -> None:
    """Top chunks for a query (hybrid retrieval), with document title and score."""
    from rag.retrieve import HybridRetriever

    settings = Settings()
    comps = _components(settings)
    retriever = HybridRetriever(settings, comps.store, comps.embedder, comps.bm25)
    table = Table("score", "dense", "doc", "title", "text")
    for chunk in retriever.retrieve(query, top_k=k):
        dense = f"{chunk.dense_score:.3f}" if chunk.dense_score is not None else "-"
        table.add_row(f"{chunk.score:.4f}", dense, chunk.doc_id, chunk.title, chunk.text[:160])
    console.print(table)


@app.command()
def ask(
    question: str,
    answerer: Annotated[str | None, typer.Option(help="extractive, local-llm or openai")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full JSON result.")] = False,
) -> None:
    """Answer one question with numbered citations to verbatim quotes, streamed as it is written."""
    from contextlib import closing

    from rag.answer.registry import build_answerers
    from rag.schema import AnswerResult
    from rag.service import QAService

    settings = Settings()
    if answerer:
        settings = settings.model_copy(update={"answerer": answerer})
    service = QAService(_components(settings), build_answerers(settings))
    if as_json:
        console.print_json(service.ask(question).model_dump_json())
        return
    streamed: list[str] = []
    result: AnswerResult | None = None
    # Closed even on Ctrl-C, so a local LLM's lock is released.
    with closing(service.ask_stream(question)) as items:  # type: ignore[type-var]
        for item in items:
            if isinstance(item, AnswerResult):
                result = item
            elif item:
                streamed.append(item)
                console.print(item, end="", markup=False, highlight=False, soft_wrap=True)
    assert result is not None, "ask_stream ended without a result"
    console.print()
    if "".join(streamed).strip() != result.answer.strip():
        # Verification dropped or re-cited what was streamed: the verified answer is what counts.
        console.print("[dim]verified answer:[/dim]")
        console.print(result.answer, markup=False, highlight=False)
    for c in result.citations:
        console.print(
            f"  [{c.n}] {c.title or c.doc_id} ({c.doc_id}"
            + (f", p. {c.page}" if c.page is not None else "")
            + f", chars {c.start_char}-{c.end_char})",
            markup=False,
            highlight=False,
        )
        console.print(f"      \u201c{c.quote}\u201d", markup=False, style="dim", highlight=False)
    if result.short_answer:
        label = "short answer" if result.leads else "short answer (unsure)"
        console.print(f"{label}: {result.short_answer}", markup=False, highlight=False)
    if result.abstained:
        status = f"abstained ({result.note})" if result.note else "abstained"
    else:
        quotes = "quotes verified" if result.grounded else "quotes NOT all verified"
        status = f"{quotes}; confidence {result.confidence:.2f}"
        if result.note:
            status += f" ({result.note})"
    console.print(
        f"{status}; answerer {result.answerer}; {result.timings.get('total', 0):.2f} s",
        style="dim",
        markup=False,
        highlight=False,
    )


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
    split_file: Annotated[
        Path | None, typer.Option(help="A committed split (eval/splits/*.json).")
    ] = None,
    split: Annotated[str, typer.Option(help="dev or test (with --split-file).")] = "test",
) -> None:
    """Score the service against gold Q&A; writes report.json, report.md and charts."""
    from eval.harness import run_eval
    from eval.run import build_runner_factories
    from eval.splits import load_split

    only = None
    if split_file is not None:
        try:
            only = load_split(split_file, split)  # type: ignore[arg-type]
        except (OSError, ValueError, KeyError) as exc:
            err.print(f"[red]error:[/red] bad split {split!r} in {split_file}: {exc}")
            raise typer.Exit(2) from exc

    thresholds = {
        name: value
        for name, value in {
            "answer_accuracy": min_accuracy,
            "support_rate": min_support,
            "abstention_accuracy": min_abstention,
            "citation_precision": min_citation_precision,
            "false_abstention_rate": max_false_abstention,
            "squad_f1": min_squad_f1,
            "noans_accuracy": min_noans,
        }.items()
        if value is not None
    }
    names = [a.strip() for a in answerer.split(",") if a.strip()]
    try:
        factories = build_runner_factories(Settings(), names, corpus or [], url, api_key, err)
    except (ValueError, FileNotFoundError) as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    try:
        code = run_eval(
            gold,
            factories,
            out,
            thresholds,
            console=err,
            only=only,
            split_name=split if only is not None else None,
        )
    except ValueError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    console.print(f"report: {out / 'report.md'}")
    raise typer.Exit(code)


@app.command()
def doctor(
    repair: Annotated[
        bool,
        typer.Option(help="Delete orphan chunks; re-embed ghost documents from their text."),
    ] = False,
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
    console.print(f"store: {found.summary()}", markup=False, highlight=False)
    bm25 = BM25Index(settings.bm25_path / settings.collection)
    current = bm25._load(store.generation())
    console.print(f"bm25 cache: {'current' if current else 'stale (rebuilt on next start)'}")
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
def documents_list() -> None:
    """Stored documents with their chunk counts."""
    comps = _components(Settings())
    table = Table("doc_id", "title", "source", "date", "chunks")
    for d in comps.store.list_documents():
        table.add_row(d.doc_id, d.title, d.source or "", d.date or "", str(d.n_chunks))
    console.print(table)


@documents_app.command("delete")
def documents_delete(doc_id: str) -> None:
    """Delete one document and its chunks."""
    from ingest.pipeline import IngestPipeline

    settings = Settings()
    comps = _components(settings)
    if not IngestPipeline(settings, comps.store, comps.embedder, comps.bm25).delete(doc_id):
        err.print(f"[red]error:[/red] no document '{doc_id}'")
        raise typer.Exit(1)
    console.print(f"deleted {doc_id}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
