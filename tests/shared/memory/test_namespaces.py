"""Namespaces are built from the caller's id; one from a request names the caller's own records or nothing."""

from __future__ import annotations

import pytest

from apis.shared.memory import InvalidNamespace, MemoryKind, MemoryNamespaceNotFound, namespaces
from apis.shared.memory.namespaces import Scope


def test_each_kind_has_the_references_namespace() -> None:
    assert namespaces.namespace_of(MemoryKind.PREFERENCE, "alice") == "/preferences/alice"
    assert namespaces.namespace_of(MemoryKind.FACT, "alice") == "/facts/alice"
    assert namespaces.namespace_of(MemoryKind.SUMMARY, "alice", "s1") == "/summaries/alice/s1"
    assert namespaces.namespace_of(MemoryKind.SUMMARY, "alice") == "/summaries/alice"


@pytest.mark.parametrize(
    ("namespace", "scope"),
    [
        ("/preferences/alice", Scope(MemoryKind.PREFERENCE)),
        ("/facts/alice", Scope(MemoryKind.FACT)),
        ("/summaries/alice", Scope(MemoryKind.SUMMARY)),
        ("/summaries/alice/s-1", Scope(MemoryKind.SUMMARY, "s-1")),
        ("preferences", Scope(MemoryKind.PREFERENCE)),
        ("facts", Scope(MemoryKind.FACT)),
    ],
)
def test_the_callers_own_namespaces_are_accepted(namespace: str, scope: Scope) -> None:
    assert namespaces.parse(namespace, "alice") == scope


@pytest.mark.parametrize("namespace", ["/facts/bob", "/preferences/alicia", "/summaries/bob/s-1", "/facts/bob/x"])
def test_another_users_namespace_is_not_found(namespace: str) -> None:
    with pytest.raises(MemoryNamespaceNotFound) as refused:
        namespaces.parse(namespace, "alice")
    assert refused.value.status_code == 404


@pytest.mark.parametrize(
    "namespace", ["", "/", "/facts", "/facts/", "/notes/alice", "summaries", "facts/alice", "/facts/alice/s-1"]
)
def test_anything_else_is_a_validation_error(namespace: str) -> None:
    with pytest.raises(InvalidNamespace) as refused:
        namespaces.parse(namespace, "alice")
    assert refused.value.status_code == 422
    assert refused.value.problems[0]["loc"] == ["body", "namespace"]
