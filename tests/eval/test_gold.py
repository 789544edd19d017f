"""The seed gold set must load, be balanced as briefed, and quote the briefing verbatim."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from pathlib import Path

import pytest

from eval.harness import load_gold
from eval.metrics import is_correct, normalize

ROOT = Path(__file__).resolve().parents[2]
SEED_GOLD = ROOT / "eval" / "gold" / "seed.jsonl"
SEED_DOC_ID = "000_ca9448a2e7e84a10.txt"
SEED_TEXT = (ROOT / "corpus" / SEED_DOC_ID).read_text(encoding="utf-8")


def test_seed_gold_loads_with_required_mix() -> None:
    items = load_gold(SEED_GOLD)
    assert len(items) >= 45
    unanswerable = [i for i in items if not i.answerable]
    assert len(unanswerable) >= 12
    assert sum(1 for i in items if i.history) >= 4
    cats = Counter(i.category for i in items)
    for needed in (
        "name",
        "date",
        "number",
        "list",
        "paraphrase",
        "two_sentence",
        "followup",
    ):
        assert cats[needed] >= 3, needed
    for needed in ("absent", "outside", "instruction"):
        assert cats[needed] >= 2, needed


def test_seed_gold_sources_point_at_the_seed_briefing() -> None:
    for item in load_gold(SEED_GOLD):
        if item.answerable:
            assert item.sources == [SEED_DOC_ID], item.id
            assert (ROOT / "corpus" / item.sources[0]).is_file()
        else:
            assert item.sources == [] and item.answers == [], item.id


def test_every_answerable_answer_appears_verbatim_in_the_seed() -> None:
    missing = [
        (item.id, answer)
        for item in load_gold(SEED_GOLD)
        if item.answerable
        for answer in item.answers
        if not is_correct(SEED_TEXT, [answer])
    ]
    assert missing == []


def test_seed_questions_and_ids_are_unique() -> None:
    items = load_gold(SEED_GOLD)
    keys = [
        (normalize(i.question), json.dumps([t.model_dump() for t in i.history or []]))
        for i in items
    ]
    assert len(set(keys)) == len(keys)


def test_history_turns_alternate_and_end_with_assistant() -> None:
    for item in load_gold(SEED_GOLD):
        if item.history:
            roles = [t.role for t in item.history]
            assert roles[0] == "user" and roles[-1] == "assistant", item.id
            assert all(a != b for a, b in itertools.pairwise(roles)), item.id


def _write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "gold.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


GOOD = json.dumps(
    {
        "id": "q1",
        "question": "Who?",
        "answers": ["Rubio"],
        "sources": ["d"],
        "answerable": True,
    }
)


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ("{not json", "malformed JSON"),
        ("[1, 2]", "expected a JSON object"),
        (json.dumps({"id": "q2", "answers": ["x"]}), "question"),
        (json.dumps({"id": "q2", "question": "Q?", "answer": ["x"]}), "answer"),
        (
            json.dumps({"id": "q2", "question": "Q?", "answers": [], "answerable": True}),
            "at least one",
        ),
        (
            json.dumps({"id": "q2", "question": "Q?", "answers": ["x"], "answerable": False}),
            "unanswerable",
        ),
        (
            json.dumps({"id": "q1", "question": "Again?", "answers": ["x"]}),
            "duplicate id",
        ),
    ],
)
def test_load_gold_reports_line_numbers(tmp_path: Path, bad_line: str, message: str) -> None:
    path = _write(tmp_path, [GOOD, "", bad_line])
    with pytest.raises(ValueError, match=rf"gold\.jsonl:3: .*{message}"):
        load_gold(path)


def test_load_gold_accepts_rgb_format_and_skips_blank_lines(tmp_path: Path) -> None:
    path = _write(tmp_path, ["", GOOD, "   "])
    [item] = load_gold(path)
    assert item.answers == ["Rubio"] and item.history is None and item.category is None


def test_load_gold_rejects_empty_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no gold items"):
        load_gold(_write(tmp_path, [""]))


def test_shared_rgb_gold_loads_if_present() -> None:
    rgb = Path("/work/shared/benchmarks/rgb/gold.jsonl")
    if not rgb.is_file():
        pytest.skip("RGB benchmark not available")
    items = load_gold(rgb)
    assert len(items) == 100 and all(i.answerable and i.sources for i in items)
