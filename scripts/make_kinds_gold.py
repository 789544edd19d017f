"""Build ``eval/gold/kinds.jsonl`` and its split (issue 28) from the fictional briefings.

Four kinds of question, each gold item derived mechanically so it can be checked by hand:

- ``documents``: "Which briefings mention X?" for names that stand in one or several
  briefings; the gold documents are every file of ``eval/gold/briefings/`` whose body
  contains X (case-insensitive), and a name no briefing has is unanswerable.
- ``parts``: two questions of ``eval/gold/briefings.jsonl`` about the same briefing asked as
  one ("... , and who ...?"); each part keeps its own gold answers, and an answerable question
  joined with a near-miss about the same briefing wants that part refused.
- ``latest``: "What is the latest on X?"; the gold source is the newest briefing (by its
  front-matter date) whose body names X, and it must be the first one cited.
- ``summary``: "Summarize X" for ten briefings, with two or three key sentences picked by hand
  (``SUMMARIES``) that the summary must quote.

An item's split is its source items' (``eval/splits/briefings.json``, grouped by briefing), so
no test item is built from a dev question. Run from the repository root:

    python scripts/make_kinds_gold.py
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BRIEFINGS = ROOT / "eval/gold/briefings"
# Names that stand in several briefings, in one, and in none (fictional, unanswerable).
TOPICS = (
    "Ostrelle",
    "Harlow Basin",
    "Gannet Sea",
    "Aldermoor",
    "Ferrin",
    "Lusk Institute",
    "Aldous Rail Group",
    "Marrow Coast",
    "Anselm Koivu",
    "Mireille Fontaine",
    "Varn Grid Company",
    "Kestrel Energy",
    "Halden",
    "Corran",
    "Keld",
    "Oskarsholm",
    "Dravian National Assembly",
    "Lindqvist Regional Summit",
    "Ilse Darrow",
    "Tobias Renwick",
    "Verity",
    "Orbis",
    "Skarn Tunnel",
    "Solène Arkwright",
    "Perrin Quist",
    "Vantor Shipyards",
)
WORDINGS = (
    "Which briefings mention {}?",
    "Which documents mention {}?",
    "In which reports is {} mentioned?",
    "List the briefings that mention {}",
)


def body(path: Path) -> str:
    """The briefing's text without its front matter (source and title are not mentions)."""
    text = path.read_text(encoding="utf-8")
    return re.sub(r"\A---\n.*?\n---\n", "", text, flags=re.S)


def documents_items(split_of: dict[str, str]) -> list[tuple[dict, str]]:
    texts = {p.name: body(p).lower() for p in sorted(BRIEFINGS.glob("*.md"))}
    out = []
    for i, topic in enumerate(TOPICS):
        gold = sorted(name for name, text in texts.items() if topic.lower() in text)
        item = {
            "id": f"kinds-doc-{i + 1:03d}",
            "question": WORDINGS[i % len(WORDINGS)].format(topic),
            "answers": [topic] if gold else [],
            "sources": gold,
            "answerable": bool(gold),
            "category": "documents",
        }
        # A name in one briefing goes with that briefing's split; several or none: by index.
        split = split_of.get(gold[0], "") if len(gold) == 1 else ("dev", "test")[i % 2]
        out.append((item, split))
    return out


LATEST = (
    ("What is the latest on {}?", "Ostrelle"),
    ("What's new with {}?", "Harlow Basin"),
    ("What is the most recent news on {}?", "Gannet Sea"),
    ("Latest news about {}", "Aldermoor"),
    ("What is the latest on {}?", "Ferrin"),
    ("What's new with {}?", "Marrow Coast"),
    ("What is the latest on {}?", "Mireille Fontaine"),
    ("What is the most recent news on {}?", "Corran"),
    ("What's new with {}?", "Keld"),
    ("What is the latest on {}?", "Oskarsholm"),
    ("Latest news about {}", "Dravian National Assembly"),
    ("What is the latest on {}?", "Kestrel Energy"),
    ("What's new with {}?", "Perrin Quist"),
)


def dated(path: Path) -> str:
    m = re.search(r"^date:\s*(\S+)", path.read_text(encoding="utf-8"), flags=re.M)
    return m.group(1) if m else ""


def latest_items() -> list[tuple[dict, str]]:
    """ "The latest on X": the gold source is the newest briefing that names X."""
    paths = sorted(BRIEFINGS.glob("*.md"))
    out = []
    for i, (wording, topic) in enumerate(LATEST):
        naming = [p for p in paths if topic.lower() in body(p).lower()]
        newest = max(naming, key=dated).name if naming else None
        item = {
            "id": f"kinds-latest-{i + 1:03d}",
            "question": wording.format(topic),
            "answers": [topic] if newest else [],
            "sources": [newest] if newest else [],
            "answerable": bool(newest),
            "category": "latest",
        }
        out.append((item, ("dev", "test")[i % 2]))
    return out


# "Summarize X": the briefing and its key sentences (by position among the body's sentences,
# rag.text.sentence_spans), chosen by hand: what the story is, and its main facts.
SUMMARIES = (
    ("Summarize the Quillon Bridge opening", "quillon-bridge.md", (0, 3, 8)),
    ("What are the key points of the Orbis-3 launch?", "orbis-satellite-launch.md", (0, 1, 2)),
    (
        "What does the briefing say about the Ferrin dock strike?",
        "ferrin-port-strike.md",
        (0, 1, 2),
    ),
    (
        "Give me a summary of the National Museum of Calvania reopening",
        "national-museum-reopening.md",
        (2, 5, 15),
    ),
    ("Summarize the Skarn Tunnel flooding inquiry", "skarn-tunnel-inquiry.md", (4, 8, 35)),
    (
        "What are the key points of the Verity Biologics vaccine plant opening?",
        "verity-vaccine-plant.md",
        (2, 3, 4),
    ),
    ("Summarize the Calder Hills wildfire", "calder-hills-wildfire.md", (0, 1)),
    (
        "What does the briefing say about the Bank of Calvania rate decision?",
        "central-bank-rates.md",
        (0, 1, 5),
    ),
    ("Summarize the Cobalt Loop interview", "cobalt-loop-interview.md", (1, 8, 13)),
    (
        "What are the key points of the Calvanian general election?",
        "calvania-election-wire.md",
        (0, 1, 2),
    ),
)


def summary_items(split_of_doc: dict[str, str]) -> list[tuple[dict, str]]:
    """ "Summarize X": the key sentences a summary must quote."""
    sys.path.insert(0, str(ROOT))
    from rag.text import sentence_spans

    out = []
    for i, (question, name, picks) in enumerate(SUMMARIES):
        text = body(BRIEFINGS / name)
        spans = list(sentence_spans(text))
        key = [text[spans[k][0] : spans[k][1]] for k in picks]
        item = {
            "id": f"kinds-summary-{i + 1:03d}",
            "question": question,
            "answers": key[:1],
            "sources": [name],
            "answerable": True,
            "category": "summary",
            "key_sentences": key,
        }
        out.append((item, split_of_doc.get(name, "test")))
    return out


def _joined(first: str, second: str) -> str:
    return f"{first.rstrip('?. ')}, and {second[0].lower()}{second[1:]}"


def parts_items(gold: list[dict], split_of_id: dict[str, str]) -> list[tuple[dict, str]]:
    by_source: dict[str, list[dict]] = {}
    for item in gold:
        if item["answerable"] and item.get("category") not in ("followup", "two_sentence"):
            by_source.setdefault(item["sources"][0], []).append(item)
    wh = re.compile(r"^(who|what|when|where|which|how)\b", re.I)
    out = []
    for source, items in sorted(by_source.items()):
        asks = [i for i in items if wh.match(i["question"])]
        if len(asks) < 2:
            continue
        a, b = asks[0], asks[1]
        pairs = [(a, b)]
        # A near-miss about the same briefing: the next unanswerable item after ``a`` in file
        # order, when it is in the same split.
        after = gold[gold.index(a) + 1 :]
        miss = next((i for i in after if not i["answerable"] and wh.match(i["question"])), None)
        if miss is not None and split_of_id[miss["id"]] == split_of_id[a["id"]]:
            pairs.append((asks[-1] if len(asks) > 2 else b, miss))
        for first, second in pairs:
            if split_of_id[first["id"]] != split_of_id[second["id"]]:
                continue
            item = {
                "id": f"kinds-parts-{len(out) + 1:03d}",
                "question": _joined(first["question"], second["question"]),
                "answers": first["answers"],
                "sources": [source],
                "answerable": True,
                "category": "parts",
                "parts": [
                    {"answers": p["answers"], "answerable": p["answerable"]}
                    for p in (first, second)
                ],
            }
            out.append((item, split_of_id[first["id"]]))
    return out


def main() -> None:
    gold = [json.loads(line) for line in (ROOT / "eval/gold/briefings.jsonl").open()]
    split = json.loads((ROOT / "eval/splits/briefings.json").read_text())
    split_of_id = {i: s for s in ("dev", "test") for i in split[s]}
    split_of_doc = {item["sources"][0]: split_of_id[item["id"]] for item in gold if item["sources"]}
    rows = documents_items(split_of_doc) + parts_items(gold, split_of_id) + latest_items()
    rows += summary_items(split_of_doc)
    rows = [(item, s or "test") for item, s in rows]
    path = ROOT / "eval/gold/kinds.jsonl"
    path.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i, _ in rows))
    out = {
        "gold": "kinds.jsonl",
        "grouped_by": "the split of the briefings the items were built from",
        "dev": sorted(i["id"] for i, s in rows if s == "dev"),
        "test": sorted(i["id"] for i, s in rows if s == "test"),
    }
    (ROOT / "eval/splits/kinds.json").write_text(json.dumps(out, indent=1) + "\n")
    print(f"{path}: {len(rows)} items ({len(out['dev'])} dev, {len(out['test'])} test)")


if __name__ == "__main__":
    main()
