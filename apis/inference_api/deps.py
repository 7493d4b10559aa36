"""Annotated dependencies for the inference API's routes: the caller, as both services resolve it.

What the service's startup put on `app.state` (storage, settings, the quota gate, the toolbox...) the turn route
reads itself: one dependency each cost every turn FastAPI's solving of it (invocations/router.py)."""

from __future__ import annotations

from apis.shared.dependencies import CallerPermissions, CurrentUser

__all__ = ["CallerPermissions", "CurrentUser"]
