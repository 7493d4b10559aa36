"""Stored messages in the wire shape of `GET /sessions/{id}/messages`: the reference client's message model.

Storage keeps what a provider takes back (Converse blocks such as `{"text": ...}` or `{"toolUse": ...}`, and our
attachment references); the reference web client renders only blocks that carry a `type`, keys messages by
`id`, and names latency, pricing and citations its own way. The mapping is made here, at the app API's
boundary, and nowhere else: nothing stored changes, and a turn's history is still read from storage as is.

Blocks, in the order stored:

    {"text": t}                          {"type": "text", "text": t}
    {"toolUse": u}                       {"type": "toolUse", "toolUse": u}
    {"toolResult": r}                    {"type": "toolResult", "toolResult": r}   (its toolUseId pairs it)
    {"reasoningContent": c}              {"type": "reasoningContent", "reasoningContent": c}
    {"document"|"image": reference}      {"type": "fileAttachment", "fileAttachment": {uploadId, filename,
                                          mimeType, sizeBytes}, "document"|"image": reference}
    {"document"|"image": other}          {"type": "document"|"image", ...}
    {"<other kind>": v}                  {"type": "<other kind>", "<other kind>": v}

A block of a kind this module does not know is passed through under its own name as its `type`: the client
skips types it does not render, and nothing stored is hidden from a client that knows more. An empty block
says nothing and is left out.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict

from apis.shared.sessions import ApiModel, Message, MessageRole, MessageStatus, ModelInfo, TokenUsage

# Stored blocks that reference an uploaded file carry these; the client shows them as attachment badges.
_ATTACHMENT_KINDS = ("document", "image")
_ATTACHMENT_FIELDS = ("uploadId", "filename", "mimeType", "sizeBytes")
_KNOWN_KINDS = ("text", "toolUse", "toolResult", "reasoningContent", *_ATTACHMENT_KINDS)
# A stored pricing snapshot's names (ManagedModel.pricing) → the reference's.
_PRICES = {
    "inputPricePerMillionTokens": "input_price_per_mtok",
    "outputPricePerMillionTokens": "output_price_per_mtok",
    "cacheWritePricePerMillionTokens": "cache_write_price_per_mtok",
    "cacheReadPricePerMillionTokens": "cache_read_price_per_mtok",
}
_CITATION_FIELDS = {"assistant_id": "assistantId", "document_id": "documentId", "file_name": "fileName", "text": "text"}


class FileAttachmentRead(ApiModel):
    upload_id: str
    filename: str
    mime_type: str
    size_bytes: int


class ContentBlockRead(ApiModel):
    """One block; `type` names the field that holds it. A block of another kind keeps its own field."""

    model_config = ConfigDict(extra="allow")

    type: str
    text: str | None = None
    tool_use: dict[str, Any] | None = None
    tool_result: dict[str, Any] | None = None
    reasoning_content: dict[str, Any] | None = None
    image: dict[str, Any] | None = None
    document: dict[str, Any] | None = None
    file_attachment: FileAttachmentRead | None = None


class LatencyRead(ApiModel):
    """Whole milliseconds, as the reference counts them."""

    time_to_first_token: int | None = None
    end_to_end_latency: int | None = None


class PricingSnapshotRead(ApiModel):
    """Prices per million tokens when the message was made (its `createdAt`)."""

    input_price_per_mtok: float | None = None
    output_price_per_mtok: float | None = None
    cache_write_price_per_mtok: float | None = None
    cache_read_price_per_mtok: float | None = None
    currency: str = "USD"
    snapshot_at: str


class ModelInfoRead(ApiModel):
    model_id: str
    model_name: str
    provider: str
    pricing_snapshot: PricingSnapshotRead | None = None


class MessageMetadataRead(ApiModel):
    latency: LatencyRead | None = None
    token_usage: TokenUsage | None = None
    model_info: ModelInfoRead | None = None
    cost: float | None = None


class CitationRead(ApiModel):
    assistant_id: str
    document_id: str
    file_name: str
    text: str


class MessageRead(ApiModel):
    """A message as the reference client reads it; `messageId`, `status` and `updatedAt` are ours besides."""

    id: str
    message_id: str
    role: MessageRole
    content: list[ContentBlockRead]
    created_at: str
    updated_at: str | None = None
    status: MessageStatus
    metadata: MessageMetadataRead | None = None
    citations: list[CitationRead] | None = None


def block_read(block: dict[str, Any]) -> ContentBlockRead | None:
    """The wire form of one stored block, or None for an empty one (see the table above)."""
    if not block:
        return None
    kind = next((name for name in _KNOWN_KINDS if name in block), next(iter(block)))
    wire: dict[str, Any] = {"type": kind, **block}
    reference = block.get(kind)
    if (
        kind in _ATTACHMENT_KINDS
        and isinstance(reference, dict)
        and all(name in reference for name in _ATTACHMENT_FIELDS)
    ):
        wire["type"] = "fileAttachment"
        wire["fileAttachment"] = {name: reference[name] for name in _ATTACHMENT_FIELDS}
    return ContentBlockRead.model_validate(wire)


def _milliseconds(value: float | None) -> int | None:
    return None if value is None else round(value)


def _model_info_read(info: ModelInfo, snapshot_at: str) -> ModelInfoRead:
    prices = {_PRICES[name]: price for name, price in (info.pricing_snapshot or {}).items() if name in _PRICES}
    snapshot = PricingSnapshotRead(**prices, snapshot_at=snapshot_at) if prices else None
    return ModelInfoRead(
        model_id=info.model_id, model_name=info.model_name, provider=info.provider, pricing_snapshot=snapshot
    )


def metadata_read(message: Message) -> MessageMetadataRead | None:
    """The reference's metadata names, or None when nothing is known (a question has no usage or model)."""
    stored = message.metadata
    latency = None
    if stored.latency is not None:
        latency = LatencyRead(
            time_to_first_token=_milliseconds(stored.latency.time_to_first_byte_ms),
            end_to_end_latency=_milliseconds(stored.latency.latency_ms),
        )
    model_info = None if stored.model_info is None else _model_info_read(stored.model_info, message.created_at)
    read = MessageMetadataRead(latency=latency, token_usage=stored.token_usage, model_info=model_info, cost=stored.cost)
    return None if all(value is None for _, value in read) else read


def citation_read(stored: dict[str, Any]) -> CitationRead | None:
    """A stored citation with the reference's four fields (camelCase or snake_case), or None: then left out."""
    values = {name: stored.get(camel, stored.get(name)) for name, camel in _CITATION_FIELDS.items()}
    if not all(isinstance(value, str) for value in values.values()):
        return None
    return CitationRead(**values)


def message_read(message: Message) -> MessageRead:
    """`message` as the reference client reads it; its citations move from the metadata to the message."""
    blocks = [block_read(block) for block in message.content]
    citations = [citation_read(stored) for stored in message.metadata.citations or []]
    kept = [citation for citation in citations if citation is not None]
    return MessageRead(
        id=message.message_id,
        message_id=message.message_id,
        role=message.role,
        content=[block for block in blocks if block is not None],
        created_at=message.created_at,
        updated_at=message.updated_at,
        status=message.status,
        metadata=metadata_read(message),
        citations=kept or None,
    )
