"""Tools a chat turn may offer the model, by id; which ones a caller may enable is the roles' business."""

from apis.shared.tools.builtin import BUILTIN_TOOLS, calculator, current_time, evaluate

__all__ = ["BUILTIN_TOOLS", "calculator", "current_time", "evaluate"]
