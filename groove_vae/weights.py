"""The weight format of trained and bundled models: one .npz of arrays keyed by each
variable's path through the model's layers ("decoder/bar_decoder/output_projection/kernel").

Keyed by path, not by position, so a file cannot load into the wrong variables: a
renamed layer is refused by name, a reordered one still finds its weights. The paths
are the attribute names that hold each layer, which our code chooses; Keras's own
variable paths depend on which call built a layer first and on how many models the
process has made.
"""

from __future__ import annotations

import zipfile

import keras
import numpy as np

from groove_vae.files import atomic_write

WEIGHTS_FILE = "weights.npz"
_LEGACY_KEY = "w000"  # The first weight of the positional format that came before.


# Hand-walked, kept: Keras's own variable paths change with build order (module docstring), ours with our attributes.
def named_weights(model: keras.layers.Layer) -> dict[str, keras.Variable]:
    """{path: variable} for every weight of `model`, in a stable order."""
    named: dict[str, keras.Variable] = {}
    seen: set[int] = set()

    def walk(layer: keras.layers.Layer, path: str) -> None:
        children = []
        for name, value in sorted(vars(layer).items()):
            if name.startswith("_"):  # Keras's own bookkeeping holds the same layers again.
                continue
            if isinstance(value, keras.layers.Layer):
                children.append((f"{path}{name}/", value))
            elif isinstance(value, (list, tuple)):
                children += [(f"{path}{name}/{i}/", v) for i, v in enumerate(value) if isinstance(v, keras.layers.Layer)]
        below = {id(v) for _, child in children for v in child.weights}
        for variable in layer.weights:
            if id(variable) not in below and id(variable) not in seen:
                seen.add(id(variable))
                named[path + variable.name] = variable
        for child_path, child in children:
            walk(child, child_path)

    walk(model, "")
    missing = len(model.weights) - len(named)
    if missing:  # A weight held somewhere the walk does not look (say, a layer in a dict).
        raise ValueError(f"{missing} of the model's weights have no path; keep layers in attributes or lists.")
    return named


def save_weights(model: keras.layers.Layer, path: str, dtype: str = "float32") -> str:
    """Writes every weight of `model` to `path` (.npz, compressed; float16 halves it), atomically."""
    arrays = {key: np.asarray(variable.numpy(), dtype) for key, variable in named_weights(model).items()}
    with atomic_write(path) as f:
        np.savez_compressed(f, **arrays)
    return path


def read_weights(path: str) -> dict[str, np.ndarray]:
    """The arrays of a weights file by path; an unreadable file is a ValueError naming it."""
    try:
        with np.load(path) as f:
            return {key: f[key] for key in f.files}
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as e:
        raise ValueError(f"{path}: not readable weights ({type(e).__name__}: {e}).") from None


def load_weights(model: keras.layers.Layer, path: str) -> None:
    """Sets every weight of `model` from `path`, matched by path and checked by shape.

    A file of the earlier positional format (keys w000, w001, ...) is read by position,
    the order `model.weights` had when it was written; `convert_legacy` rewrites one.
    """
    arrays = read_weights(path)
    named = named_weights(model)
    if _LEGACY_KEY in arrays:
        arrays = _from_positions(arrays, model, named, path)
    missing = [key for key in named if key not in arrays]
    unexpected = [key for key in arrays if key not in named]
    if missing or unexpected:
        detail = "; ".join(part for part in (
            f"missing {', '.join(missing[:3])}{' ...' if len(missing) > 3 else ''}" if missing else "",
            f"not in this model {', '.join(unexpected[:3])}{' ...' if len(unexpected) > 3 else ''}" if unexpected else "",
        ) if part)
        raise ValueError(f"{path}: its weights do not fit this model ({detail}).")
    for key, variable in named.items():
        if tuple(arrays[key].shape) != tuple(variable.shape):
            raise ValueError(f"{path}: {key} has shape {tuple(arrays[key].shape)}, the model's is {tuple(variable.shape)}.")
    for key, variable in named.items():
        variable.assign(arrays[key].astype(variable.dtype))


def _from_positions(arrays: dict[str, np.ndarray], model: keras.layers.Layer, named: dict[str, keras.Variable],
                    path: str) -> dict[str, np.ndarray]:
    """Positional arrays (w000, w001, ...) -> the same by path, in the order of `model.weights`."""
    positional = [arrays.get(f"w{i:03d}") for i in range(len(arrays))]
    key_of = {id(variable): key for key, variable in named.items()}
    ordered = [key_of[id(variable)] for variable in model.weights]
    if any(a is None for a in positional) or [a.shape for a in positional] != [tuple(named[k].shape) for k in ordered]:
        raise ValueError(f"{path}: its weights do not fit this model (positional weights of other shapes).")
    return dict(zip(ordered, positional))


def convert_legacy(model: keras.layers.Layer, path: str) -> bool:
    """Rewrites a positional weights file in the path-keyed format, keeping its dtype; True if it did."""
    arrays = read_weights(path)
    if _LEGACY_KEY not in arrays:
        return False
    load_weights(model, path)
    save_weights(model, path, dtype=str(arrays[_LEGACY_KEY].dtype))
    return True
