"""The library both services build on: domain packages, storage backends, auth and the shared HTTP pieces."""
