"""groove-vae: a TensorFlow 2 / Keras MusicVAE for 4-bar drum grooves.

Example:
>>> import groove_vae
>>> vae = groove_vae.load()
>>> groove_vae.write_midi_files(vae.sample(5, seed=0), "samples")
"""

import warnings

__version__ = "0.1.0"

# note-seq imports pydub for audio we never use; its missing-ffmpeg warning is noise.
warnings.filterwarnings("ignore", message="Couldn't find ffmpeg", category=RuntimeWarning)

__all__ = ["GrooveVAE", "load", "write_midi", "write_midi_files"]


def __getattr__(name):
    # Imported on first use, so the converter's worker processes never load TensorFlow.
    if name in __all__:
        from groove_vae import api

        return getattr(api, name)
    raise AttributeError(f"module 'groove_vae' has no attribute {name!r}")
