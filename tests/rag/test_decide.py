"""The answer-or-abstain decision: constraint features and the fitted model's use."""

from __future__ import annotations

import pytest

from rag.decide import (
    FEATURES,
    JUDGED_FEATURES,
    AnswerDecider,
    DecisionModel,
    _order_agreement,
    feature_vector,
    judge_feature,
    judged_model,
)
from rag.extract import get_chunk_reader
from rag.read import annotate, read_chunks
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
    reader = get_chunk_reader(1)
    assert reader is not None

    def judged(question: str):  # type: ignore[no-untyped-def]
        """As the service judges: the reader reads the chunk, then the decision."""
        read = annotate([ev], read_chunks(reader, question, [ev.chunk]), ranked=2)
        return decider.judge(question, read)[0]

    right = judged("Who represented Dravia at the Harlow water talks?")
    wrong = judged("Who represented Calvania at the Harlow water talks?")
    assert right.evidence.reader_span in ("Councillor Ilse Darrow", "Ilse Darrow")
    assert right.confidence > wrong.confidence
    assert decider.answers(right) and not decider.answers(wrong)


def test_the_committed_fits_load() -> None:
    """rag/data holds fits for exactly the features the code computes (else calibrate again)."""
    from rag import decide, spans

    decision, span = decide.default_model(), spans.default_model()
    assert decision is not None and len(decision.weights) == len(decide.FEATURES)
    assert span is not None and len(span.weights) == len(spans.FEATURES)
    assert 0.0 < decision.threshold < 1.0 and span.short_threshold <= span.lead_threshold


def _judged_model(judge_weight: float) -> DecisionModel:
    """A hand-made model over ``JUDGED_FEATURES``: the cross-encoder a little, the judge a lot
    (an unjudged sentence stays under the threshold)."""
    weights = [0.0] * len(JUDGED_FEATURES)
    weights[JUDGED_FEATURES.index("bias")] = -1.0
    weights[JUDGED_FEATURES.index("ce")] = 0.1
    weights[JUDGED_FEATURES.index("llm_yes")] = judge_weight
    return DecisionModel(tuple(weights), threshold=0.5, features=JUDGED_FEATURES)


def test_the_judge_feature_is_clipped_and_scaled() -> None:
    assert judge_feature(None) == 0.0
    assert judge_feature(2.5) == 0.5 and judge_feature(-40.0) == -2.0 and judge_feature(99) == 2.0


def test_the_judge_is_asked_once_about_the_first_ranked_sentence() -> None:
    asked: list[str] = []

    def judge(question: str, ev: Evidence) -> float:
        asked.append(ev.text)
        return -8.0 if "Calvania" in question else 8.0

    decider = AnswerDecider(model=_judged_model(3.0), judge=judge)
    evidence = [
        _ev("Dravia sent Ilse Darrow to the talks.", 2.0),
        _ev("The talks were held in Harlow.", 1.0),
    ]
    right = decider.judge("Who did Dravia send to the talks?", evidence)
    wrong = decider.judge("Who did Calvania send to the talks?", evidence)
    assert asked == [evidence[0].text, evidence[0].text]
    assert right[0].features[-1] == 1.6 and right[1].features[-1] == 0.0
    assert decider.answers(right[0]) and not decider.answers(wrong[0])


def test_a_judge_needs_a_model_fitted_with_it() -> None:
    with pytest.raises(ValueError):
        AnswerDecider(model=DecisionModel((0.0,) * len(FEATURES), 0.5), judge=lambda q, e: 1.0)
    with pytest.raises(ValueError):
        AnswerDecider(model=_judged_model(1.0))


def test_without_a_judged_fit_local_llm_gets_no_judge() -> None:
    """The judged fit is for the decision's features: refitted with them (``make calibrate
    JUDGE_MODEL=...``) it is used; until then no second LLM instance is loaded for it."""
    from rag.answer.llm import local_judge
    from rag.config import Settings

    model = judged_model()
    if model is not None:  # a committed fit must be the measured kind
        assert model.judged and len(model.weights) == len(JUDGED_FEATURES)
        assert model.weights[JUDGED_FEATURES.index("llm_yes")] > 0
    else:
        assert local_judge(Settings(llm_judge=True), fitted=False) is None


def test_a_kind_with_its_own_threshold_is_decided_by_it() -> None:
    weights = [0.0] * len(FEATURES)  # every sentence at probability 0.5
    model = DecisionModel(
        tuple(weights), threshold=0.6, floor=0.6, kind_thresholds=(("reason", 0.45),)
    )
    decider = AnswerDecider(model=model)
    [judged] = decider.judge("Why did Dravia leave?", [_ev("Dravia left over the levy.", 1.0)])
    assert decider.tier(judged) == "refusal"
    assert decider.tier(judged, "reason") == "answer"
    assert decider.floor_for("reason") == 0.45 and decider.floor_for("list") == 0.6
    by_hand = AnswerDecider(model=model, threshold=0.7)  # a threshold set by hand holds for all
    assert by_hand.tier(judged, "reason") == "refusal"
