"""What can go wrong with the model catalogue and with choosing a model for a turn."""

from __future__ import annotations

from apis.shared.errors import ConflictError, ForbiddenError, NotFoundError, RuleViolation


class ManagedModelNotFound(NotFoundError):
    """No managed model has this id."""

    code = "model_not_found"


class ModelIdTaken(ConflictError):
    """Another managed model already has this modelId."""

    code = "model_id_taken"


class DefaultModelRequired(ConflictError):
    """The change would leave the catalogue without its one default model."""

    code = "default_model_required"


class UnknownModel(RuleViolation):
    """A turn named a model that is not in the catalogue, or is disabled."""

    code = "unknown_model"


class ProviderMismatch(RuleViolation):
    """A turn named a provider that does not serve the model it named."""

    code = "provider_mismatch"


class ModelNotAllowed(ForbiddenError):
    """The caller's roles do not allow this model."""

    code = "model_not_allowed"
