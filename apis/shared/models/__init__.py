"""The model catalogue: managed models, the default model, and who may use which (`can_use_model`)."""

from apis.shared.models import managed_models
from apis.shared.models.access import can_use_model
from apis.shared.models.exceptions import (
    DefaultModelRequired,
    ManagedModelNotFound,
    ModelIdTaken,
    ModelNotAllowed,
    ProviderMismatch,
    UnknownModel,
)
from apis.shared.models.models import (
    ManagedModel,
    ManagedModelCreate,
    ManagedModelList,
    ManagedModelUpdate,
    ProviderName,
)
from apis.shared.models.repository import ModelRepository
from apis.shared.models.seeder import LOCAL_MODEL, ensure_first_model

__all__ = [
    "LOCAL_MODEL",
    "DefaultModelRequired",
    "ManagedModel",
    "ManagedModelCreate",
    "ManagedModelList",
    "ManagedModelNotFound",
    "ManagedModelUpdate",
    "ModelIdTaken",
    "ModelNotAllowed",
    "ModelRepository",
    "ProviderMismatch",
    "ProviderName",
    "UnknownModel",
    "can_use_model",
    "ensure_first_model",
    "managed_models",
]
