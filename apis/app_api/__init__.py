"""The app API (port 8000): everything a client does outside a chat turn."""
