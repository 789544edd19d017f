"""The answer-or-abstain decision: constraint features and the fitted model's use."""

from __future__ import annotations

from rag.decide import FEATURES, AnswerDecider, DecisionModel, _order_agreement, feature_vector
from rag.schema import Evidence, RetrievedChunk


def _ev(text: str, ce: float, title: str = "Harbour notes", before: str = "") -> Evidence:
    chunk = RetrievedChunk(
        chunk_id="d:0", doc_id="d", title=title, text=text, start_char=0, end_char=len(text)
    )
    return Evidence(
        n=1,
        chunk=chunk,
        text=text,
        start_char=0,
        end_char=len(text),
        score=0.0,
        ce_score=ce,
        context=before,
    )


def _f(vector: tuple[float, ...], name: str) -> float:
    return vector[FEATURES.index(name)]


def test_roles_swapped_around_the_verb_disagree() -> None:
    sentence = "Ovid Marr swore fealty to Queen Thessaly of Brenn."
    assert _order_agreement("Who swore fealty to Queen Thessaly?", sentence) == 1.0
    assert _order_agreement("Who did Queen Thessaly swear fealty to?", sentence) == 0.0


def test_missing_names_and_numbers_are_seen() -> None:
    ev = _ev("Dravia was represented by Ilse Darrow at the 2031 water talks.", 5.0)
    good = feature_vector(
        "Who represented Dravia at the 2031 talks?", ev, 1, 5.0, None, lambda _: 1
    )
    swapped = feature_vector("Who represented Calvania in 2029?", ev, 1, 5.0, None, lambda _: 1)
    assert _f(good, "entity_cover") == 1.0 and _f(good, "number_missing") == 0.0
    assert _f(swapped, "entity_cover") == 0.0 and _f(swapped, "number_missing") == 1.0


def test_negation_mismatch() -> None:
    ev = _ev("The minister did not attend the summit.", 3.0)
    vector = feature_vector("Who attended the summit?", ev, 1, 3.0, None, lambda _: 1.0)
    assert _f(vector, "negation_mismatch") == 1.0


def test_decider_orders_by_confidence_and_applies_the_threshold() -> None:
    # A hand-made model that trusts entity cover only: the sentence naming Dravia wins even
    # though the cross-encoder put the other first.
    weights = [0.0] * len(FEATURES)
    weights[FEATURES.index("bias")] = -2.0
    weights[FEATURES.index("entity_cover")] = 4.0
    model = DecisionModel(tuple(weights), threshold=0.6)
    decider = AnswerDecider(model=model)
    evidence = [
        _ev("Calvania sent Ilse Darrow to the talks.", 6.0),
        _ev("Dravia sent Tomas Venn to the talks.", 4.0),
    ]
    judged = decider.judge("Who did Dravia send to the talks?", evidence)
    assert judged[0].evidence.text.startswith("Dravia")
    assert decider.answers(judged[0]) and not decider.answers(judged[1])


def test_the_committed_model_refuses_a_swapped_country() -> None:
    decider = AnswerDecider()
    ev = _ev(
        "Representing Dravia at the Harlow water talks was Councillor Ilse Darrow.",
        7.0,
        title="Harlow water talks open",
    )
    right = decider.judge("Who represented Dravia at the Harlow water talks?", [ev])[0]
    wrong = decider.judge("Who represented Calvania at the Harlow water talks?", [ev])[0]
    assert right.confidence > wrong.confidence
    assert decider.answers(right)


def test_the_committed_fits_load() -> None:
    """rag/data holds fits for exactly the features the code computes (else calibrate again)."""
    from rag import decide, spans

    decision, span = decide.default_model(), spans.default_model()
    assert decision is not None and len(decision.weights) == len(decide.FEATURES)
    assert span is not None and len(span.weights) == len(spans.FEATURES)
    assert 0.0 < decision.threshold < 1.0 and span.short_threshold <= span.lead_threshold
