"""Fit the summary's two weights on the dev split of ``eval/gold/kinds.jsonl`` (issue 28).

A summary quotes ``summary_sentences`` sentences of a briefing, picked by maximal marginal
relevance (``rag.compose.central_sentences``): ``diversity`` trades centrality against
redundancy, ``lead`` favours early sentences (news puts what the story is first). This script
tries a small grid of both on the dev summary items, scores each by the share of the gold key
sentences picked (what ``summary_coverage`` measures), and writes the best to
``rag/data/summary.json``; ties go to the smaller lead, then the smaller diversity. The test
split is never read. Run from the repository root:

    python scripts/fit_summary.py
"""

from __future__ import annotations

import itertools
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rag.compose import central_sentences, summary_sentences  # noqa: E402
from rag.config import Settings  # noqa: E402
from rag.embed import Embedder  # noqa: E402
from rag.fitted import DATA_DIR  # noqa: E402

DIVERSITY = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)
LEAD = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0)


def dev_items() -> list[dict]:
    """The dev split's summary items."""
    split = json.loads((ROOT / "eval/splits/kinds.json").read_text())
    dev = set(split["dev"])
    rows = [json.loads(line) for line in (ROOT / "eval/gold/kinds.jsonl").open()]
    return [r for r in rows if r["id"] in dev and r.get("category") == "summary"]


def body(name: str) -> str:
    """A briefing's text without its front matter, as the gold key sentences were cut."""
    text = (ROOT / "eval/gold/briefings" / name).read_text(encoding="utf-8")
    return re.sub(r"\A---\n.*?\n---\n", "", text, flags=re.S)


def coverage(picked_texts: list[str], keys: list[str]) -> float:
    return sum(any(k.strip() == p.strip() for p in picked_texts) for k in keys) / len(keys)


def main() -> None:
    settings = Settings()
    embedder = Embedder(settings)
    cases = []
    for item in dev_items():
        text = body(item["sources"][0])
        spans = summary_sentences(text, settings.summary_min_words)
        sentences = [text[a:b] for a, b in spans]
        cases.append((sentences, embedder.embed_texts(sentences), item["key_sentences"]))
    grid = {}
    for diversity, lead in itertools.product(DIVERSITY, LEAD):
        scores = []
        for sentences, vectors, keys in cases:
            picked = central_sentences(vectors, settings.summary_sentences, diversity, lead)
            scores.append(coverage([sentences[i] for i in picked], keys))
        grid[(diversity, lead)] = sum(scores) / len(scores)
    best = max(grid, key=lambda dl: (round(grid[dl], 6), -dl[1], -dl[0]))
    out = {
        "fitted_by": "python scripts/fit_summary.py (dev split of eval/gold/kinds.jsonl)",
        "dev_items": len(cases),
        "summary_sentences": settings.summary_sentences,
        "diversity": best[0],
        "lead": best[1],
        "dev_coverage": round(grid[best], 4),
        "grid": [
            {"diversity": d, "lead": lead, "dev_coverage": round(c, 4)}
            for (d, lead), c in sorted(grid.items())
        ],
    }
    (DATA_DIR / "summary.json").write_text(json.dumps(out, indent=1) + "\n")
    found = f"diversity {best[0]}, lead {best[1]}, coverage {grid[best]:.3f}"
    print(f"{len(cases)} dev summaries: {found}")
    for lead in LEAD:
        row = " ".join(f"{grid[(d, lead)]:.2f}" for d in DIVERSITY)
        print(f"lead {lead:<4} | diversity {' '.join(map(str, DIVERSITY))}: {row}")


if __name__ == "__main__":
    main()
