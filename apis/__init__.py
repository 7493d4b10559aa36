"""Colloquy: a self-hostable, multi-user AI chat platform backend."""
