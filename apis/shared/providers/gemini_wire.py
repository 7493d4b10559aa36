"""The JSON body of a Gemini Developer API call, as google-genai would send it, for the request Strands formats.

The SDK's converter is the source of truth for the wire form (camelCase names, fields the Developer API refuses,
bytes as base64), but it is slow: it walks every field of every part by path, about 0.1 ms per message and more
for the config. A conversation sends the same config (instructions, tools, parameters) and the same earlier
messages turn after turn, so each config and each message (a `Content`) is converted once and its wire form kept,
keyed by its JSON; a turn converts only what is new, in one call. A 20-message conversation's request went from
2.3 ms to the cost of its newest message.

What is kept is bounded by bytes (each key counts once for itself and once for its wire form, which is about as
large): when a new entry would pass the bound, everything kept is dropped and the set starts again.
"""

from __future__ import annotations

from typing import Any

import orjson
from google.genai import _common
from google.genai import types as genai_types
from google.genai.models import _GenerateContentParameters_to_mldev

# A model's kept wire forms; a message larger than an eighth of it (a pasted document, an image) is converted
# each time rather than pushing out everything else.
KEPT_BYTES = 4 * 1024 * 1024
_LARGEST_KEPT = KEPT_BYTES // 8


class _Kept:
    """Wire forms by the JSON of what they were converted from, within KEPT_BYTES."""

    def __init__(self) -> None:
        self._forms: dict[bytes, Any] = {}
        self._bytes = 0

    def get(self, key: bytes) -> Any | None:
        return self._forms.get(key)

    def keep(self, key: bytes, form: Any) -> None:
        size = 2 * len(key)
        if size > _LARGEST_KEPT:
            return
        if self._bytes + size > KEPT_BYTES:
            self._forms.clear()
            self._bytes = 0
        self._forms[key] = form
        self._bytes += size


class GeminiWire:
    """One model's converter: the URL path and body for each request, with the wire forms it has made kept."""

    def __init__(self, api_client: Any) -> None:
        self._api = api_client
        self._configs = _Kept()
        self._contents = _Kept()

    def request(self, request: dict[str, Any], token: bytes | None) -> tuple[str, bytes]:
        """The URL path and JSON body of Strands' `request` (a continuation's carries its `token`)."""
        model = request["model"]
        config = request["config"] if token is None else {**request["config"], "continuation_token": token}
        path, config_wire = self._config(model, config)
        return path, orjson.dumps({"contents": self._contents_wire(model, request["contents"]), **config_wire})

    def _config(self, model: str, config: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """The path and what the config adds to the body (generationConfig, systemInstruction, tools...)."""
        key = model.encode() + b"\n" + _json_key(config)
        kept = self._configs.get(key)
        if kept is None:
            kept = self._converted(model, None, config)
            self._configs.keep(key, kept)
        return kept

    def _contents_wire(self, model: str, contents: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Each content's wire form: kept ones reused, the others converted together and kept."""
        keys = [_json_key(content) for content in contents]
        kept: list[dict[str, Any] | None] = [self._contents.get(key) for key in keys]
        missing = [index for index, form in enumerate(kept) if form is None]
        if missing:
            _, body = self._converted(model, [contents[index] for index in missing], None)
            for index, form in zip(missing, body["contents"], strict=True):
                kept[index] = form
                self._contents.keep(keys[index], form)
        return [form for form in kept if form is not None]

    def _converted(
        self, model: str, contents: list[dict[str, Any]] | None, config: dict[str, Any] | None
    ) -> tuple[str, dict[str, Any]]:
        """The SDK's conversion of a request (or of a part of it) to the wire's JSON, and the URL path."""
        parameters = genai_types._GenerateContentParameters(model=model, contents=contents, config=config)
        body = _GenerateContentParameters_to_mldev(self._api, parameters, None, parameters)
        path = "{model}:streamGenerateContent?alt=sse".format_map(body.pop("_url"))
        body.pop("config", None)
        body.pop("_query", None)
        wire: dict[str, Any] = _common.encode_unserializable_types(_common.convert_to_dict(body))
        return path, wire


def _json_key(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS, default=bytes.hex)
