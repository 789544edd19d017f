"""``/v1/documents``: list, read, upload (raw body, or several files as multipart) and delete.

Uploads go through the same ingest pipeline as the CLI (clean, chunk, embed, store, BM25); only
their commit holds the store's write lock, and a half-written version is never visible, so
questions go on during an upload. Large bodies become background jobs (202, /v1/jobs/{id}).
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import APIRouter, HTTPException, Query, Request, UploadFile
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from api.deps import PipelineDep, RWLock, ServiceDep, SettingsDep, StoreLockDep
from api.errors import invalid
from api.jobs import JobAccepted
from api.schemas import (
    DeleteResult,
    DocumentDetail,
    DocumentEdit,
    FileResult,
    FilesResult,
    SkippedItem,
    UploadResult,
)
from api.security import caller
from ingest.loaders import (
    FORMATS,
    MEDIA_TYPES,
    PAGE_BREAK,
    LoadError,
    SourceDocument,
    TooLarge,
    Unsupported,
    contain,
    decode_text,
    doc_id_problem,
)
from ingest.pipeline import IngestPipeline, IngestReport
from ingest.sandbox import parse_limited
from rag.schema import DocumentMeta

router = APIRouter(prefix="/v1/documents", tags=["documents"])
T = TypeVar("T")

# Content-Type -> loader suffix comes from the one format table (ingest.loaders.FORMATS).
_NO_ID = "\x00upload"  # jsonl records without a doc_id get "<this>#<line>" from the loader
_DOC_ID = r"^[^\x00-\x1f\x7f]+$"

_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "description": "The document itself, as raw bytes (text formats in UTF-8).",
        "content": {media: {"schema": {"type": "string"}} for media in MEDIA_TYPES},
    }
}


def media_suffix(content_type: str | None) -> str:
    """The loader suffix for a Content-Type; 415 for anything we can't parse."""
    media, _, params = (content_type or "").partition(";")
    media = media.strip().lower()
    if media not in MEDIA_TYPES:
        accepted = ", ".join(MEDIA_TYPES)
        raise HTTPException(
            415, f"unsupported Content-Type '{media or '(none)'}'; use one of: {accepted}"
        )
    for param in params.split(";"):
        key, _, value = param.partition("=")
        charset = value.strip().strip('"').lower()
        text = media.startswith("text/") or MEDIA_TYPES[media] == ".jsonl"
        utf8 = charset in ("utf-8", "utf8", "us-ascii")
        if text and key.strip().lower() == "charset" and not utf8:
            raise HTTPException(415, f"unsupported charset '{charset}'; send UTF-8")
    return MEDIA_TYPES[media]


@router.get("", response_model=list[DocumentMeta])
def list_documents(service: ServiceDep, lock: StoreLockDep) -> list[DocumentMeta]:
    """Every stored document's metadata (no text), sorted by ``doc_id``."""
    with lock.read():
        return service.documents()


@router.get("/{doc_id:path}", response_model=DocumentDetail, responses={404: {}})
def get_document(doc_id: str, service: ServiceDep, lock: StoreLockDep) -> DocumentDetail:
    """Metadata and cleaned text; a citation's ``quote`` is ``text[start_char:end_char]``."""
    if not doc_id:
        raise HTTPException(404, "no document ''")
    with lock.read():
        found = service.document(doc_id)
    if found is None:
        raise HTTPException(404, f"no document '{doc_id}'")
    meta, text = found
    return DocumentDetail(**meta.model_dump(), text=text)


@router.post(
    "",
    response_model=UploadResult,
    openapi_extra=_UPLOAD_BODY,
    responses={
        202: {"model": JobAccepted, "description": "large body: ingested as a background job"},
        400: {},
        413: {},
        415: {},
        422: {},
    },
)
async def upload_document(
    request: Request,
    pipeline: PipelineDep,
    lock: StoreLockDep,
    settings: SettingsDep,
    doc_id: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=512,
            pattern=_DOC_ID,
            description="required unless the body is JSONL (then: prefix for records without one)",
        ),
    ] = None,
    title: Annotated[str | None, Query(max_length=1000)] = None,
    source: Annotated[str | None, Query(max_length=500)] = None,
    date: Annotated[str | None, Query(pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$")] = None,
    url: Annotated[str | None, Query(max_length=2000)] = None,
) -> UploadResult | JSONResponse:
    """Store one document (or a JSONL batch); an existing ``doc_id`` is replaced.

    A body over ``async_upload_bytes`` is answered at once with 202 and a job
    (``GET /v1/jobs/{id}``: progress, then this same result); smaller ones wait for it.

    The Content-Type picks the parser. ``title``/``source``/``date``/``url`` override what the
    file says; for JSONL they only fill records that lack the field.
    """
    suffix = media_suffix(request.headers.get("content-type"))
    if doc_id is None and suffix != ".jsonl":
        raise invalid(("query", "doc_id"), "required unless the body is JSONL")
    data = await request.body()  # the body-limit middleware stops oversized bodies here
    overrides = {"title": title, "source": source, "date": date, "url": url}
    parse = _parsing(pipeline)
    docs = await _watching(request, _parse, data, suffix, doc_id, overrides, parse)
    if len(data) > settings.async_upload_bytes:  # large: a background job (api/jobs.py)
        job = request.app.state.jobs.submit(
            lambda progress: _upload_result(_ingest(pipeline, lock, docs, progress)).model_dump(),
            owner=caller(request),
        )
        url = f"/v1/jobs/{job.id}"
        accepted = JobAccepted(job_id=job.id, status=job.status, url=url)
        return JSONResponse(accepted.model_dump(), status_code=202, headers={"Location": url})
    report = await run_in_threadpool(_ingest, pipeline, lock, docs)
    return _upload_result(report)


def _upload_result(report: IngestReport) -> UploadResult:
    """The upload's outcome; 400 when nothing could be stored."""
    if not report.doc_ids:
        reasons = "; ".join(f"{n}: {r}" for n, r in report.skipped) or "no documents"
        raise HTTPException(400, f"nothing stored ({reasons})")
    return UploadResult(
        summary=report.summary(),
        doc_ids=report.doc_ids,
        new=report.new,
        updated=report.updated,
        unchanged=report.unchanged,
        skipped=[SkippedItem(name=n, reason=r) for n, r in report.skipped],
        chunks_written=report.chunks_written,
        seconds=round(report.seconds, 3),
        hidden=report.hidden,
    )


@router.delete("/{doc_id:path}", response_model=DeleteResult, responses={404: {}})
def delete_document(doc_id: str, pipeline: PipelineDep, lock: StoreLockDep) -> DeleteResult:
    """Remove a document and its chunks; 404 when there is no such document."""
    existed = pipeline.delete(doc_id)  # under the store's write lock (the pipeline takes it)
    if not existed:
        raise HTTPException(404, f"no document '{doc_id}'")
    return DeleteResult(doc_id=doc_id)


def with_page_breaks(text: str, page_starts: list[int] | None) -> str:
    """The stored text with its page breaks put back, so cleaning finds the same pages."""
    if not page_starts:
        return text
    ends = [start - 2 for start in page_starts[1:]] + [len(text)]  # "\n\n" between pages
    return PAGE_BREAK.join(text[s:e] for s, e in zip(page_starts, ends, strict=True))


@router.patch("/{doc_id:path}", response_model=DocumentMeta, responses={404: {}, 422: {}, 403: {}})
def edit_document(
    doc_id: str, body: DocumentEdit, pipeline: PipelineDep, lock: StoreLockDep
) -> DocumentMeta:
    """Change a stored document's title, date or source (admin). The text stays as stored;
    the document goes through the pipeline again, so chunks, filters and BM25 follow."""
    changes = body.model_dump(exclude_unset=True)
    for name in ("title", "date", "source"):
        # Clearing is refused for now: the store's record upsert merges metadata, so a field
        # left out of the new record would survive in it (rag/store/chroma.py ``commit``).
        if name in changes and changes[name] is None:
            raise invalid(("body", name), f"{name} can't be cleared (null); send a value")
    with lock.read():
        found = pipeline.stored(doc_id) if doc_id else None
    if found is None:
        raise HTTPException(404, f"no document '{doc_id}'")
    meta, text = found
    if not changes:
        return meta
    edited = SourceDocument(
        doc_id=doc_id,
        title=changes.get("title", meta.title),
        text=with_page_breaks(text, meta.page_starts),
        date=changes.get("date", meta.date),
        source=changes.get("source", meta.source),
        url=meta.url,
        page_kind=meta.page_kind,
        attached_to=meta.attached_to,
        hidden_text=meta.hidden_text,
    )
    pipeline.ingest([edited])
    with lock.read():
        stored = pipeline.stored(doc_id)
    if stored is None:  # deleted meanwhile
        raise HTTPException(404, f"no document '{doc_id}'")
    return stored[0]


Parsing = Callable[[bytes, str, str, str, Callable[[], bool]], list[SourceDocument]]


def _parsing(pipeline: IngestPipeline) -> Parsing:
    """``parse_bytes`` within the pipeline's parse budget, stopped if the client leaves."""

    def parse(
        data: bytes, suffix: str, doc_id: str, name: str, gone: Callable[[], bool]
    ) -> list[SourceDocument]:
        return parse_limited(data, suffix, doc_id, name, pipeline.limits, gone)

    return parse


async def _watching(request: Request, work: Callable[..., T], *args: object) -> T:
    """``work(*args, gone)`` in the thread pool, where ``gone()`` turns true once the client
    has disconnected, so a long parse is stopped rather than finished for nobody."""
    left = threading.Event()

    async def watch() -> None:
        while not left.is_set():
            if await request.is_disconnected():
                left.set()
                return
            await asyncio.sleep(0.25)

    watcher = asyncio.create_task(watch())
    try:
        return await run_in_threadpool(work, *args, left.is_set)
    finally:
        watcher.cancel()


def _parse(
    data: bytes,
    suffix: str,
    doc_id: str | None,
    overrides: dict[str, str | None],
    parse: Parsing,
    gone: Callable[[], bool],
) -> list[SourceDocument]:
    """Bytes -> documents, off the event loop (a large HTML page takes a while to parse)."""
    name = doc_id or "upload"
    try:
        docs = parse(data, suffix, doc_id or _NO_ID, name, gone)
    except LoadError as exc:
        raise HTTPException(load_status(exc), str(exc)) from exc
    docs = [_override(d, data, suffix, overrides) for d in docs]
    for doc in docs:
        if doc.doc_id.startswith(_NO_ID):
            line = doc.doc_id.rpartition("#")[2]
            raise HTTPException(
                400, f"{name}:{line}: record has no doc_id; add one or pass ?doc_id= as a prefix"
            )
    return docs


def _ingest(
    pipeline: IngestPipeline,
    lock: RWLock,
    docs: list[SourceDocument],
    progress: Callable[[int, int], None] | None = None,
) -> IngestReport:
    """The pipeline holds ``lock``'s write side (its ``commit_guard``) only while it commits:
    questions go on while an upload is parsed, chunked and embedded."""
    return pipeline.ingest(docs, progress=progress)


def _override(
    doc: SourceDocument, data: bytes, suffix: str, given: dict[str, str | None]
) -> SourceDocument:
    if suffix == ".jsonl":
        fill = {k: v for k, v in given.items() if v is not None and not getattr(doc, k)}
        return dataclasses.replace(doc, **fill)
    changes = {k: v for k, v in given.items() if v is not None}
    if given.get("title") is not None and suffix == ".txt":
        # The loader took the first line as the headline; with a title given, it is text.
        changes["text"] = decode_text(data, doc.doc_id).strip("\n")
    return dataclasses.replace(doc, **changes)


def load_status(exc: LoadError) -> int:
    """415 for what we don't read, 413 for what is too big to read, 400 for bad content."""
    return 415 if isinstance(exc, Unsupported) else 413 if isinstance(exc, TooLarge) else 400


@router.post("/files", response_model=FilesResult, responses={400: {}, 413: {}, 415: {}, 422: {}})
async def upload_files(
    files: list[UploadFile],
    request: Request,
    pipeline: PipelineDep,
    lock: StoreLockDep,
    prefix: Annotated[
        str, Query(max_length=256, description="prepended to each file name to make its doc_id")
    ] = "",
) -> FilesResult | JSONResponse:
    """Store several files at once (multipart ``files``); one result per file.

    Each file's name (its suffix, else its Content-Type, picks the reader) becomes its
    ``doc_id``; a file that fails is reported with the status a single upload would get,
    and the others are still stored. When no file could be stored the answer is 4xx, its
    body ``detail`` plus the same ``results``.
    """
    results: list[FileResult] = []
    parsed: list[tuple[FileResult, list[SourceDocument]]] = []
    parse = _parsing(pipeline)
    for upload in files:
        name = (upload.filename or "").replace("\\", "/").rsplit("/", 1)[-1]
        result = FileResult(name=name or "(unnamed)", status=200)
        results.append(result)
        data = await upload.read()
        try:
            docs = await _watching(
                request, _parse_file, data, name, upload.content_type, prefix, parse
            )
        except LoadError as exc:
            result.status, result.error = load_status(exc), str(exc)
            continue
        parsed.append((result, docs))
    everything = [doc for _, docs in parsed for doc in docs]
    summary = "nothing stored"
    if everything:
        report = await run_in_threadpool(_ingest, pipeline, lock, everything)
        summary = report.summary()
        stored = set(report.doc_ids)
        reasons = dict(report.skipped)
        for result, docs in parsed:
            result.doc_ids = [d.doc_id for d in docs if d.doc_id in stored]
            if not result.doc_ids:
                result.status = 400
                result.error = "; ".join(
                    f"{d.doc_id}: {reasons.get(d.doc_id, 'not stored')}" for d in docs
                )
    stored = sum(len(r.doc_ids) for r in results)
    if not stored:  # the error body still carries every file's result
        detail = "nothing stored (" + "; ".join(f"{r.name}: {r.error}" for r in results) + ")"
        status = results[0].status if len(results) == 1 else 400
        body = {"detail": detail, "results": [r.model_dump() for r in results]}
        return JSONResponse(body, status_code=status)
    return FilesResult(results=results, stored=stored, summary=summary)


def _parse_file(
    data: bytes,
    name: str,
    content_type: str | None,
    prefix: str,
    parse: Parsing,
    gone: Callable[[], bool],
) -> list[SourceDocument]:
    """One uploaded file -> documents: reader from its suffix, else from its media type."""
    suffix = "." + name.rpartition(".")[2].lower() if "." in name else ""
    if suffix not in FORMATS:
        media = (content_type or "").partition(";")[0].strip().lower()
        suffix = MEDIA_TYPES.get(media, suffix)
    doc_id = prefix + name
    if problem := doc_id_problem(doc_id):
        raise LoadError(f"{name or '(unnamed)'}: {problem}")
    return contain(parse(data, suffix, doc_id, name, gone), doc_id)
