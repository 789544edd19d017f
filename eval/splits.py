"""Committed dev/test splits of every gold set: ``python -m eval.splits`` writes eval/splits/.

Tune, calibrate and read failures on ``dev``; report and gate on ``test``. Questions are split
by *group* so that near-duplicates never straddle the line: SQuAD questions by paragraph,
the fictional briefings by document, the seed and RGB questions one by one (each RGB question
has its own passages; the seed set has one document). A group goes to dev when its salted
sha256 ranks in the first half, so a split never depends on file order or on the system.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Literal

from eval.harness import GoldItem, load_gold

Split = Literal["dev", "test"]
SALT = "briefqa-split-v1"
SPLIT_DIR = Path(__file__).parent / "splits"
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks"


def assign(groups: dict[str, str], dev_share: float = 0.5, salt: str = SALT) -> dict[str, Split]:
    """Map each item id to dev/test; ``groups`` maps item id -> group key."""
    keys = sorted(
        set(groups.values()), key=lambda g: hashlib.sha256(f"{salt}:{g}".encode()).hexdigest()
    )
    n_dev = round(len(keys) * dev_share)
    dev = set(keys[:n_dev])
    return {item: "dev" if group in dev else "test" for item, group in groups.items()}


def by_item(items: Iterable[GoldItem]) -> dict[str, str]:
    return {item.id: item.id for item in items}


def by_source(items: Iterable[GoldItem]) -> dict[str, str]:
    """Answerable items by their first gold source (a document's questions stay together);
    unanswerable items name no source and are split one by one."""
    return {item.id: item.sources[0] if item.sources else item.id for item in items}


def by_squad_paragraph(items: Iterable[GoldItem]) -> dict[str, str]:
    """SQuAD lists each paragraph's answerable questions, then its unanswerable ones: a new
    paragraph starts where an answerable question follows an unanswerable one."""
    out: dict[str, str] = {}
    paragraph, previous = 0, True
    for item in items:
        if item.answerable and not previous:
            paragraph += 1
        previous = item.answerable
        out[item.id] = f"p{paragraph}"
    return out


GroupBy = Callable[[Iterable[GoldItem]], dict[str, str]]
SETS: dict[str, tuple[Path, GroupBy]] = {
    "seed": (Path(__file__).parent / "gold" / "seed.jsonl", by_item),
    "briefings": (Path(__file__).parent / "gold" / "briefings.jsonl", by_source),
    "rgb": (SHARED / "rgb" / "gold.jsonl", by_item),
    "squad2-normans": (SHARED / "squad2-normans" / "gold.jsonl", by_squad_paragraph),
}


def load_split(path: str | Path, split: Split) -> set[str]:
    """The ids of one split from a committed split file."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if split not in ("dev", "test"):
        raise ValueError(f"split must be dev or test, got {split!r}")
    return set(data[split])


def write_split(name: str, gold: Path, group_by: GroupBy, out_dir: Path = SPLIT_DIR) -> Path:
    items = load_gold(gold)
    groups = group_by(items)
    splits = assign(groups)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.json"
    payload = {
        "gold": gold.name
        if gold.is_relative_to(Path(__file__).parent)
        else f"{gold.parent.name}/{gold.name}",
        "grouped_by": group_by.__name__,
        "salt": SALT,
        "groups": {
            s: len({groups[i] for i, v in splits.items() if v == s}) for s in ("dev", "test")
        },
        "dev": [i.id for i in items if splits[i.id] == "dev"],
        "test": [i.id for i in items if splits[i.id] == "test"],
    }
    path.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", default=list(SETS), help="Which gold sets.")
    args = parser.parse_args()
    for name in args.names:
        gold, group_by = SETS[name]
        if not gold.exists():
            print(f"{name}: {gold} not found, skipped")
            continue
        path = write_split(name, gold, group_by)
        data = json.loads(path.read_text())
        print(f"{name}: dev {len(data['dev'])}, test {len(data['test'])} -> {path}")


if __name__ == "__main__":
    main()
