"""The local signing key: created once in DATA_DIR, shared by both services, refused when damaged."""

from __future__ import annotations

import base64
import hashlib
import os
import stat
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

import apis
from apis.shared.auth import load_or_create_key_pair, local_keys
from apis.shared.errors import ConfigurationError

REPO_ROOT = Path(apis.__file__).resolve().parents[1]


def _pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _leftovers(key_dir: Path) -> list[str]:
    return sorted(path.name for path in key_dir.iterdir() if path.name.endswith(".tmp"))


def test_first_call_creates_a_private_key_only_its_owner_can_read(tmp_path: Path) -> None:
    data_dir = tmp_path / "not" / "yet" / "there"

    pair = load_or_create_key_pair(data_dir)

    assert pair.private_key_path.parent.parent == data_dir
    assert stat.S_IMODE(pair.private_key_path.stat().st_mode) == 0o600
    assert pair.public_key_path.read_bytes() == pair.public_pem
    assert isinstance(pair.private_key.curve, ec.SECP256R1)
    assert _leftovers(pair.private_key_path.parent) == []


def test_later_calls_reuse_the_key(tmp_path: Path) -> None:
    first = load_or_create_key_pair(tmp_path)
    pem = first.private_key_path.read_bytes()

    second = load_or_create_key_pair(tmp_path)

    assert second.kid == first.kid
    assert second.private_key_path.read_bytes() == pem


def test_kid_is_the_rfc7638_thumbprint_of_the_public_key(tmp_path: Path) -> None:
    # RFC 7638's worked example is an RSA key, so the EC form is recomputed here independently of the module.
    pair = load_or_create_key_pair(tmp_path)
    numbers = pair.public_key.public_numbers()

    def b64(value: int) -> str:
        return base64.urlsafe_b64encode(value.to_bytes(32, "big")).rstrip(b"=").decode()

    canonical = f'{{"crv":"P-256","kty":"EC","x":"{b64(numbers.x)}","y":"{b64(numbers.y)}"}}'
    expected = base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()
    assert pair.kid == expected


def test_a_public_key_file_that_was_removed_is_written_again(tmp_path: Path) -> None:
    pair = load_or_create_key_pair(tmp_path)
    pair.public_key_path.unlink()

    again = load_or_create_key_pair(tmp_path)

    assert again.public_key_path.read_bytes() == pair.public_pem


def test_threads_racing_on_a_fresh_directory_all_end_with_the_same_key(tmp_path: Path) -> None:
    racers = 8
    barrier = threading.Barrier(racers)

    def race() -> str:
        barrier.wait()
        return load_or_create_key_pair(tmp_path).kid

    with ThreadPoolExecutor(max_workers=racers) as pool:
        futures = [pool.submit(race) for _ in range(racers)]
        kids = {future.result() for future in futures}  # re-raises whatever a racer raised

    assert len(kids) == 1
    assert _leftovers(tmp_path / local_keys.KEY_DIRECTORY) == []


_RACER = """
import sys
from pathlib import Path
from apis.shared.auth.local_keys import load_or_create_key_pair
print("ready", flush=True)
sys.stdin.readline()
print(load_or_create_key_pair(Path(sys.argv[1])).kid, flush=True)
"""


def test_processes_racing_on_a_fresh_directory_all_end_with_the_same_key(tmp_path: Path) -> None:
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", _RACER, str(tmp_path)],
            cwd=REPO_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)  # the two services
    ]
    for racer in racers:  # every process has imported everything before any of them starts
        assert racer.stdout is not None
        assert racer.stdout.readline().strip() == "ready"
    for racer in racers:
        assert racer.stdin is not None
        racer.stdin.write("go\n")
        racer.stdin.flush()
    kids = {racer.communicate()[0].strip() for racer in racers}

    assert all(racer.returncode == 0 for racer in racers)
    assert kids == {load_or_create_key_pair(tmp_path).kid}


def test_the_loser_of_a_race_discards_its_key_and_uses_the_published_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    winner = ec.generate_private_key(ec.SECP256R1())
    real_link = os.link

    def publish_first_then_link(source: str | Path, target: str | Path) -> None:
        Path(target).write_bytes(_pem(winner))  # the other process gets there between our write and link
        real_link(source, target)

    monkeypatch.setattr(os, "link", publish_first_then_link)

    pair = load_or_create_key_pair(tmp_path)

    assert pair.kid == local_keys.key_id(winner.public_key())
    assert _leftovers(pair.private_key_path.parent) == []


def test_a_damaged_key_file_stops_the_service_with_its_path(tmp_path: Path) -> None:
    path = load_or_create_key_pair(tmp_path).private_key_path
    path.write_bytes(b"-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")

    with pytest.raises(ConfigurationError, match="damaged") as caught:
        load_or_create_key_pair(tmp_path)

    assert str(path) in caught.value.detail


def test_a_key_on_another_curve_is_refused(tmp_path: Path) -> None:
    path = tmp_path / local_keys.KEY_DIRECTORY / local_keys.PRIVATE_KEY_FILE
    path.parent.mkdir(parents=True)
    path.write_bytes(_pem(ec.generate_private_key(ec.SECP384R1())))

    with pytest.raises(ConfigurationError, match="P-256") as caught:
        load_or_create_key_pair(tmp_path)

    assert str(path) in caught.value.detail
