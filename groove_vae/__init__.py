"""groove-vae: a TensorFlow 2 / Keras MusicVAE for 4-bar drum grooves.

Example:
>>> import groove_vae
>>> vae = groove_vae.load()
>>> groove_vae.write_midi_files(vae.sample(5, seed=0), "samples")
"""

__version__ = "0.1.0"

from groove_vae.api import GrooveVAE, load, write_midi_files  # noqa: E402

__all__ = ["GrooveVAE", "load", "write_midi_files"]
