"""Settings, one pydantic-settings class per concern, read from the environment and an optional `.env`.

Nothing here is read at import: each service's composition root calls `load_settings()` once at start,
so a wrong value stops the service with a message that names the variable.
"""

from __future__ import annotations

import json
import re
from enum import StrEnum
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlsplit

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from apis.shared.errors import ConfigurationError

# An origin as a browser sends it in the Origin header: a scheme and a host, perhaps a port, nothing else.
_ORIGIN = re.compile(r"^https?://[^/\s?#]+$")


class StorageBackend(StrEnum):
    LOCAL = "local"
    DYNAMODB = "dynamodb"


class AuthMode(StrEnum):
    LOCAL = "local"
    OIDC = "oidc"


class BearerToken(StrEnum):
    """Which of the provider's tokens the web client sends as its bearer token (OIDC_BEARER_TOKEN)."""

    ACCESS_TOKEN = "access_token"
    ID_TOKEN = "id_token"


def _config(prefix: str = "") -> SettingsConfigDict:
    return SettingsConfigDict(env_prefix=prefix, env_file=".env", extra="ignore", frozen=True)


class StorageSettings(BaseSettings):
    """Where data lives. `STORAGE_BACKEND` is the one switch for every domain."""

    model_config = _config()

    storage_backend: StorageBackend = StorageBackend.LOCAL
    data_dir: Path = Path("data")
    sqlite_busy_timeout_ms: int = Field(default=5000, ge=0, le=600_000)
    dynamodb_table_name: str = Field(default="colloquy", min_length=3, max_length=255)
    s3_bucket_name: str = Field(default="colloquy-files", min_length=3, max_length=63)
    # Web origins whose browsers PUT and GET attachments straight to the bucket's presigned URLs; applied to
    # the bucket by `colloquy storage init`. Empty: no CORS rules are written.
    s3_cors_origins: str = ""
    # The dynamodb backend's knowledge-base vectors: an S3 Vectors bucket (made by `colloquy storage init`) with one
    # index per vector dimension, named <S3_VECTORS_INDEX_PREFIX>-<dimension> and made on first use.
    s3_vectors_bucket_name: str = Field(default="colloquy-vectors", min_length=3, max_length=63)
    s3_vectors_index_prefix: str = Field(default="knowledge", min_length=3, max_length=50)
    # S3 Vectors' endpoint, for a test server (moto has no QueryVectors); AWS_ENDPOINT_URL's otherwise.
    s3_vectors_endpoint_url: str | None = None
    aws_region: str = "us-east-1"
    # The endpoint of a moto server or LocalStack; boto3 reads the same variable on its own.
    aws_endpoint_url: str | None = None
    storage_retry_after_seconds: int = Field(default=2, ge=1, le=3600)
    # GET /health answers 503 `degraded` while storage cannot take writes (docs/decisions.md): with the local
    # backend when DATA_DIR has less free space than this (0: not checked), and on either backend for this
    # long after a write failed, unless another write succeeds first.
    storage_min_free_bytes: int = Field(default=64 * 1024 * 1024, ge=0)
    storage_write_failure_seconds: float = Field(default=60.0, gt=0, le=86_400)

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "colloquy.sqlite3"

    @property
    def cors_origins(self) -> list[str]:
        return [origin.strip() for origin in self.s3_cors_origins.split(",") if origin.strip()]

    @property
    def blobs_dir(self) -> Path:
        return self.data_dir / "blobs"


class AuthSettings(BaseSettings):
    """How tokens are checked. Local mode signs with a key pair kept in `DATA_DIR`."""

    model_config = _config()

    # None means: local with the local storage backend, oidc with DynamoDB (a fleet shares no key file).
    auth_mode: AuthMode | None = None
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    # Absent: discovered from the issuer's /.well-known/openid-configuration.
    oidc_jwks_url: str | None = None
    oidc_leeway_seconds: int = Field(default=30, ge=0, le=600)
    oidc_algorithms: str = "RS256,ES256"
    oidc_user_id_claim: str = "sub"
    oidc_email_claim: str = "email"
    oidc_name_claim: str = "name"
    oidc_roles_claim: str = "roles"
    oidc_picture_claim: str = "picture"
    local_token_issuer: str = "colloquy-local"
    local_token_audience: str = "colloquy"
    local_token_ttl_seconds: int = Field(default=8 * 3600, ge=60)
    # Token roles that make a user a system_admin; the seeder keeps the system_admin role mapped from them.
    admin_jwt_roles: str = "admin"
    # How long a process reuses the app roles it read before reading them again (a change made through the
    # same process applies at once); and how often at most a user's profile is re-synced from their token.
    permission_cache_seconds: float = Field(default=30.0, ge=0, le=3600)
    user_sync_interval_seconds: float = Field(default=300.0, ge=0, le=86_400)
    # Signing in from the browser: GET /auth/login, POST /auth/token, POST /auth/refresh, GET /auth/logout
    # (docs/decisions.md). In OIDC mode it is offered once OIDC_CLIENT_ID is set, against the issuer's discovery
    # document; absent OIDC_CLIENT_SECRET, the app API is a public client (PKCE alone).
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    # The web client's callback page, registered with the provider: sign-in sends the browser nowhere else.
    oidc_redirect_uri: str | None = None
    oidc_scopes: str = "openid profile email offline_access"
    # Where the provider sends the browser after signing out, when the client names no page of its own origin.
    oidc_post_logout_redirect_uri: str | None = None
    # Which of the provider's tokens the client keeps as its bearer token: the access token (as the reference),
    # or the ID token where access tokens are opaque or meant for another API. OIDC_AUDIENCE must match it.
    oidc_bearer_token: BearerToken = BearerToken.ACCESS_TOKEN
    # Signs the state that carries a sign-in from /auth/login to /auth/token: the same on every replica, at least
    # 32 characters. Absent: derived from OIDC_CLIENT_SECRET.
    oidc_state_secret: str | None = None
    # Local mode: a page where any typed user name gets a token, for trying a web client. Off unless enabled.
    local_signin_enabled: bool = False
    # The web client's callback page (e.g. http://localhost:4200/auth/callback): the only place it redirects to.
    local_signin_redirect_uri: str | None = None
    # Comma-separated token roles of every local sign-in (none by default), and a JSON object of extra claims
    # for its token (claims a web client insists on); how long its refresh token lasts.
    local_signin_roles: str = ""
    local_signin_claims: str = "{}"
    local_signin_refresh_ttl_seconds: int = Field(default=7 * 86_400, ge=60)

    def mode_for(self, backend: StorageBackend) -> AuthMode:
        if self.auth_mode is not None:
            return self.auth_mode
        return AuthMode.LOCAL if backend is StorageBackend.LOCAL else AuthMode.OIDC

    @property
    def admin_roles(self) -> list[str]:
        return [name.strip() for name in self.admin_jwt_roles.split(",") if name.strip()]

    @property
    def algorithms(self) -> list[str]:
        return [name.strip() for name in self.oidc_algorithms.split(",") if name.strip()]

    @property
    def oidc_scope(self) -> str:
        return " ".join(self.oidc_scopes.split())

    @property
    def signin_roles(self) -> list[str]:
        return [name.strip() for name in self.local_signin_roles.split(",") if name.strip()]

    @property
    def signin_claims(self) -> dict[str, Any]:
        claims: dict[str, Any] = json.loads(self.local_signin_claims)
        return claims

    @model_validator(mode="after")
    def _check_sign_in(self) -> Self:
        from apis.shared.auth.tokens import MINTED_CLAIMS

        if self.oidc_client_id:
            _require_url(self.oidc_redirect_uri, "OIDC_REDIRECT_URI (needed with OIDC_CLIENT_ID)")
            if not (self.oidc_state_secret or self.oidc_client_secret):
                raise ValueError("OIDC_CLIENT_ID needs OIDC_STATE_SECRET (or OIDC_CLIENT_SECRET) to sign its states")
        if self.oidc_state_secret is not None and len(self.oidc_state_secret) < 32:
            raise ValueError("OIDC_STATE_SECRET must be at least 32 characters")
        if self.oidc_post_logout_redirect_uri is not None:
            _require_url(self.oidc_post_logout_redirect_uri, "OIDC_POST_LOGOUT_REDIRECT_URI")
        if "openid" not in self.oidc_scopes.split():
            raise ValueError("OIDC_SCOPES must include openid")
        if self.local_signin_enabled:
            _require_url(self.local_signin_redirect_uri, "LOCAL_SIGNIN_REDIRECT_URI (needed with LOCAL_SIGNIN_ENABLED)")
        try:
            claims = json.loads(self.local_signin_claims)
        except ValueError as exc:
            raise ValueError("LOCAL_SIGNIN_CLAIMS must be a JSON object") from exc
        if not isinstance(claims, dict):
            raise ValueError("LOCAL_SIGNIN_CLAIMS must be a JSON object")
        reserved = sorted((MINTED_CLAIMS | {"preferred_username"}).intersection(claims))
        if reserved:
            raise ValueError(f"LOCAL_SIGNIN_CLAIMS may not set {', '.join(reserved)}: the sign-in writes them")
        return self


def _require_url(value: str | None, variable: str) -> None:
    """An absolute http(s) URL without a fragment (OAuth 2.0 redirect URIs may not carry one)."""
    parts = urlsplit(value or "")
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.fragment:
        raise ValueError(f"{variable} must be an absolute http(s) URL without a fragment")


class HttpSettings(BaseSettings):
    """What both services tell browsers. A web client served from another origin (the reference Angular client
    on its own port or host) can call them only when its origin is listed here."""

    model_config = _config()

    # Comma-separated origins, each `scheme://host[:port]` as a browser sends it (no path, no trailing slash),
    # or `*` for any origin. Empty: no CORS headers at all, and a preflight is a 405 as before.
    cors_allowed_origins: str = ""
    # How long a client's idle keep-alive connection stays open. Longer than the clients' own expiry (httpx 5 s,
    # load balancers 60 s) so that the client closes first: with uvicorn's 5 s a client reusing a connection at the
    # moment the server dropped it lost its request (bench.turns: 6 of 4,000 turns after a burst, ReadError).
    http_idle_timeout_seconds: int = Field(default=75, ge=1, le=3600)

    @property
    def cors_origins(self) -> list[str]:
        return [origin.strip() for origin in self.cors_allowed_origins.split(",") if origin.strip()]

    @model_validator(mode="after")
    def _check_origins(self) -> Self:
        wrong = [origin for origin in self.cors_origins if origin != "*" and not _ORIGIN.fullmatch(origin)]
        if wrong:
            raise ValueError(
                f"CORS_ALLOWED_ORIGINS holds what a browser never sends as its origin: {', '.join(wrong)}"
                " (write scheme://host[:port], e.g. http://localhost:4200)"
            )
        return self


class ObservabilitySettings(BaseSettings):
    model_config = _config()

    log_level: str = Field(default="INFO", pattern="^(DEBUG|INFO|WARNING|ERROR|CRITICAL)$")
    log_format: str = Field(default="json", pattern="^(json|text)$")


class InferenceSettings(BaseSettings):
    """The chat turn (which model a turn uses is the managed catalogue's business, not a setting)."""

    model_config = _config()

    local_provider_delta_words: int = Field(default=3, ge=1, le=100)
    # Pause between the offline model's deltas, to see a client behave as with a real, slower model.
    local_provider_delta_delay_ms: int = Field(default=0, ge=0, le=10_000)
    # The managed model that writes session titles; unset: the catalogue's default model.
    title_model_id: str | None = None
    # How many of the newest stored messages a turn sends to the model as its history.
    history_max_messages: int = Field(default=100, ge=0, le=10_000)
    # A comment line goes to the client after this long without a frame (API.md: at least every 15 s).
    keepalive_seconds: float = Field(default=15.0, gt=0, le=15.0)
    # How long a turn waits for the provider's first event before answering 200 and streaming: a failure
    # within this time is a plain 502 (or 503), a later one a `stream_error` frame.
    provider_first_event_wait_seconds: float = Field(default=10.0, ge=0, le=120)
    # A streaming answer is written to storage at most this often while it grows: a crash of the process
    # loses at most the text of the last interval (plus the write in flight).
    turn_checkpoint_seconds: float = Field(default=1.0, gt=0, le=60)
    # An answer whose checkpoint is older than this is taken as abandoned by a dead process and marked
    # `interrupted` by the next reader. A live turn rewrites its checkpoint at least every third of this.
    turn_abandoned_after_seconds: float = Field(default=30.0, gt=0, le=3600)
    # Model calls (turns, titles, test chats) a user may start in any sliding minute, per process (0: no limit).
    turn_rate_limit_per_minute: int = Field(default=30, ge=0, le=100_000)
    # How long a process keeps a user's resolved quota tier: a change of tier or assignment applies within it.
    quota_cache_seconds: float = Field(default=30.0, ge=0, le=3600)

    @model_validator(mode="after")
    def _live_turns_outpace_the_abandonment_bound(self) -> Self:
        if self.turn_abandoned_after_seconds < 3 * self.turn_checkpoint_seconds:
            raise ValueError(
                "TURN_ABANDONED_AFTER_SECONDS must be at least three times TURN_CHECKPOINT_SECONDS,"
                " or a live turn could be taken for an abandoned one"
            )
        return self


class ProviderSettings(BaseSettings):
    """Model providers. Each SDK's own variables work too: the AWS credential chain, OPENAI_API_KEY, ..."""

    model_config = _config()

    # Bedrock is configured when the AWS SDK finds credentials; the region may differ from storage's.
    bedrock_region: str | None = None
    openai_api_key: str | None = None
    # Any OpenAI-compatible server (Ollama, vLLM, LiteLLM...) through its base URL.
    openai_base_url: str | None = None
    gemini_api_key: str | None = Field(default=None, validation_alias=AliasChoices("GEMINI_API_KEY", "GOOGLE_API_KEY"))
    # Gemini's endpoint, for a proxy or a test server; the SDK's default otherwise.
    gemini_base_url: str | None = None
    provider_timeout_seconds: float = Field(default=30.0, gt=0, le=600)


class FilesSettings(BaseSettings):
    """Chat attachments: which types, how large, and how long their upload and download URLs live."""

    model_config = _config()

    # Names from: pdf, docx, xlsx, txt, md, html, csv, png, jpeg, gif, webp.
    files_allowed_types: str = "pdf,docx,xlsx,txt,md,html,csv,png,jpeg,gif,webp"
    files_max_file_bytes: int = Field(default=10 * 1024 * 1024, ge=1)
    files_max_message_bytes: int = Field(default=25 * 1024 * 1024, ge=1)
    files_max_per_message: int = Field(default=5, ge=1, le=20)
    files_max_user_bytes: int = Field(default=1024 * 1024 * 1024, ge=1)
    files_upload_url_seconds: int = Field(default=900, ge=30, le=7 * 86_400)
    files_download_url_seconds: int = Field(default=300, ge=10, le=7 * 86_400)
    # Text extracted from a document for a provider that cannot read the document itself stops here.
    files_extracted_text_max_chars: int = Field(default=200_000, ge=1000)
    # Uploads never completed (or failed) are deleted, bytes and record, once this old; the app API looks
    # for them every FILES_SWEEP_INTERVAL_SECONDS (0: never).
    files_stale_upload_seconds: int = Field(default=86_400, ge=60)
    files_sweep_interval_seconds: float = Field(default=3600.0, ge=0)
    # The app API's address as browsers reach it (https://chat.example.edu/api): local upload URLs start with it.
    # Unset: the address each request came in on, which X-Forwarded-Proto, -Host and -Prefix may name when the
    # connection comes from a proxy listed in APP_API_FORWARDED_ALLOW_IPS (addresses, networks or *; none).
    app_api_public_url: str | None = None
    app_api_forwarded_allow_ips: str = ""

    @property
    def allowed_types(self) -> list[str]:
        return [name.strip().lower() for name in self.files_allowed_types.split(",") if name.strip()]

    @model_validator(mode="after")
    def _check_types(self) -> Self:
        from apis.shared.files.file_types import ALL_TYPE_NAMES

        unknown = sorted(set(self.allowed_types) - set(ALL_TYPE_NAMES))
        if unknown:
            raise ValueError(f"FILES_ALLOWED_TYPES names unknown types: {', '.join(unknown)}")
        if self.files_stale_upload_seconds < self.files_upload_url_seconds:
            raise ValueError("FILES_STALE_UPLOAD_SECONDS must not be shorter than FILES_UPLOAD_URL_SECONDS")
        return self

    @model_validator(mode="after")
    def _check_public_address(self) -> Self:
        from apis.shared.files.public_address import parse_allowed_proxies, parse_public_url

        if self.app_api_public_url:
            parse_public_url(self.app_api_public_url)
        parse_allowed_proxies(self.app_api_forwarded_allow_ips)
        return self


class EmbeddingProvider(StrEnum):
    """Who embeds knowledge-base chunks; NONE: lexical search only (works offline, no model needed)."""

    NONE = "none"
    BEDROCK = "bedrock"
    OPENAI = "openai"
    GEMINI = "gemini"


class KnowledgeSettings(BaseSettings):
    """Assistants' knowledge bases: document limits, chunking, retrieval, embeddings and the vector store."""

    model_config = _config()

    # Names from FILES_ALLOWED_TYPES' list that have text: pdf, docx, xlsx, txt, md, html, csv.
    knowledge_allowed_types: str = "pdf,docx,xlsx,txt,md,html,csv"
    knowledge_max_document_bytes: int = Field(default=25 * 1024 * 1024, ge=1)
    knowledge_max_documents: int = Field(default=100, ge=1, le=10_000)
    knowledge_upload_url_seconds: int = Field(default=3600, ge=30, le=7 * 86_400)
    knowledge_download_url_seconds: int = Field(default=3600, ge=10, le=7 * 86_400)
    # A document's text past this many characters is not indexed (and the document says so in errorDetails).
    knowledge_max_document_chars: int = Field(default=5_000_000, ge=1000)
    # Chunks: cut at headings and paragraphs, at most this many characters, each repeating the end of the last.
    knowledge_chunk_chars: int = Field(default=1200, ge=200, le=20_000)
    knowledge_chunk_overlap_chars: int = Field(default=200, ge=0, le=5000)
    # Retrieval: this many chunks at most, within this many characters of the model's context.
    knowledge_top_k: int = Field(default=5, ge=1, le=50)
    knowledge_context_max_chars: int = Field(default=8000, ge=500, le=200_000)
    # Ingestion of documents whose bytes arrived but that no worker took (a restart, another instance) is looked
    # for every this many seconds (0: never); one left in chunking or embedding this long is taken over.
    knowledge_sweep_interval_seconds: float = Field(default=30.0, ge=0)
    knowledge_ingestion_lease_seconds: float = Field(default=600.0, ge=10)
    knowledge_max_ingestion_attempts: int = Field(default=3, ge=1, le=20)
    knowledge_ingestion_concurrency: int = Field(default=2, ge=1, le=32)
    embedding_provider: EmbeddingProvider = EmbeddingProvider.NONE
    # Unset: the provider's usual model (amazon.titan-embed-text-v2:0, text-embedding-3-small, gemini-embedding-001).
    embedding_model_id: str | None = None
    embedding_dimensions: int = Field(default=1024, ge=8, le=4096)
    embedding_batch_size: int = Field(default=32, ge=1, le=2048)
    # What the embedding model costs, in USD per million input tokens (Titan v2 and text-embedding-3-small: 0.02).
    embedding_price_per_million_tokens: float = Field(default=0.0, ge=0, le=1000)

    @property
    def allowed_types(self) -> list[str]:
        return [name.strip().lower() for name in self.knowledge_allowed_types.split(",") if name.strip()]

    @model_validator(mode="after")
    def _check(self) -> Self:
        from apis.shared.files.file_types import ALL_TYPE_NAMES

        unknown = sorted(set(self.allowed_types) - set(ALL_TYPE_NAMES))
        if unknown:
            raise ValueError(f"KNOWLEDGE_ALLOWED_TYPES names unknown types: {', '.join(unknown)}")
        if self.knowledge_chunk_overlap_chars * 2 > self.knowledge_chunk_chars:
            raise ValueError("KNOWLEDGE_CHUNK_OVERLAP_CHARS must be at most half of KNOWLEDGE_CHUNK_CHARS")
        return self


class ToolsSettings(BaseSettings):
    """The tools a turn may offer: the network tools' limits, the web search service and MCP servers."""

    model_config = _config()

    # fetch_url_content refuses loopback and private addresses unless this is true (tests allow them to reach
    # their fakes); link-local and cloud metadata addresses are refused whatever it says. The search service is
    # the operator's own choice and is not judged.
    tools_allow_private_networks: bool = False
    tools_fetch_timeout_seconds: float = Field(default=15.0, gt=0, le=120)
    tools_fetch_max_bytes: int = Field(default=2 * 1024 * 1024, ge=1024, le=50 * 1024 * 1024)
    tools_fetch_max_redirects: int = Field(default=5, ge=0, le=20)
    # The readable text a fetched page gives the model, at most.
    tools_fetch_max_chars: int = Field(default=40_000, ge=1000, le=1_000_000)
    # A search service with a JSON HTTP API (SearXNG's /search?format=json by default); unset: no web search tool.
    web_search_url: str | None = None
    web_search_api_key: str | None = None
    web_search_max_results: int = Field(default=5, ge=1, le=20)
    # MCP servers' credentials are encrypted at rest with this key (Fernet, urlsafe base64 of 32 bytes). Unset
    # with the local backend: a key generated in DATA_DIR at first use; the DynamoDB backend requires it.
    mcp_secrets_key: str | None = None
    # Every registered server's tools are discovered again this often (0: only on demand).
    mcp_sync_interval_seconds: float = Field(default=3600.0, ge=0)
    mcp_connect_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    mcp_call_timeout_seconds: float = Field(default=60.0, gt=0, le=900)


class MemoryBackend(StrEnum):
    # The store STORAGE_BACKEND picks (SQLite or DynamoDB).
    STORAGE = "storage"
    # An Amazon Bedrock AgentCore Memory resource, through the AWS SDK (AGENTCORE_MEMORY_ID).
    AGENTCORE = "agentcore"


# AgentCore's own rule for a memory's id (or its ARN), checked at start rather than on the first request.
AGENTCORE_MEMORY_ID_PATTERN = (
    r"^(arn:(aws|aws-cn|aws-us-gov):bedrock-agentcore:[a-z0-9-]+:[0-9]{12}:memory/)?"
    r"[a-zA-Z][a-zA-Z0-9-_]{0,99}-[a-zA-Z0-9]{10}$"
)


class MemorySettings(BaseSettings):
    """Long-term memory: the deployment switch, the model that extracts, what a turn recalls, and its limits."""

    model_config = _config()

    # Off: nothing is extracted or recalled, and the memory routes say memory is unavailable.
    memory_enabled: bool = True
    # The managed model that extracts preferences and facts after a turn; unset: the offline `local` model,
    # which extracts deterministically (statements such as "my team deploys on Fridays" or "I prefer ...").
    memory_model_id: str | None = None
    # What a turn recalls (the reference's defaults): preferences and facts, each with a relevance floor.
    memory_recall_preferences: int = Field(default=5, ge=0, le=50)
    memory_recall_preferences_min_score: float = Field(default=0.5, ge=0, le=1)
    memory_recall_facts: int = Field(default=10, ge=0, le=50)
    memory_recall_facts_min_score: float = Field(default=0.3, ge=0, le=1)
    # The recalled memories' share of the model's context, in tokens (four characters a token).
    memory_recall_max_tokens: int = Field(default=1000, ge=50, le=20_000)
    memory_max_records_per_user: int = Field(default=1000, ge=10, le=100_000)
    # Where the records live; the per-user switch stays in the store STORAGE_BACKEND picks either way.
    memory_backend: MemoryBackend = MemoryBackend.STORAGE
    agentcore_memory_id: str | None = Field(default=None, pattern=AGENTCORE_MEMORY_ID_PATTERN)
    # AgentCore's data plane in AWS_REGION unless set (a VPC endpoint, or a stub in tests).
    agentcore_memory_endpoint_url: str | None = None

    @model_validator(mode="after")
    def _agentcore_needs_a_memory(self) -> Self:
        if self.memory_backend is MemoryBackend.AGENTCORE and not self.agentcore_memory_id:
            raise ValueError("MEMORY_BACKEND=agentcore needs AGENTCORE_MEMORY_ID (the AgentCore Memory's id or ARN)")
        return self


class Settings(BaseModel):
    """Everything a service reads at start."""

    model_config = ConfigDict(frozen=True)

    storage: StorageSettings = Field(default_factory=StorageSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    observability: ObservabilitySettings = Field(default_factory=ObservabilitySettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    inference: InferenceSettings = Field(default_factory=InferenceSettings)
    providers: ProviderSettings = Field(default_factory=ProviderSettings)
    files: FilesSettings = Field(default_factory=FilesSettings)
    knowledge: KnowledgeSettings = Field(default_factory=KnowledgeSettings)
    tools: ToolsSettings = Field(default_factory=ToolsSettings)
    memory: MemorySettings = Field(default_factory=MemorySettings)

    @model_validator(mode="after")
    def _check_combinations(self) -> Self:
        mode = self.auth.mode_for(self.storage.storage_backend)
        if mode is AuthMode.OIDC:
            missing = [
                name
                for name, value in (
                    ("OIDC_ISSUER", self.auth.oidc_issuer),
                    ("OIDC_AUDIENCE", self.auth.oidc_audience),
                )
                if not value
            ]
            if missing:
                raise ConfigurationError(
                    f"AUTH_MODE=oidc needs {' and '.join(missing)}"
                    " (or set AUTH_MODE=local to sign tokens with a key kept in DATA_DIR)"
                )
        if not self.auth.algorithms:
            raise ConfigurationError("OIDC_ALGORITHMS names no algorithm")
        return self


def load_settings() -> Settings:
    """Read every settings class; a bad value raises ConfigurationError naming its variable."""
    try:
        return Settings(
            storage=StorageSettings(),
            auth=AuthSettings(),
            observability=ObservabilitySettings(),
            http=HttpSettings(),
            inference=InferenceSettings(),
            providers=ProviderSettings(),
            files=FilesSettings(),
            knowledge=KnowledgeSettings(),
            tools=ToolsSettings(),
            memory=MemorySettings(),
        )
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']).upper()}: {error['msg']}" for error in exc.errors()
        )
        raise ConfigurationError(f"invalid setting: {problems}") from exc
