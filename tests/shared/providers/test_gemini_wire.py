"""The bound on the wire forms a Gemini model keeps (gemini_wire.py); that the bodies are the SDK's is tested
against the Gemini fake in test_gemini_stream.py."""

from __future__ import annotations

import pytest

from apis.shared.providers import gemini_wire
from apis.shared.providers.gemini_wire import _Kept


def test_forms_are_kept_until_the_bound_then_the_set_starts_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gemini_wire, "KEPT_BYTES", 400)
    monkeypatch.setattr(gemini_wire, "_LARGEST_KEPT", 50)
    kept = _Kept()
    keys = [bytes([65 + index]) * 20 for index in range(11)]  # 40 bytes each as counted

    for key in keys[:10]:
        kept.keep(key, key.lower())
    assert all(kept.get(key) == key.lower() for key in keys[:10])

    kept.keep(keys[10], "new")  # 440 bytes would pass the bound: everything older is dropped
    assert kept.get(keys[10]) == "new"
    assert [kept.get(key) for key in keys[:10]] == [None] * 10


def test_a_form_larger_than_an_eighth_of_the_bound_is_never_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gemini_wire, "_LARGEST_KEPT", 50)
    kept = _Kept()
    kept.keep(b"small", 1)
    kept.keep(b"x" * 26, 2)  # 52 bytes as counted

    assert kept.get(b"x" * 26) is None
    assert kept.get(b"small") == 1
