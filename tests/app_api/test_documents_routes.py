"""An assistant's documents through HTTP on both backends: upload URL, PUT, ingestion, list, download, delete."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from apis.shared.config import KnowledgeSettings
from tests.attachments import pdf_document, put_bytes, word_document
from tests.fixtures.services import Services, open_services, service_settings
from tests.helpers import local_storage_settings, random_user_id
from tests.knowledge_bases import DOCX, MARKDOWN, PDF, add_document, new_assistant, poll_document, request_upload

DOCUMENT_FIELDS = {
    "documentId",
    "assistantId",
    "filename",
    "contentType",
    "sizeBytes",
    "status",
    "chunkCount",
    "createdAt",
    "updatedAt",
}
HANDBOOK = (
    b"# Deployments\n\nOur team deploys on Fridays after the review.\n\n# Holidays\n\nThe office closes in August."
)


async def test_markdown_docx_and_pdf_are_ingested_and_listed_in_the_reference_shape(services: Services) -> None:
    owner = random_user_id()
    assistant_id = await new_assistant(services, owner)

    markdown = await add_document(services, owner, assistant_id, "handbook.md", MARKDOWN, HANDBOOK)
    docx = await add_document(
        services, owner, assistant_id, "policy.docx", DOCX, word_document("Expenses are refunded within ten days.")
    )
    pdf = await add_document(
        services, owner, assistant_id, "report.pdf", PDF, pdf_document(["Revenue grew by nine percent."])
    )
    listed = await services.app.get(f"/assistants/{assistant_id}/documents", headers=services.auth(owner))

    for document in (markdown, docx, pdf):
        assert document["status"] == "complete", document
        assert document["chunkCount"] >= 1
        assert set(document) == DOCUMENT_FIELDS
    assert markdown["chunkCount"] == 2  # one chunk per heading's section
    assert listed.status_code == 200
    assert [d["filename"] for d in listed.json()["documents"]] == ["handbook.md", "policy.docx", "report.pdf"]
    assert "nextToken" not in listed.json()


async def test_the_upload_url_is_absolute_and_pages_follow_their_token(services: Services) -> None:
    owner = random_user_id()
    assistant_id = await new_assistant(services, owner)
    ids = [
        (await request_upload(services, owner, assistant_id, f"n{i}.md", MARKDOWN, 10))["documentId"] for i in range(3)
    ]
    first = await services.app.get(f"/assistants/{assistant_id}/documents?limit=2", headers=services.auth(owner))
    token = first.json()["nextToken"]
    second = await services.app.get(
        f"/assistants/{assistant_id}/documents?limit=2&next_token={token}", headers=services.auth(owner)
    )
    bad = await services.app.get(
        f"/assistants/{assistant_id}/documents?limit=2&next_token=nonsense", headers=services.auth(owner)
    )
    upload = await request_upload(services, owner, assistant_id, "x.md", MARKDOWN, 10)

    assert upload["uploadUrl"].startswith("http")
    assert upload["expiresIn"] == 3600
    assert [d["documentId"] for d in first.json()["documents"] + second.json()["documents"]] == ids
    assert [d["status"] for d in first.json()["documents"]] == ["uploading", "uploading"]
    assert "nextToken" not in second.json()
    assert bad.status_code == 400


@pytest.mark.parametrize(
    ("filename", "content_type", "size", "status", "code"),
    [
        ("image.png", "image/png", 10, 400, "file_type_not_allowed"),
        ("notes.md", "text/plain", 10, 400, "file_type_not_allowed"),  # a name that does not fit its type
        ("huge.md", MARKDOWN, 26 * 1024 * 1024, 413, "file_too_large"),
    ],
)
async def test_an_upload_the_knowledge_base_cannot_take_is_refused_before_any_record(
    services: Services, filename: str, content_type: str, size: int, status: int, code: str
) -> None:
    owner = random_user_id()
    assistant_id = await new_assistant(services, owner)
    response = await services.app.post(
        f"/assistants/{assistant_id}/documents/upload-url",
        json={"filename": filename, "contentType": content_type, "sizeBytes": size},
        headers=services.auth(owner),
    )
    listed = await services.app.get(f"/assistants/{assistant_id}/documents", headers=services.auth(owner))

    assert (response.status_code, response.json()["code"]) == (status, code)
    assert listed.json()["documents"] == []


async def test_a_file_without_a_declared_type_is_taken_by_its_name(services: Services) -> None:
    owner = random_user_id()
    assistant_id = await new_assistant(services, owner)
    upload = await request_upload(services, owner, assistant_id, "notes.md", "", len(HANDBOOK))
    put = await put_bytes(services, upload["uploadUrl"], HANDBOOK, "application/octet-stream")
    document = await poll_document(services, owner, assistant_id, upload["documentId"])

    assert put.status_code == 200
    assert document["status"] == "complete"


async def test_who_may_do_what_with_documents(services: Services) -> None:
    owner, friend, stranger = random_user_id(), random_user_id(), random_user_id()
    assistant_id = await new_assistant(services, owner, visibility="SHARED")
    shared = await services.app.post(
        f"/assistants/{assistant_id}/shares", json={"emails": [f"{friend}@example.com"]}, headers=services.auth(owner)
    )
    document = await add_document(services, owner, assistant_id, "handbook.md", MARKDOWN, HANDBOOK)
    base = f"/assistants/{assistant_id}/documents"
    one = f"{base}/{document['documentId']}"
    upload_body = {"filename": "a.md", "contentType": MARKDOWN, "sizeBytes": 3}

    def calls(user: str) -> list[tuple[str, str, dict[str, object] | None]]:
        return [
            ("POST", f"{base}/upload-url", upload_body),
            ("GET", base, None),
            ("GET", one, None),
            ("DELETE", one, None),
        ]

    friend_statuses = [
        (await services.app.request(m, u, json=b, headers=services.auth(friend))).status_code
        for m, u, b in calls(friend)
    ]
    stranger_statuses = [
        (await services.app.request(m, u, json=b, headers=services.auth(stranger))).status_code
        for m, u, b in calls(stranger)
    ]
    friend_download = await services.app.get(f"{one}/download", headers=services.auth(friend))
    stranger_download = await services.app.get(f"{one}/download", headers=services.auth(stranger))
    other_assistant = await new_assistant(services, stranger)
    crossed = await services.app.get(
        f"/assistants/{other_assistant}/documents/{document['documentId']}", headers=services.auth(stranger)
    )

    assert shared.status_code == 200
    assert friend_statuses == [403, 403, 403, 403]  # may use the assistant, not change its knowledge base
    assert stranger_statuses == [404, 404, 404, 404]
    assert friend_download.status_code == 200
    assert stranger_download.status_code == 404
    assert crossed.status_code == 404  # a document is found only under its own assistant


async def test_the_download_link_serves_the_bytes_to_whoever_holds_it(services: Services) -> None:
    owner = random_user_id()
    assistant_id = await new_assistant(services, owner)
    document = await add_document(services, owner, assistant_id, "hand book.md", MARKDOWN, HANDBOOK)
    link = await services.app.get(
        f"/assistants/{assistant_id}/documents/{document['documentId']}/download", headers=services.auth(owner)
    )
    url = link.json()["downloadUrl"]
    if url.startswith(str(services.app.base_url)):
        fetched = await services.app.get(url)
    else:
        async with httpx.AsyncClient() as client:
            fetched = await client.get(url)

    assert link.status_code == 200
    assert set(link.json()) == {"downloadUrl", "filename", "expiresIn"}
    assert link.json()["filename"] == "hand book.md"
    assert url.startswith("http")
    assert fetched.status_code == 200
    assert fetched.content == HANDBOOK
    assert "attachment" in fetched.headers["content-disposition"]


async def test_damaged_or_empty_documents_fail_with_a_message_for_their_owner(services: Services) -> None:
    owner = random_user_id()
    assistant_id = await new_assistant(services, owner)
    damaged = await add_document(services, owner, assistant_id, "broken.pdf", PDF, b"%PDF-1.7\n" + b"\x00" * 40)
    empty = await add_document(services, owner, assistant_id, "blank.md", MARKDOWN, b"   \n\n  ")
    mislabelled = await add_document(services, owner, assistant_id, "fake.docx", DOCX, b"not a zip at all")

    assert damaged["status"] == "failed"
    assert "damaged" in damaged["errorMessage"]
    assert empty["status"] == "failed"
    assert "no text" in empty["errorMessage"]
    assert mislabelled["status"] == "failed"
    assert "not docx" in mislabelled["errorMessage"]
    assert all("chunkCount" not in d for d in (damaged, empty, mislabelled))


async def test_deleting_a_document_removes_its_record_bytes_and_index_entries(services: Services) -> None:
    owner = random_user_id()
    assistant_id = await new_assistant(services, owner)
    kept = await add_document(services, owner, assistant_id, "kept.md", MARKDOWN, b"# Kept\n\nStays here.")
    gone = await add_document(services, owner, assistant_id, "gone.md", MARKDOWN, HANDBOOK)
    storage = services.app_asgi.state.storage
    key = f"knowledge/{assistant_id}/{gone['documentId']}"
    before = await storage.knowledge.count_entries(assistant_id, gone["documentId"])

    deleted = await services.app.delete(
        f"/assistants/{assistant_id}/documents/{gone['documentId']}", headers=services.auth(owner)
    )
    again = await services.app.delete(
        f"/assistants/{assistant_id}/documents/{gone['documentId']}", headers=services.auth(owner)
    )
    read = await services.app.get(
        f"/assistants/{assistant_id}/documents/{gone['documentId']}", headers=services.auth(owner)
    )

    assert before > 0
    assert deleted.status_code == 204
    assert again.status_code == 404
    assert read.status_code == 404
    assert await storage.knowledge.count_entries(assistant_id, gone["documentId"]) == 0
    assert await storage.blobs.size(key) is None
    assert await storage.knowledge.count_entries(assistant_id, kept["documentId"]) > 0


async def test_deleting_the_assistant_leaves_no_record_bytes_or_index_entry(services: Services) -> None:
    owner = random_user_id()
    assistant_id = await new_assistant(services, owner)
    documents = [await add_document(services, owner, assistant_id, f"doc{i}.md", MARKDOWN, HANDBOOK) for i in range(3)]
    waiting = await request_upload(services, owner, assistant_id, "never.md", MARKDOWN, 5)
    storage = services.app_asgi.state.storage

    deleted = await services.app.delete(f"/assistants/{assistant_id}", headers=services.auth(owner))

    assert deleted.status_code == 204
    assert await storage.knowledge.count_entries(assistant_id) == 0
    assert await storage.documents.count(assistant_id) == 0
    for document_id in [d["documentId"] for d in documents] + [waiting["documentId"]]:
        assert await storage.blobs.size(f"knowledge/{assistant_id}/{document_id}") is None


async def test_signed_urls_are_refused_when_forged_or_of_another_kind(local_services: Services) -> None:
    services = local_services
    owner = random_user_id()
    assistant_id = await new_assistant(services, owner)
    document = await add_document(services, owner, assistant_id, "a.md", MARKDOWN, HANDBOOK)
    link = await services.app.get(
        f"/assistants/{assistant_id}/documents/{document['documentId']}/download", headers=services.auth(owner)
    )
    download_token = link.json()["downloadUrl"].rsplit("/", 1)[1]
    upload = await request_upload(services, owner, assistant_id, "b.md", MARKDOWN, 5)
    upload_token = upload["uploadUrl"].rsplit("/", 1)[1]

    forged = await services.app.put(f"/assistants/documents/uploads/{upload_token[:-4]}AAAA", content=b"hello")
    download_as_upload = await services.app.put(f"/assistants/documents/uploads/{download_token}", content=b"hello")
    upload_as_download = await services.app.get(f"/assistants/documents/downloads/{upload_token}")
    attachment_route = await services.app.put(f"/files/uploads/{upload_token}", content=b"hello")
    too_many = await services.app.put(f"/assistants/documents/uploads/{upload_token}", content=b"hello world")
    bearer = await services.app.get(f"/assistants/documents/downloads/{services.token(owner)}")

    assert [r.status_code for r in (forged, download_as_upload, upload_as_download, attachment_route, bearer)] == [
        403
    ] * 5
    assert too_many.status_code == 413


async def test_the_limit_of_documents_per_assistant(tmp_path: Path) -> None:
    settings = service_settings(local_storage_settings(tmp_path)).model_copy(
        update={"knowledge": KnowledgeSettings.model_construct(knowledge_max_documents=2)}
    )
    async with open_services(settings) as services:
        owner = random_user_id()
        assistant_id = await new_assistant(services, owner)
        for name in ("a.md", "b.md"):
            await request_upload(services, owner, assistant_id, name, MARKDOWN, 5)
        third = await services.app.post(
            f"/assistants/{assistant_id}/documents/upload-url",
            json={"filename": "c.md", "contentType": MARKDOWN, "sizeBytes": 5},
            headers=services.auth(owner),
        )

    assert (third.status_code, third.json()["code"]) == (400, "document_limit_reached")


async def test_ingestions_and_retrievals_are_counted_in_the_metrics(local_services: Services) -> None:
    services = local_services
    owner = random_user_id()
    assistant_id = await new_assistant(services, owner)
    await add_document(services, owner, assistant_id, "handbook.md", MARKDOWN, HANDBOOK)
    await add_document(services, owner, assistant_id, "blank.md", MARKDOWN, b"  ")
    turn = await services.inference.post(
        "/invocations",
        json={"session_id": "metrics-turn", "message": "When do we deploy?", "assistant_id": assistant_id},
        headers=services.auth(owner),
    )
    app_metrics = (await services.app.get("/metrics")).text
    inference_metrics = (await services.inference.get("/metrics")).text

    assert turn.status_code == 200
    assert 'colloquy_document_ingestions_total{outcome="complete"}' in app_metrics
    assert 'colloquy_document_ingestions_total{outcome="failed"}' in app_metrics
    assert 'colloquy_retrieval_seconds_count{kind="lexical"}' in inference_metrics
