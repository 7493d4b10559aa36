"""Model providers: building the chat model of a turn, the offline `local` model, the live catalogues, and the
translation of their failures. Provider SDKs are imported on first use (see chat_models.py)."""
