"""How good a model is: `metrics` (numpy on groove tensors), `runners` (a model run over
clips, the feel memory fitted) and `reports` (text tables).

Their public names are also read from here (`evaluation.feel(...)`), each module
imported when first asked for, so the numpy metrics load without the model.
"""

import importlib

_MODULES = ("metrics", "runners", "reports")


def __getattr__(name: str):
    for module in _MODULES:
        found = importlib.import_module(f"groove_vae.evaluation.{module}")
        if not name.startswith("_") and hasattr(found, name):
            return getattr(found, name)
    raise AttributeError(f"module 'groove_vae.evaluation' has no attribute {name!r}")
