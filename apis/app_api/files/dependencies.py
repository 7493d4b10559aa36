"""The files routes' request-bound inputs: where browsers reach this app API."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from apis.app_api.deps import AppSettings
from apis.shared.files.public_address import public_base_url


async def app_api_url(request: Request, settings: AppSettings) -> str:
    """APP_API_PUBLIC_URL, or the address this request came in on (named by a trusted proxy, if any)."""
    return public_base_url(
        configured=settings.files.app_api_public_url,
        allowed_proxies=settings.files.app_api_forwarded_allow_ips,
        request_base=str(request.base_url),
        peer=request.client.host if request.client else None,
        headers=request.headers,
    )


AppApiUrl = Annotated[str, Depends(app_api_url)]
