"""The "done when" of attachments: a PDF and a PNG uploaded through the API reach each provider's real SDK as
content blocks (the loopback fakes record what they receive), stay in history, and go with the session."""

from __future__ import annotations

import base64
import io
import zipfile
from typing import Any

import pytest

from apis.shared.storage import Storage
from tests.attachments import download, tiny_pdf, tiny_png, upload, word_document
from tests.fakes.scripts import Text, Usage
from tests.fakes.server import FakeProviderState
from tests.fixtures.providers import MODEL_IDS, PROVIDERS
from tests.fixtures.services import Services
from tests.helpers import random_session_id, random_user_id

PDF = tiny_pdf("Revenue grew nine percent")
PNG = tiny_png(3, 3)


def b64(data: bytes, provider: str = "openai") -> str:
    """The base64 each SDK sends: the Gemini SDK uses the URL-safe alphabet."""
    encode = base64.urlsafe_b64encode if provider == "gemini" else base64.b64encode
    return encode(data).decode()


def parts_sent(call_body: Any, provider: str) -> list[Any]:
    """The content parts of the last user message the provider received, in its own wire shape."""
    match provider:
        case "openai":
            message = [m for m in call_body["messages"] if m["role"] == "user"][-1]
            return list(message["content"])
        case "bedrock":
            message = [m for m in call_body["messages"] if m["role"] == "user"][-1]
            return list(message["content"])
        case _:
            content = [c for c in call_body["contents"] if c["role"] == "user"][-1]
            return list(content["parts"])


def expected_parts(provider: str) -> list[Any]:
    match provider:
        case "openai":
            return [
                {
                    "type": "file",
                    "file": {"file_data": f"data:application/pdf;base64,{b64(PDF)}", "filename": "Q3 report.pdf"},
                },
                {
                    "type": "image_url",
                    "image_url": {"detail": "auto", "format": "image/png", "url": f"data:image/png;base64,{b64(PNG)}"},
                },
            ]
        case "bedrock":
            return [
                {"document": {"format": "pdf", "name": "Q3 report", "source": {"bytes": b64(PDF)}}},
                {"image": {"format": "png", "source": {"bytes": b64(PNG)}}},
            ]
        case _:
            return [
                # The SDK writes the part's inner field in snake_case; the API accepts both spellings.
                {"inlineData": {"data": b64(PDF, provider), "mime_type": "application/pdf"}},
                {"inlineData": {"data": b64(PNG, provider), "mime_type": "image/png"}},
            ]


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_pdf_and_a_png_reach_the_model_stay_in_history_and_go_with_the_session(
    cloud: tuple[Services, dict[str, FakeProviderState]], provider: str
) -> None:
    services, fakes = cloud
    fakes[provider].script.add(Text("A chart and a report."), Usage(900, 8)).add(Text("Still both."), Usage(950, 3))
    user, session_id = random_user_id(), random_session_id()
    headers = services.auth(user)
    pdf = await upload(services, user, session_id, "Q3 report.pdf", "application/pdf", PDF)
    png = await upload(services, user, session_id, "chart.png", "image/png", PNG)
    body = {"session_id": session_id, "model_id": MODEL_IDS[provider]}

    first = await services.inference.post(
        "/invocations",
        json={**body, "message": "What do these show?", "file_upload_ids": [pdf["uploadId"], png["uploadId"]]},
        headers=headers,
    )
    second = await services.inference.post("/invocations", json={**body, "message": "And again?"}, headers=headers)

    assert first.status_code == 200, first.text
    assert second.status_code == 200, second.text
    sent = parts_sent(fakes[provider].chat_calls[0].body, provider)
    assert sent[:2] == expected_parts(provider)
    assert "What do these show?" in str(sent[2])
    again = str(fakes[provider].chat_calls[1].body)
    assert b64(PDF, provider) in again, "the next turn's history carries the files again"
    assert b64(PNG, provider) in again
    history = (await services.app.get(f"/sessions/{session_id}/messages", headers=headers)).json()["messages"]
    assert [block["type"] for block in history[0]["content"]] == ["fileAttachment", "fileAttachment", "text"]
    assert [next(k for k in ("document", "image") if k in b) for b in history[0]["content"][:2]] == [
        "document",
        "image",
    ]
    assert history[0]["content"][0]["document"]["uploadId"] == pdf["uploadId"]
    assert b64(PDF) not in str(history), "a stored message holds references, not bytes"
    assert (await download(services, user, pdf["uploadId"])).content == PDF

    assert (await services.app.delete(f"/sessions/{session_id}", headers=headers)).status_code == 204

    assert (await download(services, user, pdf["uploadId"])).status_code == 404
    assert (await download(services, user, png["uploadId"])).status_code == 404
    storage: Storage = services.app_asgi.state.storage
    assert await storage.files.list_session_files(user, session_id) == []
    assert (await services.app.get("/files/quota", headers=headers)).json()["usedBytes"] == 0


@pytest.mark.parametrize(("provider", "as_text"), [("openai", True), ("gemini", True), ("bedrock", False)])
async def test_a_document_the_provider_cannot_read_is_sent_as_its_text(
    cloud: tuple[Services, dict[str, FakeProviderState]], provider: str, as_text: bool
) -> None:
    services, fakes = cloud
    fakes[provider].script.add(Text("Noted."), Usage(100, 2))
    user, session_id = random_user_id(), random_session_id()
    docx = word_document("Minutes of the meeting", "Decision: ship on Friday")
    mime = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    uploaded = await upload(services, user, session_id, "minutes.docx", mime, docx)

    response = await services.inference.post(
        "/invocations",
        json={
            "session_id": session_id,
            "message": "Summarise",
            "model_id": MODEL_IDS[provider],
            "file_upload_ids": [uploaded["uploadId"]],
        },
        headers=services.auth(user),
    )

    assert response.status_code == 200, response.text
    sent = str(parts_sent(fakes[provider].chat_calls[0].body, provider))
    if as_text:
        assert (
            '<attached_document name=\\"minutes.docx\\">' in sent or '<attached_document name="minutes.docx">' in sent
        )
        assert "Decision: ship on Friday" in sent
        assert b64(docx, provider) not in sent
    else:
        assert b64(docx) in sent
        assert "'format': 'docx'" in sent


async def test_a_document_that_cannot_be_read_is_400_and_nothing_is_stored(
    cloud: tuple[Services, dict[str, FakeProviderState]],
) -> None:
    services, fakes = cloud
    user, session_id = random_user_id(), random_session_id()
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as broken:
        broken.writestr("word/document.xml", "this is not XML <<<")
    mime = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    uploaded = await upload(services, user, session_id, "broken.docx", mime, archive.getvalue())

    response = await services.inference.post(
        "/invocations",
        json={
            "session_id": session_id,
            "message": "Summarise",
            "model_id": MODEL_IDS["openai"],
            "file_upload_ids": [uploaded["uploadId"]],
        },
        headers=services.auth(user),
    )

    assert response.status_code == 400
    assert response.json()["code"] == "attachment_unusable"
    assert "broken.docx" in response.json()["detail"]
    assert fakes["openai"].chat_calls == []
    messages = await services.app.get(f"/sessions/{session_id}/messages", headers=services.auth(user))
    assert messages.json()["messages"] == []


async def test_earlier_files_that_no_longer_fit_bedrocks_request_become_a_note(
    cloud: tuple[Services, dict[str, FakeProviderState]],
) -> None:
    services, fakes = cloud
    fakes["bedrock"].script.add(Text("One."), Usage(10, 1)).add(Text("Two."), Usage(10, 1))
    user, session_id = random_user_id(), random_session_id()
    body = {"session_id": session_id, "model_id": MODEL_IDS["bedrock"]}
    for turn_number in (1, 2):
        ids = [
            (await upload(services, user, session_id, f"t{turn_number} n{i}.txt", "text/plain", b"note %d" % i))[
                "uploadId"
            ]
            for i in range(3)
        ]
        response = await services.inference.post(
            "/invocations",
            json={**body, "message": f"turn {turn_number}", "file_upload_ids": ids},
            headers=services.auth(user),
        )
        assert response.status_code == 200, response.text

    second = fakes["bedrock"].chat_calls[1].body
    names = [
        block["document"]["name"]
        for message in second["messages"]
        for block in message["content"]
        if "document" in block
    ]
    notes = [
        block["text"]
        for message in second["messages"]
        for block in message["content"]
        if "not sent again" in block.get("text", "")
    ]
    assert names == ["t1 n0", "t1 n1", "t2 n0", "t2 n1", "t2 n2"], (
        "this turn's files first, then earlier ones while there is room"
    )
    assert notes == ["[attachment t1 n2.txt was shared earlier; it is not sent again]"]
