"""Fit the span scorer and the answer-or-abstain model on the dev splits only.

``python -m eval.calibrate [--sets seed,briefings,rgb,squad2-normans] [--corpus PATH ...]``

1. Every dev question goes through retrieval and evidence selection (cross-encoder) over one
   mixed collection of all the corpora; the top ``decide_consider`` sentences are kept.
2. Span model (rag/data/spans.json): logistic regression over ``rag.spans.FEATURES`` of each
   candidate in sentences that hold a gold answer; positive = the candidates with the best
   SQuAD F1 against the gold (at least 0.5). Its short-answer threshold maximises the
   short-answer F1; its lead threshold is the lowest at which a leading span is right
   ``LEAD_PRECISION`` of the time.
3. Decision model (rag/data/decision.json): logistic regression over ``rag.decide.FEATURES``
   of each kept sentence; positive = an answerable question whose gold answer the sentence
   holds. Its threshold maximises the mean over sets of balanced accuracy (answer accuracy on
   answerable questions, abstention on unanswerable ones). A kind of question that goes
   through the same decision (``rag.kinds``: "reason", "list") gets a threshold of its own,
   maximising balanced accuracy over that kind's dev questions, pooled from every set and the
   dev split of ``eval/gold/kinds.jsonl``, when there are at least ``KIND_MIN`` of them.
4. With ``--judge-model QWEN.gguf`` (``--judged``: a pickle of its judgments, reused): the
   same model plus the local LLM's yes/no on each question's first-ranked sentence
   (``rag.answer.judge``), for the local-llm answerer (rag/data/decision-local-llm.json).
Test splits are never read. The output printed here is quoted in docs/quality.md.
"""

from __future__ import annotations

import argparse
import json
import pickle
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from eval.harness import GoldItem, load_gold
from eval.metrics import is_correct, squad_scores
from eval.run import eval_settings
from eval.splits import SETS, SPLIT_DIR, load_split
from ingest.pipeline import IngestPipeline
from rag import decide, spans
from rag.answer.judge import LLMJudge, load_judge
from rag.components import build_components
from rag.config import Settings
from rag.extract import SpanExtractor, get_extractor
from rag.kinds import answer_type
from rag.read import SpanReader, chunk_span
from rag.rewrite import standalone_question
from rag.schema import Evidence
from rag.service import QAService
from rag.spans import span_context

DEFAULT_CORPUS = ["corpus", "eval/gold/briefings"]
CONSIDER = Settings().decide_consider  # the decision judges these first sentences (and more)
LEAD_PRECISION = 0.85  # policy: how often a leading span must be right on dev
GUESS_PRECISION = 0.5  # policy: a best guess is right at least half the time on dev
SHARED_CORPUS = ["rgb/passages.jsonl", "squad2-normans/corpus.jsonl"]
KINDS_GOLD = Path(__file__).parent / "gold" / "kinds.jsonl"
DECIDED_KINDS = ("reason", "list")  # kinds answered through the one-answer decision
KIND_MIN = 15  # policy: fewer dev questions of a kind than this keep the general threshold


@dataclass
class Observed:
    set_name: str
    item: GoldItem
    standalone: str
    evidence: list[Evidence]


def default_corpus(shared: Path) -> list[Path]:
    """The mixed collection the dev questions are asked over: the project's corpora and the
    shared benchmarks' passages under ``shared``."""
    return [Path(p) for p in DEFAULT_CORPUS] + [shared / p for p in SHARED_CORPUS]


def logistic(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """P(positive) of each row of ``x`` under weights ``w`` (logits clipped: no overflow)."""
    return 1 / (1 + np.exp(-np.clip(x @ w, -30, 30)))


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0, steps: int = 50) -> np.ndarray:
    """L2-regularised logistic regression by Newton's method (the bias, column 0, is free)."""
    w = np.zeros(x.shape[1])
    penalty = np.full(x.shape[1], l2)
    penalty[0] = 0.0
    for _ in range(steps):
        p = logistic(x, w)
        grad = x.T @ (p - y) + penalty * w
        hess = (x * (p * (1 - p))[:, None]).T @ x + np.diag(penalty + 1e-6)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.max(np.abs(step)) < 1e-7:
            break
    return w


def fit_conditional_logit(
    groups: list[tuple[np.ndarray, np.ndarray]], l2: float = 1.0
) -> np.ndarray:
    """Weights maximising sum over groups of log P(positives | group) with a softmax over each
    group's rows (one group = one sentence's candidates), L2-regularised (not the bias)."""
    from scipy.optimize import minimize

    dim = groups[0][0].shape[1]
    mask = np.ones(dim)
    mask[0] = 0.0  # a bias cancels in a softmax; keep it at 0

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        total, grad = 0.5 * l2 * float(np.sum((w * mask) ** 2)), l2 * w * mask
        for x, pos in groups:
            z = x @ w
            z -= z.max()
            p = np.exp(z) / np.exp(z).sum()
            target = pos / pos.sum()
            total -= float(np.log(np.clip(p[pos > 0], 1e-12, None)).sum() / pos.sum())
            grad += x.T @ (p - target)
        return total, grad * mask

    return minimize(loss, np.zeros(dim), jac=True, method="L-BFGS-B").x


def observe(service: QAService, sets: list[str]) -> list[Observed]:
    out = []
    for name in sets:
        gold_path, _ = SETS[name]
        items = load_gold(gold_path, load_split(SPLIT_DIR / f"{name}.json", "dev"))
        out += observed_items(service, name, items)
    return out


def observed_items(service: QAService, name: str, items: list[GoldItem]) -> list[Observed]:
    """Each item's question through retrieval and evidence selection, as the service runs it."""
    started = time.perf_counter()
    out = []
    for item in items:
        standalone = standalone_question(item.question, item.history)
        chunks = service.retrieve(standalone)
        evidence = service.evidence(standalone, chunks)
        out.append(Observed(name, item, standalone, evidence))
    print(f"observed {name}: {len(items)} dev questions in {time.perf_counter() - started:.0f} s")
    return out


def observe_kinds(service: QAService) -> list[Observed]:
    """The dev list and why/how questions of ``eval/gold/kinds.jsonl`` (a list whose items
    stand in several sentences has no sentence labelled right, as in the other sets)."""
    items = load_gold(KINDS_GOLD, load_split(SPLIT_DIR / "kinds.json", "dev"))
    return observed_items(service, "kinds", [i for i in items if i.category in DECIDED_KINDS])


def fit_kind_thresholds(
    observed: list[Observed], best_p: np.ndarray, best_ok: np.ndarray, general: float
) -> dict[str, float]:
    """Per kind in ``DECIDED_KINDS`` with at least ``KIND_MIN`` dev questions: the threshold
    maximising balanced accuracy over them (ties: the one nearest ``general``)."""
    out = {}
    for kind in DECIDED_KINDS:
        ks = [k for k, o in enumerate(observed) if answer_type(o.item.question) == kind]
        ans = [k for k in ks if observed[k].item.answerable]
        una = [k for k in ks if not observed[k].item.answerable]
        if len(ks) < KIND_MIN or not ans or not una:
            print(f"{kind}: {len(ans)} answerable, {len(una)} not: the general threshold")
            continue

        def balanced(t: float, ans: list[int] = ans, una: list[int] = una) -> float:
            acc = np.mean([best_ok[k] and best_p[k] >= t for k in ans])
            return float((acc + np.mean([best_p[k] < t for k in una])) / 2)

        grid = [round(float(t), 2) for t in np.arange(0.05, 0.95, 0.01)]
        out[kind] = max(grid, key=lambda t: (round(balanced(t), 6), -abs(t - general)))
        print(
            f"{kind}: threshold {out[kind]:.2f} on {len(ans)} answerable and {len(una)} "
            f"unanswerable dev questions: balanced accuracy {balanced(out[kind]):.3f} "
            f"(general threshold {general:.2f}: {balanced(general):.3f})"
        )
    return out


def top_readings(
    observed: list[Observed], read: Callable[[str, Evidence], spans.Reading | None]
) -> list[tuple[spans.Reading | None, list[str], float]]:
    """(``read`` of the top sentence, gold answers, the whole sentence's F1) for each answerable
    dev question whose top sentence holds its answer: where span choice is what is measured."""
    out = []
    for o in observed:
        if o.item.answerable and o.evidence and is_correct(o.evidence[0].text, o.item.answers):
            sentence_f1 = squad_scores(o.evidence[0].text, o.item.answers)[1]
            out.append((read(o.standalone, o.evidence[0]), o.item.answers, sentence_f1))
    return out


def span_groups(observed: list[Observed]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per dev sentence that holds an answer: its candidates' features, and which candidates
    are (tied) best by F1 against the gold answers."""
    groups: list[tuple[np.ndarray, np.ndarray]] = []
    for o in observed:
        kind = spans.question_kind(o.standalone)
        if not o.item.answerable or kind == "explain":
            continue
        for ev in o.evidence:
            if not is_correct(ev.text, o.item.answers):
                continue
            cands = spans.candidates(ev.text)
            f1s = [squad_scores(c.text, o.item.answers)[1] for c in cands]
            if not cands or max(f1s) < 0.5:
                continue
            x = np.array(
                [spans.features(o.standalone, kind, ev.text, c, span_context(ev)) for c in cands]
            )
            groups.append((x, np.array([float(f1 >= max(f1s)) for f1 in f1s])))
    return groups


def _span_f1(found: spans.Reading | None, answers: list[str], weight: float) -> float:
    return squad_scores(found.best(weight).text, answers)[1] if found else 0.0


def best_weight(
    readings: list[tuple[spans.Reading | None, list[str], float]], weights: list[float]
) -> tuple[float, list[float]]:
    """The bonus weight with the best mean span F1 over ``readings``, and every weight's F1."""
    by_weight = [float(np.mean([_span_f1(f, a, w) for f, a, _ in readings])) for w in weights]
    return weights[int(np.argmax(by_weight))], by_weight


def fit_spans(
    observed: list[Observed], service_reader: SpanReader, extractor: SpanExtractor | None
) -> spans.SpanModel:
    groups = span_groups(observed)
    w = fit_conditional_logit(groups)
    model = spans.SpanModel(tuple(float(v) for v in w), 0.0, 0.0)
    print(
        f"span model: {len(groups)} sentences, {sum(len(x) for x, _ in groups)} candidates, "
        f"{int(sum(p.sum() for _, p in groups))} best"
    )
    # The cross-encoder's masking check (rag.read), its weight, and the thresholds: over dev
    # questions whose top sentence holds the answer.
    reader = SpanReader(service_reader.encoder, service_reader.candidates, model)
    readings = top_readings(observed, reader.reading)
    weights = [float(w) for w in np.arange(0.0, 1.51, 0.1)]
    mask_weight, by_weight = best_weight(readings, weights)
    print(
        f"mask weight {mask_weight:.1f}: span F1 {max(by_weight):.3f} on {len(readings)} cases "
        f"(span model alone {by_weight[0]:.3f})"
    )
    short_t, lead_t = fit_thresholds(threshold_cases(readings, mask_weight), "grammar")
    # The trained reader (rag.extract) on the same cases: its log-probability of each
    # candidate (and its own best span as one more) added times ``reader_weight``.
    reader_cases, reader_weight = [], 1.0
    if extractor is not None:
        found_r = top_readings(observed, SpanReader(None, 0, model, extractor).with_reader)
        r_weights = [0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 100.0]
        reader_weight, by_r = best_weight(found_r, r_weights)
        print(
            "reader weight "
            + ", ".join(f"{w:g}: {v:.3f}" for w, v in zip(r_weights, by_r, strict=True))
        )
        print(
            f"reader weight {reader_weight:g}: span F1 {max(by_r):.3f} on {len(found_r)} cases "
            f"(grammar + mask {by_weight[weights.index(mask_weight)]:.3f})"
        )
        reader_cases = threshold_cases(found_r, reader_weight)
    reader_short, reader_lead = fit_thresholds(reader_cases, "reader") if reader_cases else (1, 1)
    cases_c = chunk_cases(observed)
    chunk_short, chunk_lead = fit_thresholds(cases_c, "chunk reader") if cases_c else (1, 1)
    fitted = (mask_weight, reader_weight, reader_short, reader_lead, chunk_short, chunk_lead)
    return spans.SpanModel(model.weights, short_t, lead_t, *fitted, "dev splits")


def chunk_cases(observed: list[Observed]) -> list[tuple[float, float, float]]:
    """(span probability, span F1, sentence F1) of the chunk reader's span of the top sentence,
    for each answerable dev question whose top sentence holds its answer (as ``top_readings``);
    a sentence the reader did not read has probability 0, the sentence standing in."""
    cases = []
    for o in observed:
        if o.item.answerable and o.evidence and is_correct(o.evidence[0].text, o.item.answers):
            ev = o.evidence[0]
            sentence_f1 = squad_scores(ev.text, o.item.answers)[1]
            span = chunk_span(o.standalone, ev)
            f1 = squad_scores(span.text, o.item.answers)[1] if span else sentence_f1
            cases.append((span.probability if span else 0.0, f1, sentence_f1))
    return cases


def threshold_cases(
    readings: list[tuple[spans.Reading | None, list[str], float]], weight: float
) -> list[tuple[float, float, float]]:
    """(span probability, span F1, sentence F1) per reading, its best span taken at ``weight``
    (no span: probability 0, the sentence stands in)."""
    cases = []
    for found, answers, sentence_f1 in readings:
        span = found.best(weight) if found else None
        f1 = squad_scores(span.text, answers)[1] if span else sentence_f1
        cases.append((span.probability if span else 0.0, f1, sentence_f1))
    return cases


def fit_thresholds(cases: list[tuple[float, float, float]], name: str) -> tuple[float, float]:
    """(short-answer, lead) thresholds over (span probability, span F1, sentence F1) cases.

    Short answer: the threshold that maximises F1 when below it the sentence stands in; lead:
    the lowest at which leads are right (F1 >= 0.5) ``LEAD_PRECISION`` of the time, so a wrong
    name rarely heads an answer."""
    best_t, best_f1 = 0.5, -1.0
    for t in np.arange(0.0, 1.0, 0.02):
        f1 = float(np.mean([sf if p >= t else lf for p, sf, lf in cases])) if cases else 0.0
        if f1 > best_f1:
            best_t, best_f1 = float(t), f1
    print(f"{name} short-answer threshold {best_t:.2f}: F1 {best_f1:.3f} on {len(cases)} cases")
    lead_t = 1.0
    for t in np.arange(0.0, 1.0, 0.02):
        leads = [sf >= 0.5 for p, sf, _ in cases if p >= t]
        if leads and np.mean(leads) >= LEAD_PRECISION:
            lead_t = float(t)
            break
    led = [sf >= 0.5 for p, sf, _ in cases if p >= lead_t]
    print(
        f"{name} lead threshold {lead_t:.2f}: leads on {len(led)}/{len(cases)} cases, "
        f"right {np.mean(led) if led else 0:.3f}"
    )
    return best_t, lead_t


def decision_rows(
    observed: list[Observed], idf: decide.Idf, span_model: spans.SpanModel
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(features, label, question index) of every kept sentence; label 1 = an answerable
    question whose gold answer the sentence holds."""
    rows, labels, owners = [], [], []
    for k, o in enumerate(observed):
        top_ce = max((e.ce_score or 0.0 for e in o.evidence), default=0.0)
        for rank, ev in decide.considered(o.evidence, CONSIDER):  # the sentences judged
            span = spans.best_of(spans.reading(o.standalone, ev.text, span_context(ev), span_model))
            rows.append(decide.feature_vector(o.standalone, ev, rank, top_ce, span, idf))
            labels.append(float(o.item.answerable and is_correct(ev.text, o.item.answers)))
            owners.append(k)
    return np.array(rows), np.array(labels), np.array(owners)


def fit_threshold(
    observed: list[Observed], p: np.ndarray, y: np.ndarray, owner: np.ndarray
) -> tuple[float, Callable[[float], tuple[float, dict[str, tuple[float, float | None]]]]]:
    """The threshold on the likeliest sentence's probability that maximises the mean over
    sets of balanced accuracy, and the objective (for reporting it, or at another threshold).
    ``observed`` are the questions ``owner`` indexes."""
    best_p, best_ok = best_per_question(len(observed), p, y, owner)
    names = list(dict.fromkeys(o.set_name for o in observed))

    def objective(t: float) -> tuple[float, dict[str, tuple[float, float | None]]]:
        per = {}
        for name in names:
            ks = [k for k, o in enumerate(observed) if o.set_name == name]
            ans = [k for k in ks if observed[k].item.answerable]
            una = [k for k in ks if not observed[k].item.answerable]
            acc = float(np.mean([best_ok[k] and best_p[k] >= t for k in ans])) if ans else 0.0
            abst = float(np.mean([best_p[k] < t for k in una])) if una else None
            per[name] = (acc, abst)
        balanced = [(a + b) / 2 if b is not None else a for a, b in per.values()]
        return float(np.mean(balanced)), per

    grid = [float(t) for t in np.arange(0.05, 0.95, 0.01)]
    return max(grid, key=lambda t: objective(t)[0]), objective


def best_per_question(
    n: int, p: np.ndarray, y: np.ndarray, owner: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each question's likeliest sentence: its probability, and whether it holds the answer."""
    best_p, best_ok = np.zeros(n), np.zeros(n, dtype=bool)
    for k in range(n):
        mine = np.flatnonzero(owner == k)
        if len(mine):
            j = mine[np.argmax(p[mine])]
            best_p[k], best_ok[k] = p[j], bool(y[j])
    return best_p, best_ok


def fit_floor(best_p: np.ndarray, best_ok: np.ndarray, threshold: float) -> float:
    """The lowest floor under ``threshold`` at which the best guesses (confidence in
    [floor, threshold)) are right at least ``GUESS_PRECISION`` of the time on dev; the
    threshold itself (no guesses) when no floor is."""
    floor = threshold
    for f in np.arange(threshold - 0.01, 0.0, -0.01):
        band = (best_p >= f) & (best_p < threshold)
        if band.sum() and best_ok[band].mean() >= GUESS_PRECISION:
            floor = float(f)
    return round(floor, 2)


def judge_observed(observed: list[Observed], judge: LLMJudge) -> list[float | None]:
    """The judge's yes/no margin on each question's first-ranked sentence (None: none kept)."""
    started = time.perf_counter()
    out = [judge.score(o.standalone, o.evidence[0]) if o.evidence else None for o in observed]
    per = (time.perf_counter() - started) / max(1, len(observed))
    print(f"judged {len(observed)} dev questions, {per:.2f} s each")
    return out


def first_rows(owner: np.ndarray) -> np.ndarray:
    """Index of each question's first ``decision_rows`` row: its first-ranked sentence."""
    return np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])


def judge_column(owner: np.ndarray, judged: list[float | None]) -> np.ndarray:
    """The ``llm_yes`` feature of every ``decision_rows`` row: a question's first row (the
    sentence the service judges) gets the judge's margin, the others 0."""
    column = np.zeros((len(owner), 1))
    for i in first_rows(owner):
        column[i, 0] = decide.judge_feature(judged[owner[i]])
    return column


def fit_decision(
    observed: list[Observed],
    idf: decide.Idf,
    span_model: spans.SpanModel,
    judged: list[float | None] | None = None,
    kinds: list[Observed] | None = None,
) -> decide.DecisionModel:
    """The decision model; with ``judged`` (``judge_observed``), the one with ``llm_yes``.
    ``kinds`` (``observe_kinds``) only help fit the kinds' own thresholds."""
    x, y, owner = decision_rows(observed, idf, span_model)
    features = decide.FEATURES
    if judged is not None:
        x, features = np.hstack([x, judge_column(owner, judged)]), decide.JUDGED_FEATURES
    w = fit_logistic(x, y)
    p = logistic(x, w)
    threshold, objective = fit_threshold(observed, p, y, owner)
    best_p, best_ok = best_per_question(len(observed), p, y, owner)
    floor = fit_floor(best_p, best_ok, threshold)
    score, per = objective(threshold)
    print(f"decision model: {len(x)} sentences, {int(y.sum())} answer-bearing")
    for name, value in zip(features, w, strict=True):
        print(f"  {name:18s} {value:+.3f}")
    print(f"threshold {threshold:.2f}: mean balanced accuracy {score:.3f} on dev")
    band = (best_p >= floor) & (best_p < threshold)
    right = f"{best_ok[band].mean():.3f}" if band.sum() else "n/a"
    print(f"best-guess floor {floor:.2f}: {int(band.sum())} dev questions guessed, right {right}")
    for name, (acc, abst) in per.items():
        shown = "n/a" if abst is None else f"{abst:.3f}"
        print(f"  {name:16s} accuracy {acc:.3f}  abstention {shown}")
    by_kind: dict[str, float] = {}
    if kinds is not None:
        xk, yk, ok = decision_rows(kinds, idf, span_model)
        pooled = observed + kinds
        pk = np.concatenate([p, logistic(xk, w)])
        yk_all = np.concatenate([y, yk])
        owners = np.concatenate([owner, ok + len(observed)])
        kp, kok = best_per_question(len(pooled), pk, yk_all, owners)
        by_kind = fit_kind_thresholds(pooled, kp, kok, threshold)
    return decide.DecisionModel(
        tuple(float(v) for v in w),
        threshold,
        "dev splits",
        features,
        floor,
        tuple(sorted(by_kind.items())),
    )


def save(
    path: Path, features: tuple[str, ...], weights: tuple[float, ...], **extra: object
) -> None:
    payload = {
        "fitted_by": "python -m eval.calibrate (dev splits only)",
        "features": list(features),
        "weights": [round(v, 5) for v in weights],
        **extra,
    }
    path.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {path}")


def save_decision(
    path: Path, features: tuple[str, ...], model: decide.DecisionModel, **extra: object
) -> None:
    save(
        path,
        features,
        model.weights,
        threshold=round(model.threshold, 3),
        floor=model.floor,
        kind_thresholds=dict(model.kind_thresholds),
        **extra,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--corpus", action="append", type=Path)
    parser.add_argument("--shared", type=Path, default=Path("../shared/benchmarks"))
    parser.add_argument(
        "--cache", type=Path, help="Pickle of the observed dev evidence: reused when present."
    )
    parser.add_argument(
        "--kinds-cache", type=Path, help="Pickle of the observed kinds dev evidence: reused."
    )
    parser.add_argument("--judge-model", type=Path, help="GGUF of the local LLM to judge with.")
    parser.add_argument(
        "--judged", type=Path, help="Pickle of --judge-model's margins: reused when present."
    )
    args = parser.parse_args()
    corpus = args.corpus or default_corpus(args.shared)
    settings = eval_settings(Settings(torch_threads=2), corpus)
    comps = build_components(settings)
    report = IngestPipeline(settings, comps.store, comps.embedder, comps.bm25).run(
        corpus, prune=True
    )
    print(f"collection {settings.collection}: {report.summary()}")
    service = QAService(comps)
    if args.cache and args.cache.exists():
        observed = pickle.loads(args.cache.read_bytes())
    else:
        observed = observe(service, [s for s in args.sets.split(",") if s])
        if args.cache:
            args.cache.write_bytes(pickle.dumps(observed))
    span_model = fit_spans(observed, service.reader, get_extractor(settings.torch_threads))
    rounded = {k: round(v, 3) for k, v in span_model.params().items()}
    save(spans.SPAN_MODEL, spans.FEATURES, span_model.weights, **rounded)
    if args.kinds_cache and args.kinds_cache.exists():
        kinds = pickle.loads(args.kinds_cache.read_bytes())
    else:
        kinds = observe_kinds(service)
        if args.kinds_cache:
            args.kinds_cache.write_bytes(pickle.dumps(kinds))
    model = fit_decision(observed, comps.bm25.idf, span_model, kinds=kinds)
    save_decision(decide.DECISION_MODEL, decide.FEATURES, model)
    if args.judge_model is None:
        return
    if args.judged and args.judged.exists():
        judged = pickle.loads(args.judged.read_bytes())
    else:
        judged = judge_observed(observed, load_judge(args.judge_model, settings.torch_threads))
        if args.judged:
            args.judged.write_bytes(pickle.dumps(judged))
    print(f"with the local LLM's yes/no ({args.judge_model.name}):")
    model = fit_decision(observed, comps.bm25.idf, span_model, judged)
    save_decision(decide.JUDGED_MODEL, decide.JUDGED_FEATURES, model, judge=args.judge_model.name)


if __name__ == "__main__":
    main()
