"""Everything under DATA_DIR is private to the services' user: folders 0700, files 0600, whatever the umask.

Tests run as root, whom no mode stops, so they read the mode bits rather than trying to read as someone else.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from apis.shared.cli import main
from apis.shared.durable_files import make_private
from tests.attachments import upload
from tests.fixtures.services import Services, open_services, service_settings
from tests.helpers import local_storage_settings, parse_sse, random_session_id, random_user_id


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    """The umask most systems give a service, under which files would be 0644 unless made otherwise."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def modes_under(root: Path) -> dict[str, str]:
    """Each path under `root` (and root itself as "."), relative, with its permission bits in octal."""
    found = {".": oct(stat.S_IMODE(root.stat().st_mode))}
    for folder, folders, files in os.walk(root):
        for name in (*folders, *files):
            path = Path(folder, name)
            if not path.is_symlink():
                found[str(path.relative_to(root))] = oct(stat.S_IMODE(path.stat().st_mode))
    return found


def assert_private(root: Path) -> dict[str, str]:
    modes = modes_under(root)
    expected = {name: oct(0o700) if (root / name).is_dir() else oct(0o600) for name in modes}
    assert modes == expected
    return modes


async def use_everything(services: Services) -> None:
    """A turn and an attachment: the database, its WAL, the blob folders and the signing key all exist."""
    user, session_id = random_user_id(), random_session_id()
    turn = await services.inference.post(
        "/invocations", json={"session_id": session_id, "message": "hi"}, headers=services.auth(user)
    )
    assert parse_sse(turn.text)[-1][0] == "done"
    await upload(services, user, session_id, "notes.txt", "text/plain", b"private notes")


async def test_a_new_data_dir_and_everything_in_it_are_private(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    async with open_services(service_settings(local_storage_settings(data_dir))) as services:
        await use_everything(services)
        modes = assert_private(data_dir)

    names = set(modes)
    assert {"colloquy.sqlite3", "colloquy.sqlite3-wal", "colloquy.sqlite3-shm"} <= names
    assert {"auth", "auth/local-signing-key.pem", "auth/local-signing-key.pub.pem"} <= names
    assert any(name.startswith("blobs/attachments/") and (data_dir / name).is_file() for name in names)


def test_storage_init_makes_a_private_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STORAGE_BACKEND", "local")
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "new" / "data"))

    assert main(["storage", "init"]) == 0

    assert_private(tmp_path / "new")
    assert (tmp_path / "new" / "data" / "colloquy.sqlite3").is_file()


def loosen(root: Path) -> None:
    """What an install made before this change looks like: folders 0755, files 0644."""
    for folder, _, files in os.walk(root):
        Path(folder).chmod(0o755)
        for name in files:
            Path(folder, name).chmod(0o644)


async def test_an_existing_data_dir_open_to_others_is_made_private_at_start(tmp_path: Path) -> None:
    data_dir, outside = tmp_path / "data", tmp_path / "outside.txt"
    settings = service_settings(local_storage_settings(data_dir))
    async with open_services(settings) as services:
        await use_everything(services)
    outside.write_text("not ours")
    outside.chmod(0o644)
    (data_dir / "link-to-outside").symlink_to(outside)
    loosen(data_dir)
    assert modes_under(data_dir)["colloquy.sqlite3"] == oct(0o644)

    async with open_services(settings) as services:
        await use_everything(services)
        assert_private(data_dir)

    assert stat.S_IMODE(outside.stat().st_mode) == 0o644, "a link is not followed"


def test_a_private_or_missing_data_dir_is_left_alone(tmp_path: Path) -> None:
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    (private / "shared.txt").write_text("x")
    (private / "shared.txt").chmod(0o644)

    assert make_private(tmp_path / "missing") is False
    assert make_private(private) is False
    assert stat.S_IMODE((private / "shared.txt").stat().st_mode) == 0o644
    assert not (tmp_path / "missing").exists()
