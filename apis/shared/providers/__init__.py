"""Model providers: what a turn streams from. Only the offline `local` provider exists so far."""

from apis.shared.providers.catalogue import BUILTIN_MODELS, ChatModelSpec, resolve_builtin_model
from apis.shared.providers.local import LocalChatModel

__all__ = ["BUILTIN_MODELS", "ChatModelSpec", "LocalChatModel", "resolve_builtin_model"]
