"""What each provider receives for an attachment, and the per-request limits that keep a request acceptable."""

from __future__ import annotations

import pytest

from apis.shared.config import FilesSettings
from apis.shared.files import FILE_TYPES, AttachmentKind, FileTooLarge
from apis.shared.files.service import new_record
from apis.shared.turns.provider_input import RequestBudget, model_block
from tests.attachments import tiny_pdf, tiny_png

SETTINGS = FilesSettings()


async def block_for(filename: str, type_name: str, data: bytes, budget: RequestBudget) -> dict[str, object]:
    record = new_record(
        user_id="u", session_id="s", filename=filename, file_type=FILE_TYPES[type_name], size_bytes=len(data)
    )
    return await model_block(record, FILE_TYPES[type_name], data, settings=SETTINGS, budget=budget)


async def test_bedrock_takes_five_documents_then_refuses_the_sixth_by_name() -> None:
    budget = RequestBudget("bedrock")
    for index in range(5):
        block = await block_for(f"notes {index}.txt", "txt", b"hello", budget)
        assert block == {"document": {"format": "txt", "name": f"notes {index}", "source": {"bytes": b"hello"}}}

    with pytest.raises(FileTooLarge, match=r"sixth\.txt .*at most 5 documents"):
        await block_for("sixth.txt", "txt", b"hello", budget)


async def test_bedrock_document_names_are_cleaned_and_made_distinct() -> None:
    budget = RequestBudget("bedrock")

    first = await block_for("Q3 report (final).v2.pdf", "pdf", tiny_pdf(), budget)
    second = await block_for("Q3 report (final).v2.pdf", "pdf", tiny_pdf(), budget)
    odd = await block_for("***.pdf", "pdf", tiny_pdf(), budget)

    assert first["document"]["name"] == "Q3 report (final) v2"  # type: ignore[index]
    assert second["document"]["name"] == "Q3 report (final) v2 (2)"  # type: ignore[index]
    assert odd["document"]["name"] == "document"  # type: ignore[index]


async def test_an_image_over_bedrocks_size_is_refused_but_openai_takes_it() -> None:
    big = b"\x89PNG\r\n\x1a\n" + b"\x00" * 3_800_000

    with pytest.raises(FileTooLarge, match="images of at most 3750000 bytes"):
        await block_for("photo.png", "png", big, RequestBudget("bedrock"))
    assert "image" in await block_for("photo.png", "png", big, RequestBudget("openai"))


async def test_gemini_counts_all_attachment_bytes_of_a_request() -> None:
    budget = RequestBudget("gemini")
    budget.take(AttachmentKind.DOCUMENT, 13_999_000)

    assert budget.refusal(AttachmentKind.IMAGE, 1000) is None
    assert budget.refusal(AttachmentKind.IMAGE, 1001) is not None
    with pytest.raises(FileTooLarge):
        await block_for("chart.png", "png", tiny_png() + b"\x00" * 2000, budget)


async def test_text_instead_of_a_document_uses_no_document_room() -> None:
    budget = RequestBudget("openai")

    block = await block_for("notes.md", "md", b"# Title\nbody", budget)

    assert block == {"text": '<attached_document name="notes.md">\n# Title\nbody\n</attached_document>'}
    assert (budget.documents, budget.total_bytes) == (0, 0)
