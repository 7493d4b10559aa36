"""`fetch_url_content`: the readable text of a web page the model names, behind the SSRF guard.

The answer has the reference tool's fields (`success`, `url`, `title`, `content_type`, `text_content`,
`text_length`, `status_code`) in a `json` block, plus `final_url` (where redirects led) and `truncated`. Every
failure (a refused address, a timeout, an HTTP error, a type it cannot read) is a tool result with status
`error` and a sentence for the model: the turn goes on and the model can tell the user or try another page.
"""

from __future__ import annotations

import ssl
from typing import Any

from apis.shared.config import ToolsSettings
from apis.shared.tools.http_fetch import FetchLimits, fetch
from apis.shared.tools.network_guard import AddressPolicy, Resolver, system_resolver
from apis.shared.tools.page_text import readable_text
from apis.shared.tools.tool_results import ToolFailure, error_result, json_result

TRUNCATION_MARKER = "\n\n[… truncated: the page has more text than this tool returns]"
DESCRIPTION = (
    "Fetch a web page and return its readable text, with its title and final URL (after redirects). Use it to "
    "read an article, documentation or any page whose address you know. Only public http:// and https:// "
    "addresses can be fetched; HTML, plain text and JSON can be read; a long page is cut and marked as such."
)


def build_fetch_url_content(
    settings: ToolsSettings, *, resolve: Resolver = system_resolver, verify: ssl.SSLContext | bool = True
) -> Any:
    """The Strands tool, bound to the settings' limits (`resolve` and `verify` are for tests' loopback servers)."""
    from strands import tool

    limits = FetchLimits.from_settings(settings)
    policy = AddressPolicy.from_settings(settings)
    max_chars = settings.tools_fetch_max_chars

    @tool(description=DESCRIPTION)
    async def fetch_url_content(url: str) -> dict[str, Any]:
        """Fetch a web page and return its readable text.

        Args:
            url: the page's address, starting with http:// or https://.
        """
        try:
            page = await fetch(url, limits=limits, policy=policy, resolve=resolve, verify=verify)
            text = readable_text(page.body, page.content_type)
        except ToolFailure as failure:
            return error_result(failure.message)
        content = text.text[:max_chars]
        truncated = page.truncated or len(text.text) > max_chars
        if truncated:
            content += TRUNCATION_MARKER
        return json_result(
            {
                "success": True,
                "url": url,
                "final_url": page.url,
                "title": text.title,
                "content_type": page.content_type,
                "text_content": content,
                "text_length": len(content),
                "status_code": page.status_code,
                "truncated": truncated,
            }
        )

    return fetch_url_content
