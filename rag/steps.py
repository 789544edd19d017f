"""The question path's steps, wired once from settings: ``build_steps`` is the one place that
constructs them, and ``QAService`` takes them ready-made (tests pass their own).

retrieve -> postprocess (rerank) -> read -> select evidence -> decide -> span -> answer ->
cite -> verify. Each step is a small object with one job; none imports a sibling.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial

from rag.answer.extractive import ExtractiveAnswerer
from rag.components import Components
from rag.decide import AnswerDecider
from rag.evidence import EvidenceSelector
from rag.extract import ChunkReader, get_chunk_reader, get_extractor
from rag.guard import flag_instructions
from rag.models import CrossEncoder
from rag.read import SpanReader
from rag.rerank import CrossEncoderReranker, get_cross_encoder
from rag.retrieve import HybridRetriever
from rag.store.base import DocumentStore
from rag.verify import SupportVerifier


@dataclass
class Steps:
    """The collaborators of ``QAService``, one per step of the question path."""

    retriever: HybridRetriever
    postprocessors: list[CrossEncoderReranker]
    selector: EvidenceSelector
    decider: AnswerDecider
    chunk_reader: ChunkReader | None
    reader: SpanReader
    verifier: SupportVerifier
    extractive: ExtractiveAnswerer


def document_texts(store: DocumentStore, doc_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
    """The stored (content hash, text) of ``doc_ids``: evidence selection reads their
    headings, the reader the text before a chunk."""
    stored = store.get_documents(doc_ids)
    return {doc_id: (meta.content_hash, text) for doc_id, (meta, text) in stored.items()}


def postprocessor(name: str, encoder: CrossEncoder, top_k: int, pool: int) -> CrossEncoderReranker:
    """One entry of ``settings.postprocessors`` (a table: add a reranker here)."""
    match name:
        case "cross-encoder":
            return CrossEncoderReranker(encoder, top_k, pool)
    raise ValueError(f"unknown postprocessor {name!r}")


def build_steps(components: Components) -> Steps:
    """Every step from ``components.settings``; models are loaded once per process."""
    settings = components.settings
    encoder = get_cross_encoder(settings.torch_threads)
    chunk_reader = get_chunk_reader(settings.torch_threads) if settings.reader_chunks > 0 else None
    extractor = get_extractor(settings.torch_threads) if settings.span_reader == "reader" else None
    return Steps(
        retriever=HybridRetriever(settings, components.store, components.embedder, components.bm25),
        postprocessors=[
            postprocessor(name, encoder, settings.top_k, settings.rerank_candidates)
            for name in settings.postprocessors
        ],
        selector=EvidenceSelector(
            components.embedder,
            encoder,
            settings.evidence_sentences,
            settings.ce_sentences,
            idf=components.bm25.idf,
            rrf_k=settings.rrf_k,
            # The meaning screen uses the service's embedder at the threshold checked for it
            # (rag.guard: one per backend, BRIEFQA_INSTRUCTION_THRESHOLD overrides).
            flag=partial(
                flag_instructions,
                embedder=components.embedder,
                threshold=settings.instruction_threshold,
            ),
            documents=(
                partial(document_texts, components.store) if settings.section_headings else None
            ),
        ),
        decider=AnswerDecider(
            components.bm25.idf,
            threshold=settings.decide_threshold,
            consider=settings.decide_consider,
            floor=settings.decide_floor,
        ),
        chunk_reader=chunk_reader,
        reader=SpanReader(
            encoder,
            settings.span_check_candidates,
            extractor=extractor,
            chunk=settings.span_reader == "chunk" and chunk_reader is not None,
        ),
        verifier=SupportVerifier(
            components.embedder,
            settings.support_threshold,
            settings.support_coverage_weight,
            settings.support_unnamed_cap,
        ),
        extractive=ExtractiveAnswerer(margin=settings.second_sentence_margin),
    )
