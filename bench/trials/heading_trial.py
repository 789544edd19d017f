"""How long a heading may be: evidence ranking on dev for several ``HEADING_MAX_WORDS``.

``rag.text.headings`` takes a one-line paragraph of at most ``HEADING_MAX_WORDS`` words as a
section heading, and the cross-encoder reads it before each sentence of its section. Too few
words and a long agenda item ("2. Application by Tessel Lithium Ltd for an extraction licence
at Upper Tessel") is missed; too many and a one-line paragraph of body text labels the
sentences after it. This script re-runs evidence selection on the dev questions of the sets
whose documents have sections (seed, briefings) for each value and counts the answerable
questions whose first / top-``decide_consider`` sentence holds the gold answer::

    python bench/trials/heading_trial.py --words 0,8,12,16,20,30

0 turns headings off. Test splits are never read.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from eval.calibrate import default_corpus, observe
from eval.metrics import is_correct
from eval.run import eval_settings
from rag import text
from rag.components import build_components
from rag.config import Settings
from rag.service import QAService


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--words", default="0,8,12,16,20,30")
    parser.add_argument("--sets", default="seed,briefings")
    parser.add_argument("--shared", type=Path, default=Path("../shared/benchmarks"))
    args = parser.parse_args()
    settings = eval_settings(Settings(torch_threads=2), default_corpus(args.shared))
    service = QAService(build_components(settings))
    sets = [s for s in args.sets.split(",") if s]
    print(f"{'words':>5}  {'first':>6}  {'top':>6}  (answerable dev questions: {sets})")
    for words in (int(w) for w in args.words.split(",")):
        text.HEADING_MAX_WORDS = words
        service.selector._headings.clear()  # headings found under another limit
        observed = [o for o in observe(service, sets) if o.item.answerable]
        first = sum(bool(o.evidence) and is_correct(o.evidence[0].text, o.item.answers)
                    for o in observed)  # fmt: skip
        top = sum(any(is_correct(e.text, o.item.answers) for e in o.evidence) for o in observed)
        print(f"{words:>5}  {first:>3}/{len(observed)}  {top:>3}/{len(observed)}", flush=True)


if __name__ == "__main__":
    main()
