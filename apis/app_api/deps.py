"""Annotated dependencies for the app API's routes."""

from __future__ import annotations

from apis.shared.auth import CurrentUser
from apis.shared.dependencies import AppSettings, SessionsRepo, StorageDep

__all__ = ["AppSettings", "CurrentUser", "SessionsRepo", "StorageDep"]
