"""Uploading PDF, DOCX, PPTX and e-mail: raw bodies, several files at once (multipart), the
page a citation quotes from, and each bad input as a 4xx that leaves the store as it was."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from rag.components import Components
from tests.fixtures import formats

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"


def upload(client: TestClient, doc_id: str, data: bytes, media: str):
    return client.post(
        "/v1/documents", params={"doc_id": doc_id}, content=data, headers={"Content-Type": media}
    )


def cited(client: TestClient, question: str, doc_id: str) -> list[dict]:
    result = client.post("/v1/ask", json={"question": question}).json()
    return [c for c in result["citations"] if c["doc_id"] == doc_id]


def test_pdf_upload_cites_the_page_it_quotes(empty_client: TestClient) -> None:
    response = upload(empty_client, "canal/report.pdf", formats.pdf_bytes(), PDF)
    assert response.status_code == 200, response.text
    doc = empty_client.get("/v1/documents/canal/report.pdf").json()
    assert doc["title"] == "Brannock Canal Authority Quarterly Report"
    assert doc["date"] == "2031-03-04" and doc["page_kind"] == "page"
    assert len(doc["page_starts"]) == 3

    citations = cited(
        empty_client, "Who is the chief engineer of the Brannock Canal?", doc["doc_id"]
    )
    assert citations, "the answer should cite the report"
    assert citations[0]["page"] == 3
    assert "Jorund Haverleigh" in citations[0]["quote"]
    start = citations[0]["start_char"]
    assert doc["page_starts"][2] <= start  # the quote really sits on page 3
    assert doc["text"][start : citations[0]["end_char"]] == citations[0]["quote"]

    question = "Who is the treasurer of the Brannock Canal Authority?"
    page2 = [c for c in cited(empty_client, question, doc["doc_id"]) if "Ferncastle" in c["quote"]]
    assert page2 and page2[0]["page"] == 2


def test_pptx_citation_names_the_slide(empty_client: TestClient) -> None:
    assert upload(empty_client, "rail.pptx", formats.pptx_bytes(), PPTX).status_code == 200
    citations = cited(empty_client, "When does the station at Pell Crossing open?", "rail.pptx")
    assert citations and citations[0]["page"] == 3
    doc = empty_client.get("/v1/documents/rail.pptx").json()
    assert doc["page_kind"] == "slide"


def test_text_documents_have_no_page(empty_client: TestClient) -> None:
    assert upload(empty_client, "memo.docx", formats.docx_bytes(), DOCX).status_code == 200
    citations = cited(
        empty_client, "Who is head keeper of the Gannet Rock lighthouse?", "memo.docx"
    )
    assert citations and citations[0]["page"] is None


def test_multipart_upload_reports_each_file(empty_client: TestClient) -> None:
    files = [
        ("files", ("report.pdf", formats.pdf_bytes(), PDF)),
        ("files", ("memo.docx", formats.docx_bytes(), "application/octet-stream")),
        ("files", ("notes", b"Gull notes\nThe gulls returned early.", "text/plain")),
        ("files", ("locked.pdf", formats.encrypted_pdf(), PDF)),
        ("files", ("sheet.xlsx", b"PK\x03\x04", "application/octet-stream")),
    ]
    response = empty_client.post("/v1/documents/files", params={"prefix": "in/"}, files=files)
    assert response.status_code == 200, response.text
    body = response.json()
    by_name = {r["name"]: r for r in body["results"]}
    assert [r["name"] for r in body["results"]] == [
        "report.pdf",
        "memo.docx",
        "notes",
        "locked.pdf",
        "sheet.xlsx",
    ]
    assert by_name["report.pdf"] == {
        "name": "report.pdf",
        "status": 200,
        "doc_ids": ["in/report.pdf"],
        "error": None,
    }
    assert by_name["memo.docx"]["doc_ids"] == ["in/memo.docx"]
    assert by_name["notes"]["doc_ids"] == ["in/notes"]  # no suffix: its media type decides
    assert by_name["locked.pdf"]["status"] == 400 and "encrypted" in by_name["locked.pdf"]["error"]
    assert by_name["sheet.xlsx"]["status"] == 415
    assert body["stored"] == 3 and "3 new" in body["summary"]
    stored = {d["doc_id"] for d in empty_client.get("/v1/documents").json()}
    assert stored == {"in/report.pdf", "in/memo.docx", "in/notes"}


def test_multipart_eml_stores_the_mail_and_its_attachments(empty_client: TestClient) -> None:
    mail = formats.eml_bytes(
        body="Timetable attached.", attachments=[("report.pdf", formats.pdf_bytes(), PDF)]
    )
    response = empty_client.post(
        "/v1/documents/files", files=[("files", ("ferry.eml", mail, "message/rfc822"))]
    )
    assert response.status_code == 200, response.text
    assert response.json()["results"][0]["doc_ids"] == ["ferry.eml", "ferry.eml/report.pdf"]
    attachment = empty_client.get("/v1/documents/ferry.eml/report.pdf").json()
    assert attachment["attached_to"] == "ferry.eml"
    assert attachment["page_kind"] == "page"


def test_nothing_inside_an_upload_replaces_a_document_it_did_not_name(
    empty_client: TestClient,
) -> None:
    """Issue 26 item 3: a JSONL attached to an e-mail, or sent in a multi-file upload, carried
    its own doc_id and silently overwrote an unrelated document. Now every document read from
    inside a container is named under it, and the original answers as before."""
    original = b"Lantern Bridge\nThe Lantern Bridge reopens on 3 June 2031, said Mayor Quell.\n"
    assert upload(empty_client, "lantern.txt", original, "text/plain").status_code == 200
    forged = b'{"doc_id": "lantern.txt", "text": "The Lantern Bridge is closed for good."}\n'
    mail = formats.eml_bytes(
        body="Records attached.", attachments=[("batch.jsonl", forged, "application/jsonl")]
    )
    response = upload(empty_client, "news.eml", mail, "message/rfc822")
    assert response.status_code == 200, response.text
    assert response.json()["doc_ids"] == ["news.eml", "news.eml/batch.jsonl/lantern.txt"]
    files = [("files", ("batch.jsonl", forged, "application/jsonl"))]
    response = empty_client.post("/v1/documents/files", params={"prefix": "inbox/"}, files=files)
    assert response.status_code == 200, response.text
    assert response.json()["results"][0]["doc_ids"] == ["inbox/batch.jsonl/lantern.txt"]
    kept = empty_client.get("/v1/documents/lantern.txt").json()
    assert "reopens on 3 June 2031" in kept["text"] and "closed" not in kept["text"]


def test_hidden_text_is_left_out_said_so_and_never_cited(empty_client: TestClient) -> None:
    """Issue 26 item 4: white and invisible text in a PDF was answered as fact."""
    response = upload(empty_client, "notice.pdf", formats.hidden_text_pdf(), PDF)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["hidden"] == {"notice.pdf": 3} and "hidden text left out" in body["summary"]
    doc = empty_client.get("/v1/documents/notice.pdf").json()
    assert "Grift" not in doc["text"] and len(doc["hidden_text"]) == 3
    answer = empty_client.post("/v1/ask", json={"question": "Who is the new chief pilot?"}).json()
    assert "Grift" not in answer["answer"]
    assert all("Grift" not in c["quote"] for c in answer["citations"])


def test_multipart_with_nothing_stored_is_400(empty_client: TestClient) -> None:
    files = [("files", ("scan.pdf", formats.pdf_bytes(text_layer=False), PDF))]
    response = empty_client.post("/v1/documents/files", files=files)
    assert response.status_code == 400
    body = response.json()
    assert "scan.pdf" in body["detail"] and "OCR" in body["detail"]
    assert body["results"][0]["name"] == "scan.pdf" and body["results"][0]["doc_ids"] == []
    bomb = [("files", ("deck.pptx", formats.zip_bomb("ppt/presentation.xml"), PPTX))]
    assert empty_client.post("/v1/documents/files", files=bomb).status_code == 413
    assert empty_client.get("/v1/documents").json() == []


BAD_INPUTS = [
    ("encrypted PDF", lambda: formats.encrypted_pdf(), PDF, 400, "encrypted PDF"),
    ("PDF without text", lambda: formats.pdf_bytes(text_layer=False), PDF, 400, "need OCR"),
    ("truncated PDF", lambda: formats.pdf_bytes()[:1500], PDF, 400, "corrupt or truncated PDF"),
    ("truncated DOCX", lambda: formats.docx_bytes()[:3000], DOCX, 400, "corrupt or truncated"),
    ("DOCX zip bomb", lambda: formats.zip_bomb(), DOCX, 413, "refused before expanding"),
    (
        "PPTX zip bomb",
        lambda: formats.zip_bomb("ppt/presentation.xml"),
        PPTX,
        413,
        "refused before expanding",
    ),
    (
        "eml with only an unsupported attachment",
        lambda: formats.eml_bytes(body=None, attachments=[("a.xlsx", b"PK\x03\x04", "app/x")]),
        "message/rfc822",
        400,
        "no readable attachment",
    ),
]


@pytest.mark.parametrize(
    ("case", "make", "media", "status", "fragment"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS]
)
def test_bad_inputs_are_4xx_and_store_nothing(
    rw_client: TestClient, case: str, make, media: str, status: int, fragment: str
) -> None:
    before = rw_client.get("/v1/documents").json()
    response = upload(rw_client, "orchard-festival.txt", make(), media)  # an id already stored
    assert response.status_code == status, (case, response.text)
    assert fragment in response.json()["detail"]
    assert rw_client.get("/v1/documents").json() == before  # nothing lost, nothing added


def finished(client: TestClient, response):
    """The upload's outcome: a large body may be a background job (202), polled to its end."""
    if response.status_code != 202:
        return response
    url = response.json()["url"]
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        job = client.get(url).json()
        if job["status"] in ("done", "failed"):
            assert job["status"] == "done", job
            return client.get(url)
        time.sleep(0.2)
    raise AssertionError(f"job {url} did not finish")


def test_500_page_pdf_is_stored_with_every_page(empty_client: TestClient) -> None:
    data = formats.long_pdf(500)
    assert len(data) < 5_000_000  # within the default body limit
    response = finished(empty_client, upload(empty_client, "survey.pdf", data, PDF))
    assert response.status_code == 200, response.text
    doc = empty_client.get("/v1/documents/survey.pdf").json()
    assert len(doc["page_starts"]) == 500
    citations = cited(empty_client, "How many beehives did district 377 count?", "survey.pdf")
    assert citations and citations[0]["page"] == 377


def test_hostile_files_cost_a_bounded_parse_and_are_413(qa_components: Components) -> None:
    """Issue 26 items 1-2: a 2,000-page PDF sharing one huge stream, a DOCX of millions of
    empty paragraphs, and any file that outruns its time in the parser child, are 413 with a
    message, and nothing is stored."""
    settings = qa_components.settings.model_copy(update={"parse_seconds": 0.001})
    with TestClient(create_app(settings, qa_components)) as client:
        slow = upload(client, "slow.pdf", formats.pdf_bytes(), PDF)
        assert slow.status_code == 413 and "took longer than" in slow.json()["detail"]
    with TestClient(create_app(qa_components.settings, qa_components)) as client:
        for doc_id, data, media, says in (
            ("bomb.pdf", formats.shared_stream_pdf(2_000, 1_000_000), PDF, "draw more than"),
            ("bomb.docx", formats.empty_paragraphs_docx(), DOCX, "paragraphs"),
        ):
            response = upload(client, doc_id, data, media)
            assert response.status_code == 413 and says in response.json()["detail"], doc_id
            assert client.get(f"/v1/documents/{doc_id}").status_code == 404
        files = [("files", ("bomb.docx", formats.empty_paragraphs_docx(), DOCX))]
        response = client.post("/v1/documents/files", files=files)
        assert response.status_code == 413 and "paragraphs" in response.json()["detail"]


def test_pdf_over_the_body_limit_is_413(qa_components: Components) -> None:
    settings = qa_components.settings.model_copy(update={"max_body_bytes": 20_000})
    with TestClient(create_app(settings, qa_components)) as client:
        response = upload(client, "big.pdf", formats.long_pdf(60), PDF)
        assert response.status_code == 413
        assert client.get("/v1/documents/big.pdf").status_code == 404


def test_date_filter_counts_undated_documents_and_can_include_them(
    empty_client: TestClient,
) -> None:
    dated = b"Ferry notice\nDUNMORE, May 6, 2031 - The Skerrin ferry now leaves at 07:15."
    undated = b"Ferry rumour\nThe Skerrin ferry will soon leave from the new Pell pier."
    assert upload(empty_client, "dated.txt", dated, "text/plain").status_code == 200
    assert upload(empty_client, "undated.txt", undated, "text/plain").status_code == 200
    listed = {d["doc_id"]: d["date"] for d in empty_client.get("/v1/documents").json()}
    assert listed == {"dated.txt": "2031-05-06", "undated.txt": None}  # the dateline's date

    question = "Where will the Skerrin ferry leave from?"
    window = {"date_from": "2031-01-01", "date_to": "2031-12-31"}
    result = empty_client.post("/v1/ask", json={"question": question, "filters": window}).json()
    assert result["undated_left_out"] == 1
    assert all(c["doc_id"] == "dated.txt" for c in result["citations"])

    both = {**window, "include_undated": True}
    result = empty_client.post("/v1/ask", json={"question": question, "filters": both}).json()
    assert result["undated_left_out"] is None
    assert any(c["doc_id"] == "undated.txt" for c in result["citations"])

    unfiltered = empty_client.post("/v1/ask", json={"question": question}).json()
    assert unfiltered["undated_left_out"] is None
