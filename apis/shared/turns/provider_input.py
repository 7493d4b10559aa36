"""How an attachment is put before a given provider's model, within what that provider accepts in one request.

Images go as image blocks everywhere. A document goes as a document block where the provider reads its
format, and as its extracted text elsewhere. Providers also cap what one request may carry (Bedrock: five
documents of 4.5 MB and twenty images of 3.75 MB; Gemini: about 20 MB of inline data once base64-encoded;
OpenAI: about 50 MB of files and images): a `RequestBudget` counts what a request holds so far, so that a
turn's own attachments over a cap are a 413 naming the file before anything is stored or sent, and files of
earlier messages that no longer fit are replaced by a note rather than breaking every later turn.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import partial
from pathlib import PurePosixPath
from typing import Any

import anyio

from apis.shared.config import FilesSettings
from apis.shared.files import FILE_TYPES, AttachmentKind, AttachmentUnusable, FileRecord, FileTooLarge, FileType
from apis.shared.knowledge.text_extraction import extract_text

Block = dict[str, Any]

_ALL_DOCUMENTS = frozenset(name for name, kind in FILE_TYPES.items() if kind.kind is AttachmentKind.DOCUMENT)
# The document formats each provider reads itself (Converse `document` blocks); others get extracted text.
NATIVE_DOCUMENT_FORMATS: dict[str, frozenset[str]] = {
    "bedrock": frozenset({"pdf", "csv", "docx", "xlsx", "html", "txt", "md"}),
    "openai": frozenset({"pdf"}),
    "gemini": frozenset({"pdf"}),
    "local": _ALL_DOCUMENTS,
}
_BEDROCK_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9\s\-()\[\]]+")


@dataclass(frozen=True, slots=True)
class ProviderLimits:
    """What one request to a provider may carry as document and image blocks; None is no limit of ours."""

    max_documents: int | None = None
    max_images: int | None = None
    max_document_bytes: int | None = None
    max_image_bytes: int | None = None
    max_total_bytes: int | None = None


PROVIDER_LIMITS: dict[str, ProviderLimits] = {
    "bedrock": ProviderLimits(max_documents=5, max_images=20, max_document_bytes=4_500_000, max_image_bytes=3_750_000),
    # 20 MB of request, and base64 makes bytes a third larger.
    "gemini": ProviderLimits(max_total_bytes=14_000_000),
    "openai": ProviderLimits(max_image_bytes=20_000_000, max_total_bytes=50_000_000),
    "local": ProviderLimits(),
}


@dataclass(slots=True)
class RequestBudget:
    """What the request to one provider holds so far; documents also need distinct names on Bedrock."""

    provider: str
    documents: int = 0
    images: int = 0
    total_bytes: int = 0
    names: set[str] = field(default_factory=set)

    @property
    def limits(self) -> ProviderLimits:
        return PROVIDER_LIMITS.get(self.provider, ProviderLimits())

    def refusal(self, kind: AttachmentKind, size: int) -> str | None:
        """Why a `kind` block of `size` bytes does not fit, or None when it does."""
        limits, image = self.limits, kind is AttachmentKind.IMAGE
        count, max_count = (self.images, limits.max_images) if image else (self.documents, limits.max_documents)
        max_size = limits.max_image_bytes if image else limits.max_document_bytes
        noun = "images" if image else "documents"
        if max_size is not None and size > max_size:
            return f"{self.provider} takes {noun} of at most {max_size} bytes"
        if max_count is not None and count >= max_count:
            return f"{self.provider} takes at most {max_count} {noun} in one request"
        if limits.max_total_bytes is not None and self.total_bytes + size > limits.max_total_bytes:
            return f"{self.provider} takes at most {limits.max_total_bytes} bytes of attachments in one request"
        return None

    def take(self, kind: AttachmentKind, size: int) -> None:
        if kind is AttachmentKind.IMAGE:
            self.images += 1
        else:
            self.documents += 1
        self.total_bytes += size


async def model_block(
    record: FileRecord, file_type: FileType, data: bytes, *, settings: FilesSettings, budget: RequestBudget
) -> Block:
    """The block for one attachment; FileTooLarge if it does not fit the request, AttachmentUnusable if unreadable."""
    provider = budget.provider
    native = file_type.kind is AttachmentKind.IMAGE or file_type.name in NATIVE_DOCUMENT_FORMATS.get(provider, ())
    if native:
        refusal = budget.refusal(file_type.kind, len(data))
        if refusal is not None:
            raise FileTooLarge(f"{record.filename} ({record.upload_id}): {refusal}")
        budget.take(file_type.kind, len(data))
        if file_type.kind is AttachmentKind.IMAGE:
            return {"image": {"format": file_type.name, "source": {"bytes": data}}}
        name = _document_name(record.filename, provider, budget.names)
        return {"document": {"format": file_type.name, "name": name, "source": {"bytes": data}}}
    try:
        text = await anyio.to_thread.run_sync(
            partial(extract_text, file_type, data, max_chars=settings.files_extracted_text_max_chars)
        )
    except AttachmentUnusable as exc:
        raise AttachmentUnusable(f"{record.filename} ({record.upload_id}): {exc.detail}") from exc
    if not text.strip():
        return {"text": f"[The attached document {record.filename} contains no text that could be read.]"}
    return {"text": f'<attached_document name="{record.filename}">\n{text}\n</attached_document>'}


def _document_name(filename: str, provider: str, taken: set[str]) -> str:
    """Bedrock accepts only letters, digits, single spaces, hyphens, parentheses and brackets, and unique names."""
    if provider != "bedrock":
        name = filename
    else:
        stem = PurePosixPath(filename).stem
        name = " ".join(_BEDROCK_NAME_UNSAFE.sub(" ", stem).split()) or "document"
    candidate, counter = name, 2
    while candidate in taken:
        candidate, counter = f"{name} ({counter})", counter + 1
    taken.add(candidate)
    return candidate
