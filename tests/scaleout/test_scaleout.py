"""Two API processes sharing one Chroma server, and an answerer behind an OpenAI-compatible
LLM server (see docs/scale-out.md): what is written through one replica is answered by the
other, and an external LLM's answer is cited and verified like any other."""

from __future__ import annotations

import json

import httpx

from tests.api.conftest import SEED_ANSWER, SEED_QUESTION
from tests.scaleout.conftest import FAKE_KEY, FAKE_MODEL, FAKE_PARTS, FakeLLM, Replica

LIGHTHOUSE = """Quillmere Lighthouse Gets A New Keeper

The Quillmere Lighthouse on Sable Point has appointed Odile Brannock as its head keeper.
Brannock replaces Fergus Tallow, who tended the light for twenty-two years.
The lighthouse lamp was converted to solar power in 2030.
"""
LIGHTHOUSE_ID = "quillmere-lighthouse.txt"
LIGHTHOUSE_QUESTION = "Who is the head keeper of the Quillmere Lighthouse?"


def ask(replica: Replica, question: str, **extra: object) -> dict:
    response = httpx.post(
        f"{replica.url}/v1/ask", json={"question": question, **extra}, timeout=120
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_upload_on_one_replica_is_answered_by_the_other(
    replicas: tuple[Replica, Replica],
) -> None:
    a, b = replicas
    before = ask(b, LIGHTHOUSE_QUESTION, answerer="extractive")
    assert before["abstained"]  # b has built its BM25 index without the document

    stored = httpx.post(
        f"{a.url}/v1/documents",
        params={"doc_id": LIGHTHOUSE_ID},
        content=LIGHTHOUSE.encode(),
        headers={"Content-Type": "text/plain"},
        timeout=120,
    )
    assert stored.status_code == 200, stored.text
    assert stored.json()["new"] == 1

    listed = httpx.get(f"{b.url}/v1/documents", timeout=30).json()
    assert LIGHTHOUSE_ID in {d["doc_id"] for d in listed}
    after = ask(b, LIGHTHOUSE_QUESTION, answerer="extractive")
    assert not after["abstained"] and after["grounded"]
    assert "Odile Brannock" in after["answer"]
    assert after["citations"][0]["doc_id"] == LIGHTHOUSE_ID
    # b's lexical index was rebuilt from the shared store (the generation token moved): the
    # new document's chunk was found by BM25, not only by the shared dense index.
    lexical = [c for c in after["retrieved"] if c["doc_id"] == LIGHTHOUSE_ID]
    assert lexical and lexical[0]["bm25_score"] is not None

    # And the other way round: deleted on b, gone for a.
    assert httpx.delete(f"{b.url}/v1/documents/{LIGHTHOUSE_ID}", timeout=60).status_code == 200
    assert httpx.get(f"{a.url}/v1/documents/{LIGHTHOUSE_ID}", timeout=30).status_code == 404
    gone = ask(a, LIGHTHOUSE_QUESTION)
    assert gone["abstained"] or all(c["doc_id"] != LIGHTHOUSE_ID for c in gone["citations"])


def test_answer_through_an_openai_compatible_server(
    replicas: tuple[Replica, Replica], fake_llm: FakeLLM
) -> None:
    a, b = replicas
    seen = len(fake_llm.requests)
    result = ask(b, SEED_QUESTION)  # b's default answerer: openai (BRIEFQA_ANSWERER)
    assert result["answerer"] == "openai", result.get("note")
    assert result["grounded"] and not result["abstained"]
    assert SEED_ANSWER in result["answer"]
    assert "[1]" in result["answer"]
    citation = result["citations"][0]
    document = httpx.get(f"{a.url}/v1/documents/{citation['doc_id']}", timeout=30).json()
    assert document["text"][citation["start_char"] : citation["end_char"]] == citation["quote"]
    assert SEED_ANSWER in citation["quote"]

    assert len(fake_llm.requests) == seen + 1
    request = fake_llm.requests[-1]
    assert request["model"] == FAKE_MODEL
    assert request["stream"] is True and request["temperature"] == 0
    assert fake_llm.auth[-1] == f"Bearer {FAKE_KEY}"
    prompt = json.dumps(request["messages"])
    assert SEED_ANSWER in prompt and "[1]" in prompt  # the numbered evidence went to the LLM


def test_streamed_chat_relays_the_llm_tokens(
    replicas: tuple[Replica, Replica], fake_llm: FakeLLM
) -> None:
    _, b = replicas
    body = {"stream": True, "messages": [{"role": "user", "content": SEED_QUESTION}]}
    deltas: list[str] = []
    final: dict | None = None
    with httpx.stream("POST", f"{b.url}/v1/chat/completions", json=body, timeout=120) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            event = json.loads(line[6:])
            choice = event["choices"][0]
            deltas.append(choice["delta"].get("content") or "")
            if choice["finish_reason"]:
                final = event
    assert "".join(deltas) == "".join(FAKE_PARTS)  # the LLM's own tokens, as they came
    assert final is not None and final["model"] == "openai"
    assert final["grounded"] and not final["abstained"]
    assert SEED_ANSWER in final["answer"]
    assert final["citations"] and SEED_ANSWER in final["citations"][0]["quote"]
