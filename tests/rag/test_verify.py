"""Support scores separate claims backed by their quotes from invented ones."""

from __future__ import annotations

from rag.schema import Citation
from rag.verify import SupportVerifier

QUOTE = "The repairs will cost 4.2 million crowns and take about nine months."


def _cite(n: int, quote: str) -> Citation:
    return Citation(
        n=n, doc_id="d", title="t", chunk_id="d:0", start_char=0, end_char=len(quote), quote=quote
    )


def test_verbatim_and_paraphrase_are_supported_inventions_are_not(embedder) -> None:
    verifier = SupportVerifier(embedder, threshold=0.5)
    support = verifier.check(
        [
            f"4.2 million crowns: \u201c{QUOTE}\u201d [1]",
            "The repair work costs 4.2 million crowns [1].",
            "Mayor Quell resigned over a tax scandal in Dunmore [1].",
            "The repairs in Dunmore will cost 4.2 million crowns [1].",
            "The repairs will cost 4.2 million crowns.",
        ],
        [_cite(1, QUOTE)],
    )
    assert support[0].support == 1.0 and support[0].supported
    assert support[1].supported
    assert not support[2].supported and support[2].support < 0.5
    assert not support[3].supported  # a place the quote never names
    assert not support[4].supported and support[4].citations == []  # uncited is never supported
