"""Model providers: the offline `local` model for chat turns, and the live catalogues of the cloud providers."""

from apis.shared.providers.local import LocalChatModel

__all__ = ["LocalChatModel"]
