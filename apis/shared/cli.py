"""The `colloquy` command: serve the services, mint local tokens, initialise storage.

`colloquy serve` runs each service in its own process, as they run in production; the services are named by
import string, so this module (in apis.shared) never imports either of them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from functools import partial
from types import FrameType
from typing import Any

from apis.shared import heap
from apis.shared.config import AuthMode, EmbeddingProvider, Settings, load_settings
from apis.shared.errors import AppError, ConfigurationError

SERVICES = {
    "app": ("apis.app_api.main:create_app", 8000, "/health"),
    "inference": ("apis.inference_api.main:create_app", 8080, "/ping"),
}
READY_TIMEOUT_SECONDS = 30.0


def _settings_or_exit() -> Settings:
    try:
        return load_settings()
    except ConfigurationError as exc:
        print(f"colloquy: {exc.detail}", file=sys.stderr)
        raise SystemExit(2) from None


def serve_one(service: str, host: str, port: int) -> None:
    """Run one service in this process until it is stopped."""
    import uvicorn  # only the serving path needs it

    settings = _settings_or_exit()  # a bad setting gets one clear line here, not a traceback from inside uvicorn
    heap.arm()  # this process serves: it freezes its heap once what it keeps is loaded (apis/shared/heap.py)
    # No access log of uvicorn's own (our middleware logs each request by its route template, never the path,
    # which may be a credential) and no `server: uvicorn` header announcing what runs here.
    uvicorn.run(
        SERVICES[service][0],
        factory=True,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        server_header=False,
        timeout_keep_alive=settings.http.http_idle_timeout_seconds,
    )


def _answers(url: str, alive: Callable[[], bool]) -> bool:
    """Whether `url` answers within READY_TIMEOUT_SECONDS (asked every 0.2 s while `alive()`)."""
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline and alive():
        try:
            with urllib.request.urlopen(url, timeout=1):
                return True
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    return False


def _running(child: subprocess.Popen[bytes]) -> bool:
    return child.poll() is None


def _reachable_host(host: str) -> str:
    """Where a client on this machine reaches a server bound to `host` (a wildcard is not an address)."""
    return "127.0.0.1" if host in ("0.0.0.0", "::") else host


def _banner(settings: Settings, host: str, ports: dict[str, int]) -> str:
    shown = _reachable_host(host)
    app_url, inference_url = f"http://{shown}:{ports['app']}", f"http://{shown}:{ports['inference']}"
    mode = settings.auth.mode_for(settings.storage.storage_backend)
    token_hint = (
        "  TOKEN=$(.venv/bin/colloquy token --user alice --email alice@example.com)"
        "   # --roles admin for the admin routes"
        if mode is AuthMode.LOCAL
        else "  TOKEN=<a token from your identity provider>"
    )
    return "\n".join(
        [
            "",
            f"Colloquy is running (storage: {settings.storage.storage_backend.value}, auth: {mode.value}).",
            f"  app API        {app_url}   (OpenAPI pages: {app_url}/docs)",
            f"  inference API  {inference_url}",
            "Mint a token and chat:",
            token_hint,
            f'  curl -N {inference_url}/invocations -H "Authorization: Bearer $TOKEN"'
            ' -H \'Content-Type: application/json\' -d \'{"session_id": "first-chat", "message": "Hello!"}\'',
            f'  curl -s {app_url}/sessions -H "Authorization: Bearer $TOKEN"',
            "Press Ctrl+C to stop.",
            "",
        ]
    )


def serve_both(host: str, app_port: int, inference_port: int) -> int:
    """Start both services as child processes, print how to use them, and stop both when either stops."""
    settings = _settings_or_exit()
    ports = {"app": app_port, "inference": inference_port}
    children = {
        name: subprocess.Popen(
            [sys.executable, "-m", "apis.shared.cli", "serve", name, "--host", host, "--port", str(port)]
        )
        for name, port in ports.items()
    }

    def stop(signum: int, frame: FrameType | None) -> None:
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    shown = _reachable_host(host)
    ready = all(
        _answers(f"http://{shown}:{ports[name]}{SERVICES[name][2]}", partial(_running, child))
        for name, child in children.items()
    )
    if ready:
        print(_banner(settings, host, ports), flush=True)
    while all(child.poll() is None for child in children.values()):
        time.sleep(0.2)
    stop(signal.SIGTERM, None)
    codes = [child.wait() for child in children.values()]
    return next((code for code in codes if code not in (0, -signal.SIGTERM)), 0)


def parse_claim(text: str) -> tuple[str, Any]:
    """`NAME=VALUE` is a string claim, always (an employee number keeps its leading zeros); `NAME:=JSON` is
    any JSON value (a number, true, a list, an object). The name is everything before the first `=`."""
    name, separator, value = text.partition("=")
    if not separator or not name.removesuffix(":"):
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE or NAME:=JSON, got {text!r}")
    if not name.endswith(":"):
        return name, value
    try:
        return name[:-1], json.loads(value)
    except json.JSONDecodeError:
        raise argparse.ArgumentTypeError(f"{name}= needs a JSON value, got {value!r}") from None


def mint_token(args: argparse.Namespace) -> int:
    from apis.shared.auth import mint_local_token

    settings = _settings_or_exit()
    if settings.auth.mode_for(settings.storage.storage_backend) is not AuthMode.LOCAL:
        print("colloquy: tokens are minted only with AUTH_MODE=local; use your identity provider", file=sys.stderr)
        return 2
    roles = [role.strip() for role in (args.roles or "").split(",") if role.strip()]
    try:
        token = mint_local_token(
            settings=settings.auth,
            data_dir=settings.storage.data_dir,
            user_id=args.user,
            email=args.email,
            name=args.name,
            roles=roles,
            ttl_seconds=args.ttl,
            extra_claims=dict(args.claims),
        )
    except AppError as exc:
        print(f"colloquy: {exc.detail}", file=sys.stderr)
        return 2
    print(token)
    return 0


async def _initialize_and_seed(settings: Settings) -> list[str]:
    """Create the schema or the table and bucket, then seed what the services need, as they do at start."""
    from apis.shared.bootstrap import seed_storage
    from apis.shared.storage import initialize_storage, open_storage

    knowledge = settings.knowledge
    dimensions = knowledge.embedding_dimensions if knowledge.embedding_provider is not EmbeddingProvider.NONE else None
    lines = await initialize_storage(settings.storage, vector_dimensions=dimensions)
    storage = await open_storage(settings.storage)
    try:
        lines += await seed_storage(settings, storage)
    finally:
        await storage.close()
    return lines


def init_storage() -> int:
    from apis.shared.durable_files import make_private

    settings = _settings_or_exit()
    try:
        make_private(settings.storage.data_dir)
        lines = asyncio.run(_initialize_and_seed(settings))
    except AppError as exc:
        print(f"colloquy: {exc.detail}", file=sys.stderr)
        return 2
    for line in lines:
        print(line)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="colloquy", description="Colloquy chat platform backend.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="start both services, or one")
    serve.add_argument("service", nargs="?", choices=sorted(SERVICES), help="only this service")
    serve.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, help="port of the one service (default 8000 app, 8080 inference)")
    serve.add_argument("--app-port", type=int, default=SERVICES["app"][1], help="with both services")
    serve.add_argument("--inference-port", type=int, default=SERVICES["inference"][1], help="with both services")

    token = commands.add_parser("token", help="print a token both services accept (AUTH_MODE=local)")
    token.add_argument("--user", required=True, help="the user id (the token's subject)")
    token.add_argument("--email")
    token.add_argument("--name")
    token.add_argument("--roles", help="comma-separated token roles, e.g. admin,staff")
    token.add_argument("--ttl", type=int, help="lifetime in seconds (default LOCAL_TOKEN_TTL_SECONDS)")
    token.add_argument(
        "--claim",
        dest="claims",
        action="append",
        type=parse_claim,
        default=[],
        metavar="NAME=VALUE",
        help="an extra claim, repeatable: NAME=VALUE for a string, NAME:=JSON for a number, boolean, list or object",
    )

    storage = commands.add_parser("storage", help="storage administration")
    storage_commands = storage.add_subparsers(dest="storage_command", required=True)
    storage_commands.add_parser(
        "init", help="create the schema, tables and buckets, and seed the default model and roles (idempotent)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    match args.command:
        case "serve" if args.service:
            serve_one(args.service, args.host, args.port or SERVICES[args.service][1])
            return 0
        case "serve":
            if args.port:
                print("colloquy: --port needs a service name (app or inference)", file=sys.stderr)
                return 2
            return serve_both(args.host, args.app_port, args.inference_port)
        case "token":
            return mint_token(args)
        case _:
            return init_storage()


if __name__ == "__main__":
    sys.exit(main())
