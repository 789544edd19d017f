"""End-to-end: gold file -> fake runners -> report.json / report.md / PNGs -> exit code."""

from __future__ import annotations

import io
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from rich.console import Console

from eval import harness
from eval.harness import run_eval
from eval.metrics import SUMMARY_KEYS
from eval.runners import Runner
from rag.schema import AnswerResult, ChatTurn, Citation, RetrievedChunk, SentenceSupport

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

GOLD = [
    {
        "id": "q1",
        "question": "Who hosted it?",
        "answers": ["Scott Bessent", "Bessent"],
        "sources": ["doc-a"],
        "answerable": True,
        "category": "name",
    },
    {
        "id": "q2",
        "question": "When did they meet?",
        "answers": ["27 January"],
        "sources": ["Doc A Title"],
        "answerable": True,
        "category": "date",
    },
    {
        "id": "q3",
        "question": "How many minerals?",
        "answers": ["30"],
        "sources": ["doc-a"],
        "answerable": True,
        "category": "number",
    },
    {
        "id": "q4",
        "question": "What did he eat?",
        "answers": [],
        "sources": [],
        "answerable": False,
        "category": "absent",
    },
    {
        "id": "q5",
        "question": "Capital of France?",
        "answers": [],
        "sources": [],
        "answerable": False,
        "category": "outside",
    },
    {
        "id": "q6",
        "question": "And who convened it?",
        "answers": ["Rubio"],
        "sources": ["doc-a"],
        "answerable": True,
        "category": "followup",
        "history": [
            {"role": "user", "content": "Tell me about the ministerial."},
            {"role": "assistant", "content": "It is on critical minerals."},
        ],
    },
]
# fake wall-clock seconds each question takes, in gold order
LATENCY = {"q1": 0.1, "q2": 0.2, "q3": 0.3, "q4": 0.4, "q5": 0.5, "q6": 1.0}


def _chunk(doc_id: str, title: str = "") -> RetrievedChunk:
    return RetrievedChunk(
        chunk_id=f"{doc_id}#0",
        doc_id=doc_id,
        text="t",
        start_char=0,
        end_char=1,
        title=title,
    )


def _cite(n: int, doc_id: str, title: str) -> Citation:
    return Citation(
        n=n,
        doc_id=doc_id,
        title=title,
        chunk_id=f"{doc_id}#0",
        start_char=0,
        end_char=1,
        quote="t",
    )


def _result(question: str, answer: str, abstained: bool = False, **kw: Any) -> AnswerResult:
    return AnswerResult(
        question=question,
        standalone_question=question,
        answer=answer,
        answerer="fake",
        abstained=abstained,
        **kw,
    )


CANNED: dict[str, AnswerResult] = {
    # correct, exact, cites the gold doc; retrieved gold doc at distinct rank 2
    "Who hosted it?": _result(
        "Who hosted it?",
        "Scott Bessent.",
        citations=[_cite(1, "doc-a", "Doc A Title")],
        retrieved=[_chunk("doc-b"), _chunk("doc-b"), _chunk("doc-a", "Doc A Title")],
        support=[
            SentenceSupport(sentence="Scott Bessent.", citations=[1], support=0.9, supported=True)
        ],
    ),
    # wrong date; gold source named by title; cites one gold and one non-gold doc
    "When did they meet?": _result(
        "When did they meet?",
        "It happened on 28 January.",
        citations=[_cite(1, "doc-a", "Doc A Title"), _cite(2, "doc-c", "Other")],
        retrieved=[_chunk("doc-a", "Doc A Title")],
        support=[
            SentenceSupport(sentence="It happened", citations=[1], support=0.8, supported=True),
            SentenceSupport(sentence="on 28 January.", citations=[2], support=0.1, supported=False),
        ],
    ),
    # false abstention, retrieval missed
    "How many minerals?": _result(
        "How many minerals?",
        "The briefings do not say.",
        abstained=True,
        retrieved=[_chunk("doc-c")],
    ),
    # correct abstention
    "What did he eat?": _result("What did he eat?", "The briefings do not say.", abstained=True),
    # hallucinated answer to an unanswerable question
    "Capital of France?": _result(
        "Capital of France?",
        "Paris is the capital.",
        support=[
            SentenceSupport(
                sentence="Paris is the capital.",
                citations=[],
                support=0.0,
                supported=False,
            )
        ],
    ),
}


class FakeRunner:
    """Returns canned answers, advances a fake clock, and fails on the follow-up question."""

    def __init__(self, clock: list[float]) -> None:
        self.clock = clock
        self.histories: list[list[ChatTurn] | None] = []
        self.closed = False

    def ask(self, question: str, history: list[ChatTurn] | None = None) -> AnswerResult:
        qid = next(g["id"] for g in GOLD if g["question"] == question)
        self.clock[0] += LATENCY[qid]
        self.histories.append(history)
        if question not in CANNED:
            raise RuntimeError("service exploded")
        return CANNED[question]

    def close(self) -> None:
        self.closed = True


class AbstainRunner:
    """Always abstains instantly: the safe-but-useless baseline."""

    def ask(self, question: str, history: list[ChatTurn] | None = None) -> AnswerResult:
        return _result(question, "I cannot answer from the briefings.", abstained=True)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Replace the harness's timer so latencies are exact, not wall-clock noise."""
    now = [0.0]
    monkeypatch.setattr(harness, "time", SimpleNamespace(perf_counter=lambda: now[0]))
    return now


@pytest.fixture
def gold_path(tmp_path: Path) -> Path:
    path = tmp_path / "gold.jsonl"
    path.write_text("".join(json.dumps(g) + "\n" for g in GOLD), encoding="utf-8")
    return path


def _quiet() -> Console:
    return Console(file=io.StringIO(), width=120)


EXPECTED_FAKE = {
    "n": 6,
    "answer_accuracy": 1 / 4,  # q1 of q1,q2,q3,q6
    "citation_precision": (1 + 0.5 + 0) / 3,  # answered answerable: q1, q2, q6 (error, no cites)
    "citation_recall": (1 + 1 + 0) / 3,
    "retrieval_recall_at_5": (1 + 1 + 0 + 0) / 4,
    "mrr": (0.5 + 1 + 0 + 0) / 4,
    "abstention_accuracy": 1 / 2,  # q4 abstained, q5 did not
    "false_abstention_rate": 1 / 4,  # q3
    "support_rate": 2 / 4,  # q1 T, q2 T F, q5 F
    "latency_p50_s": 0.35,  # sorted .1 .2 .3 .4 .5 1.0 -> between .3 and .4
    "latency_p95_s": 0.875,  # pos 4.75 -> .5 + .75 * .5
    "token_f1": (1 + 2 / 7 + 0 + 0) / 4,  # q2: "it happened on 28 january" vs "27 january"
    "exact_match": 1 / 4,
}


def test_run_eval_end_to_end(tmp_path: Path, gold_path: Path, clock: list[float]) -> None:
    fake = FakeRunner(clock)
    factories: dict[str, Any] = {"fake": lambda: fake, "abstain": AbstainRunner}
    out = tmp_path / "out"
    code = run_eval(gold_path, factories, out, {"answer_accuracy": 0.2}, console=_quiet())

    # abstain has accuracy 0 < 0.2 -> the gate fails even though "fake" passes
    assert code == 1
    assert fake.closed
    assert fake.histories[-1] == [ChatTurn(**t) for t in GOLD[5]["history"]]
    assert fake.histories[0] is None

    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert {"summary", "answerers", "per_question"} <= set(report)
    assert list(report["answerers"]) == ["fake", "abstain"]
    assert tuple(report["summary"]) == SUMMARY_KEYS
    assert report["summary"] == report["answerers"]["fake"]
    for key, expected in EXPECTED_FAKE.items():
        assert report["summary"][key] == pytest.approx(expected), key

    abstain = report["answerers"]["abstain"]
    assert abstain["answer_accuracy"] == 0.0
    assert abstain["false_abstention_rate"] == 1.0
    assert abstain["abstention_accuracy"] == 1.0
    assert abstain["citation_precision"] is None and abstain["support_rate"] is None
    assert report["threshold_failures"] == ["abstain: answer_accuracy=0.000 < min 0.2"]
    assert report["errors"] == {"fake": 1, "abstain": 0}

    rows = report["per_question"]
    assert len(rows) == 12
    required = {
        "id",
        "answerer",
        "question",
        "gold",
        "answer",
        "citations",
        "correct",
        "abstained",
        "latency_s",
    }
    assert all(required <= set(r) for r in rows)
    by_id = {r["id"]: r for r in rows if r["answerer"] == "fake"}
    assert by_id["q1"]["correct"] and by_id["q1"]["citations"][0]["doc_id"] == "doc-a"
    assert by_id["q1"]["retrieved_doc_ids"] == ["doc-b", "doc-a"]
    assert not by_id["q2"]["correct"] and by_id["q2"]["citation_precision"] == 0.5
    assert by_id["q4"]["correct"] and not by_id["q5"]["correct"]
    assert by_id["q6"]["error"] == "RuntimeError: service exploded" and not by_id["q6"]["correct"]
    assert by_id["q6"]["latency_s"] == pytest.approx(1.0)

    md = (out / "report.md").read_text(encoding="utf-8")
    assert "| metric | fake | abstain |" in md
    assert "| answer_accuracy | 0.250 | 0.000 |" in md
    assert "| abstention_accuracy | 0.500 | 1.000 |" in md
    assert "result: FAIL" in md
    assert "### fake (4 failed)" in md  # q2 q3 q5 q6
    assert "### abstain (4 failed)" in md  # all four answerable
    assert (
        "When did they meet?" in md and "`27 January`" in md and "It happened on 28 January." in md
    )
    assert "*(unanswerable: should abstain)*" in md and "Paris is the capital." in md
    assert "service exploded" in md
    assert "| date | 1 | 0/1 | 0/1 |" in md
    assert "![metrics](metrics.png)" in md

    for name in ("metrics.png", "latency.png"):
        data = (out / name).read_bytes()
        assert data[:8] == PNG_MAGIC, name
        assert len(data) > 1000, name


def test_run_eval_passes_when_thresholds_hold(
    tmp_path: Path, gold_path: Path, clock: list[float]
) -> None:
    thresholds = {
        "answer_accuracy": 0.25,
        "min_support_rate": 0.5,
        "false_abstention_rate": 0.25,  # bare name is a maximum for this metric
        "latency_p95_s": 0.9,
    }
    code = run_eval(
        gold_path,
        {"fake": lambda: FakeRunner(clock)},
        tmp_path,
        thresholds,
        console=_quiet(),
    )
    assert code == 0
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["passed"] is True and report["threshold_failures"] == []
    assert "result: PASS" in (tmp_path / "report.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("thresholds", "message"),
    [
        ({"false_abstention_rate": 0.2}, "false_abstention_rate=0.250 > max 0.2"),
        ({"latency_p50_s": 0.3}, "latency_p50_s=0.350 > max 0.3"),
        ({"abstention_accuracy": 0.6}, "abstention_accuracy=0.500 < min 0.6"),
        ({"max_answer_accuracy": 0.1}, "answer_accuracy=0.250 > max 0.1"),
    ],
)
def test_run_eval_fails_on_each_kind_of_threshold(
    tmp_path: Path,
    gold_path: Path,
    clock: list[float],
    thresholds: dict[str, float],
    message: str,
) -> None:
    code = run_eval(
        gold_path,
        {"fake": lambda: FakeRunner(clock)},
        tmp_path,
        thresholds,
        console=_quiet(),
    )
    assert code == 1
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["threshold_failures"] == [f"fake: {message}"]


def test_thresholds_on_na_metrics_are_skipped_not_failed(tmp_path: Path, gold_path: Path) -> None:
    factories: dict[str, Any] = {"abstain": AbstainRunner}
    code = run_eval(gold_path, factories, tmp_path, {"citation_precision": 0.9}, console=_quiet())
    assert code == 0
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert (
        report["threshold_skipped"]
        and "citation_precision is n/a" in report["threshold_skipped"][0]
    )


def test_unknown_threshold_fails_before_asking(tmp_path: Path, gold_path: Path) -> None:
    def factory() -> Runner:
        raise AssertionError("runner must not be built")

    with pytest.raises(ValueError, match="unknown threshold 'answer_acc'"):
        run_eval(gold_path, {"x": factory}, tmp_path, {"answer_acc": 0.5}, console=_quiet())


class LongWindedRunner:
    """Never abstains and answers at length, to exercise clipping in report.md."""

    def ask(self, question: str, history: list[ChatTurn] | None = None) -> AnswerResult:
        return _result(question, "word " * 400 + "END")


def test_markdown_clips_long_answers_but_json_keeps_them(tmp_path: Path, gold_path: Path) -> None:
    code = run_eval(gold_path, {"long": LongWindedRunner}, tmp_path, {}, console=_quiet())
    assert code == 0  # no thresholds -> nothing can fail
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "…" in md and "END" not in md
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert all(r["answer"].endswith("END") for r in report["per_question"])
    assert report["summary"]["abstention_accuracy"] == 0.0


def test_a_list_answer_is_right_when_its_short_answer_holds_the_gold_list() -> None:
    item = harness.GoldItem(
        id="l1",
        question="Which states signed?",
        answers=["Dravia, Ostrelle and Keld"],
        items=["Dravia", "Ostrelle", "Keld"],
        category="list",
    )
    result = AnswerResult(
        question=item.question,
        standalone_question=item.question,
        answer="Dravia [1]\nOstrelle [1]\nKeld [1]",
        short_answer="Dravia, Ostrelle and Keld",
        answerer="extractive",
        answer_type="list",
    )
    outcome = harness.outcome_of(item, result, 0.1)
    assert outcome.correct and outcome.list_f1 == 1.0
    wrong = result.model_copy(update={"answer": "Brenn [1]", "short_answer": "Brenn"})
    assert not harness.outcome_of(item, wrong, 0.1).correct
