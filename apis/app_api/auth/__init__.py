"""Signing in from the browser: the reference client's `/auth` routes and the local trial sign-in page."""
