"""The physiology models a cohort or a trial can run on, by name.

``magnesium`` is `mgckd.physiology.magnesium_model`; ``whole_body`` is
`mgckd.physiology.whole_body_model` once the Ca, phosphate and hormone modules land (issue 5):
until then asking for it says so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from mgckd import physiology
from mgckd.exceptions import UserInputError
from mgckd.model import CompiledModel, Model, compile_model

ModelName = Literal["magnesium", "whole_body"]

_FACTORIES = {"magnesium": "magnesium_model", "whole_body": "whole_body_model"}


def resolve_model(name: str) -> CompiledModel:
    """The compiled model called `name` (compiled once per process).

    Raises
    ------
    UserInputError
        For an unknown name, or a model not built yet (the message says which issue brings it).
    """
    if name not in _FACTORIES:
        raise UserInputError(f"model {name!r} is not one of {', '.join(_FACTORIES)}")
    factory: Callable[[], Model] | None = getattr(physiology, _FACTORIES[name], None)
    if factory is None:
        raise UserInputError(
            f"model {name!r} needs mgckd.physiology.{_FACTORIES[name]} (the Ca, phosphate and "
            "hormone modules of issue 5), not built yet; use model: magnesium"
        )
    return compile_model(factory())
