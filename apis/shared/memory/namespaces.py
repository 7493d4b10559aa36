"""Namespaces as the reference names them: where each kind of a user's records lives, on the wire only.

Storage keys records by their owner; a namespace is how the reference's client and routes speak of a kind of
them (`/preferences/{userId}`, `/facts/{userId}`, `/summaries/{userId}/{sessionId}`). It is always built from
the caller's token. One sent in a request body is only checked against it: another user's namespace is 404, as
another user's record is.
"""

from __future__ import annotations

from dataclasses import dataclass

from apis.shared.memory.exceptions import InvalidNamespace, MemoryNamespaceNotFound
from apis.shared.memory.models import MemoryKind

_ROOTS = {MemoryKind.PREFERENCE: "preferences", MemoryKind.FACT: "facts", MemoryKind.SUMMARY: "summaries"}
_KINDS = {root: kind for kind, root in _ROOTS.items()}
# The namespaces with their placeholders, as GET /memory/status and /memory/strategies describe them.
TEMPLATES = {
    "preferences": "/preferences/{userId}",
    "facts": "/facts/{userId}",
    "summaries": "/summaries/{userId}/{sessionId}",
}


def namespace_of(kind: MemoryKind, user_id: str, session_id: str | None = None) -> str:
    """The namespace of `user_id`'s records of `kind` (a summary's names its session, when known)."""
    root = f"/{_ROOTS[kind]}/{user_id}"
    return f"{root}/{session_id}" if kind is MemoryKind.SUMMARY and session_id else root


@dataclass(frozen=True, slots=True)
class Scope:
    """What a namespace selects of the caller's records."""

    kind: MemoryKind
    session_id: str | None = None


def parse(namespace: str, user_id: str) -> Scope:
    """The caller's records that `namespace` names. Accepted: the three namespaces with the caller's own id, and
    the reference's short forms `preferences` and `facts` (the caller's). Another user's: MemoryNamespaceNotFound;
    anything else: InvalidNamespace."""
    if namespace in _KINDS and namespace != "summaries":
        return Scope(_KINDS[namespace])
    root, _, rest = namespace.removeprefix("/").partition("/")
    kind = _KINDS.get(root)
    if not namespace.startswith("/") or kind is None or not rest:
        raise InvalidNamespace(namespace)
    if rest == user_id:
        return Scope(kind)
    own = f"{user_id}/"
    if not rest.startswith(own):
        raise MemoryNamespaceNotFound(namespace)
    session_id = rest.removeprefix(own)
    if kind is not MemoryKind.SUMMARY or not session_id or "/" in session_id:
        raise InvalidNamespace(namespace)
    return Scope(kind, session_id)
