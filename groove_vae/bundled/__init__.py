"""The models that ship with the package, by the names `groove_vae.load()` accepts.

Each is a model directory (config.json, weights.npz, provenance.json, and for the
groove model styles.npz), read by `groove_vae.runs.restore_model` like any other.
"""

from __future__ import annotations

import os

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT = "groovae_4bar"
MODELS = {
    "groovae_4bar": os.path.join(HERE, "groovae_4bar"),  # Sample, reconstruct, interpolate, styles.
    "tap2drum": os.path.join(HERE, "groovae_tap2drum"),  # Drumify a tapped rhythm.
    "humanize": os.path.join(HERE, "groovae_humanize"),  # Play a quantized beat.
    "infill": os.path.join(HERE, "groovae_infill"),  # Play the instruments a beat lacks.
}


def resolve(name_or_path: str | None) -> str:
    """A bundled model's name (None or "bundled": the default) -> its directory; a path stays as it is."""
    if name_or_path in (None, "", "bundled"):
        name_or_path = DEFAULT
    return MODELS.get(name_or_path, name_or_path)
