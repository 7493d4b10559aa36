"""Benchmarks: each prints its figures beside the budgets of ARCHITECTURE.md. Run as `python -m bench.<name>`."""
