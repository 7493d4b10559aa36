"""What an image holds: its own service and not the other, exactly the packages its lock names, a user not root.

A probe runs inside the image, as the image's user, with the image's Python, and reports what that Python sees;
the lock is read here and its environment markers are evaluated for the image's platform, as pip did when it
installed it (the locks are universal: `pywin32; sys_platform == 'win32'` is named, and rightly absent).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from deploy.image_check.containers import CheckFailed, Container

# Run by the image's Python: PEP 508's environment, the distributions it can import, the service packages it
# finds, and who it runs as. Standard library only, so that it reports on the image and brings nothing in.
PROBE = """
import importlib.metadata, importlib.util, json, os, platform, sys
environment = {
    "implementation_name": sys.implementation.name,
    "implementation_version": platform.python_version(),
    "os_name": os.name,
    "platform_machine": platform.machine(),
    "platform_release": platform.release(),
    "platform_system": platform.system(),
    "platform_version": platform.version(),
    "python_full_version": platform.python_version(),
    "platform_python_implementation": platform.python_implementation(),
    "python_version": ".".join(platform.python_version_tuple()[:2]),
    "sys_platform": sys.platform,
}
distributions = {d.metadata["Name"]: d.version for d in importlib.metadata.distributions()}
services = {name: importlib.util.find_spec(name) is not None for name in ("apis.app_api", "apis.inference_api")}
json.dump({"environment": environment, "distributions": distributions, "services": services,
           "uid": os.getuid(), "prefix": sys.prefix}, sys.stdout)
"""

SERVICE_PACKAGES = {"app": "apis.app_api", "inference": "apis.inference_api"}


@dataclass(frozen=True, slots=True)
class Contents:
    """What the probe saw in one image."""

    distributions: dict[str, str]
    uid: int


def locked_packages(lock: Path, environment: dict[str, str]) -> dict[str, str]:
    """The `name==version` lines of a hashed lock whose markers hold in `environment`, by canonical name."""
    packages: dict[str, str] = {}
    for line in lock.read_text().splitlines():
        if not line or line[0] in " #-":
            continue  # hashes, `# via` comments and options continue or annotate a requirement
        requirement = Requirement(line.rstrip(" \\"))
        marker: Marker | None = requirement.marker
        if marker is not None and not marker.evaluate(dict(environment)):
            continue
        version = next(iter(requirement.specifier)).version
        packages[str(canonicalize_name(requirement.name))] = version
    return packages


def probe(container: Container) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(container.run(["python", "-c", PROBE], env={}))
    return report


def check_contents(container: Container, *, service: str, lock: Path) -> Contents:
    """The image holds its own service and not the other, exactly its lock's packages, and runs as non-root."""
    report = probe(container)
    other = next(name for name in SERVICE_PACKAGES if name != service)
    if not report["services"][SERVICE_PACKAGES[service]]:
        raise CheckFailed(f"{container.image.name}: its own service {SERVICE_PACKAGES[service]} is missing")
    if report["services"][SERVICE_PACKAGES[other]]:
        raise CheckFailed(f"{container.image.name}: holds the other service's package {SERVICE_PACKAGES[other]}")
    installed: dict[str, str] = {
        str(canonicalize_name(name)): str(version) for name, version in report["distributions"].items()
    }
    wanted = locked_packages(lock, report["environment"])
    extra = sorted(f"{name}=={version}" for name, version in installed.items() if name not in wanted)
    missing = sorted(f"{name}=={version}" for name, version in wanted.items() if name not in installed)
    wrong = sorted(
        f"{name} {installed[name]} (lock: {version})"
        for name, version in wanted.items()
        if name in installed and installed[name] != version
    )
    if extra or missing or wrong:
        raise CheckFailed(
            f"{container.image.name}: packages differ from {lock}:"
            f" not in the lock {extra}, missing {missing}, other versions {wrong}"
        )
    if report["uid"] == 0 or container.image.user in ("", "root", "0"):
        raise CheckFailed(f"{container.image.name}: runs as root (USER {container.image.user!r})")
    return Contents(distributions=installed, uid=int(report["uid"]))
