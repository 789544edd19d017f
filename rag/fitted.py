"""Fitted linear models stored as data (rag/data/*.json), written by ``eval/calibrate.py``.

One loader for all of them: a file names the features it was fitted for, and a file fitted
for other features is refused, so code and weights can never silently disagree.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

DATA_DIR = Path(__file__).parent / "data"
T = TypeVar("T")


def load_fitted(
    path: Path, features: Sequence[str], keys: Sequence[str]
) -> tuple[tuple[float, ...], list[float], str]:
    """(weights, the values of ``keys``, what it was fitted on) from one fitted file."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if tuple(data["features"]) != tuple(features):
        raise ValueError(f"{path}: fitted for other features; re-run eval/calibrate.py")
    weights = tuple(float(w) for w in data["weights"])
    return weights, [float(data[k]) for k in keys], str(data.get("fitted_by", ""))


def linear(weights: Sequence[float], vector: Sequence[float]) -> float:
    return sum(w * x for w, x in zip(weights, vector, strict=True))


def committed(load: Callable[[], T]) -> T | None:
    """The committed fit, or None (with a warning) before the first fit or when the file was
    fitted for other features, so ``eval/calibrate.py`` can always run; tests check that the
    committed files load."""
    try:
        return load()
    except (OSError, ValueError, KeyError) as exc:
        logging.getLogger(__name__).warning("no fitted model: %s", exc)
        return None
