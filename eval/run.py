"""Wire the harness to the service: in-process over a separate eval collection, or over HTTP."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from rich.console import Console

from eval.runners import HttpRunner, InProcessRunner, Runner
from rag.config import Settings
from rag.embed import resolve_backend


def eval_settings(settings: Settings, corpus: list[Path]) -> Settings:
    """A collection of its own per corpus set and embedding backend, under ``data_dir/eval``:
    evals never touch the user's store, and re-running on the same corpus re-embeds nothing."""
    names = sorted(str(p.resolve()) for p in corpus)
    backend = resolve_backend(settings.embed_backend)
    key = hashlib.sha256("\n".join(names).encode()).hexdigest()
    if backend != "torch":  # torch keeps the collections built before there was a choice
        key = hashlib.sha256(f"{key}\n{backend}".encode()).hexdigest()
    return settings.model_copy(
        update={"data_dir": settings.data_dir / "eval", "collection": f"eval-{key[:12]}"}
    )


def build_runner_factories(
    settings: Settings,
    answerers: list[str],
    corpus: list[Path],
    url: str | None,
    api_key: str | None,
    console: Console,
) -> dict[str, Callable[[], Runner]]:
    """One runner factory per answerer; the service is built once and shared."""
    if url:
        names = answerers or ["default"]
        return {
            name: (lambda n=name: HttpRunner(url, api_key, None if n == "default" else n))
            for name in names
        }
    from ingest.pipeline import IngestPipeline
    from rag.answer.registry import build_answerers
    from rag.components import build_components
    from rag.service import QAService

    for path in corpus:
        if not path.exists():
            raise FileNotFoundError(f"corpus path not found: {path}")
    if corpus:
        settings = eval_settings(settings, corpus)
    comps = build_components(settings)
    if corpus:
        report = IngestPipeline(settings, comps.store, comps.embedder, comps.bm25).run(
            corpus, prune=True
        )
        console.print(f"eval corpus ({settings.collection}): {report.summary()}")
    names = answerers or [settings.answerer]
    available = build_answerers(settings, names)
    service = QAService(comps, available)
    unknown = [n for n in names if n not in service.answerers]
    if unknown:
        raise ValueError(f"answerer(s) not available: {', '.join(unknown)}")
    return {name: (lambda n=name: InProcessRunner(service, answerer=n)) for name in names}
