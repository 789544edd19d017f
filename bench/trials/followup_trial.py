"""Follow-up trial: should the cross-encoder pick what a follow-up's pronoun refers to? (dev)

``rag.rewrite`` resolves "it" / "he" by rules (the answer's or the question's longest name).
The candidate here: rewrite the follow-up once per name of the last exchange, run retrieval
and evidence selection for each, and keep the rewrite whose best sentence the cross-encoder
scores highest. It prints, per dev follow-up of the seed and briefings sets, the rules'
rewrite and each candidate's top logit and whether its kept sentences hold the gold answer::

    python bench/trials/followup_trial.py

Result 2026-12-03 (9 dev follow-ups): the highest logit picks the right antecedent in the two
the rules get wrong ("its first full-scale plant" -> Cobalt Loop, 8.3 against 0.2; "what was
it waiting for" -> the Mineral Licensing Board) but loses one they get right ("how much will
they cost" -> Northmere, whose evidence lacks the answer), for one retrieval and one
cross-encoder pass per candidate (2-4 a follow-up). Not landed (docs/quality.md).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from eval.calibrate import default_corpus
from eval.harness import load_gold
from eval.metrics import is_correct
from eval.run import eval_settings
from eval.splits import SETS, SPLIT_DIR, load_split
from rag import rewrite
from rag.components import build_components
from rag.config import Settings
from rag.schema import last_exchange
from rag.service import QAService
from rag.spans import names_in


def resolved(question: str, antecedent: str) -> str:
    """The follow-up with its first pronoun naming ``antecedent``."""
    thing = rewrite.with_thing(question, antecedent)
    return thing if thing != question else rewrite.with_person(question, antecedent)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sets", default="seed,briefings")
    parser.add_argument("--shared", type=Path, default=Path("../shared/benchmarks"))
    args = parser.parse_args()
    settings = eval_settings(Settings(torch_threads=2), default_corpus(args.shared))
    service = QAService(build_components(settings))
    for name in (s for s in args.sets.split(",") if s):
        gold_path, _ = SETS[name]
        for item in load_gold(gold_path, load_split(SPLIT_DIR / f"{name}.json", "dev")):
            if not item.history:
                continue
            previous, answer = last_exchange(item.history)
            found = [*names_in(previous or ""), *names_in(answer)]
            found += [t for t in (rewrite.topic_of(previous or ""), rewrite.topic_of(answer)) if t]
            print(f"{item.question}  (gold {item.answers[0]!r})")
            print(f"  rules: {rewrite.standalone_question(item.question, item.history)}")
            for antecedent in dict.fromkeys(found):
                question = resolved(item.question, antecedent)
                evidence = service.selector.select(question, service.retrieve(question))
                top = evidence[0].ce_score if evidence and evidence[0].ce_score else float("nan")
                holds = any(is_correct(e.text, item.answers) for e in evidence[:3])
                print(f"  {top:7.3f}  {'holds' if holds else '-    '}  {question}")


if __name__ == "__main__":
    main()
