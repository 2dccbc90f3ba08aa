"""The bundled models' exact output for fixed seeds, pinned: a refactor that changes
what users get (a layer's order, a sampler's draws, the MIDI writer) fails here.

Retraining or re-bundling a model changes these on purpose: then print the new digests
(`python tests/test_pinned_outputs.py`) and replace them in the same commit.
"""

import hashlib
import os
import sys

import numpy as np

import groove_vae
from groove_vae import converter
from groove_vae import groove as layout

# sha256 of the written .mid files, in float32 (bfloat16 where the CPU has it would differ).
SAMPLES = [  # load().sample(4, temperature=0.5, seed=0), 120 qpm.
    "fb7c72b15cf587d09dde44febb1c205b7a51f4fd0972b845d4022e0fcf4689dd",
    "4f4643dc83756cb1344db21ffc0cee10872dba79697342d38a08041897a473ee",
    "8410400c17b42e20a9c7c8dfecfee057826f8043aa15b8c91f56e28c7618512c",
    "7ae2c9095f789d75d68b25fccae0711ab8e2c7e51b08a6f78f8e5eb840050d4e",
]
HUMANIZED = "7ac46803f585d0811ec44affea60bde733233b54d3b056550ba79b0022090932"  # load("humanize"), seed 0.


def flat_beat():
    """Kick on the beats, snare on 2 and 4, closed hi-hat on the 8ths, all at velocity 76."""
    groove = np.zeros((64, layout.GROOVE_DEPTH), np.float32)
    layout.hits(groove)[::4, layout.KICK] = 1
    layout.hits(groove)[4::8, layout.SNARE] = 1
    layout.hits(groove)[::2, layout.CLOSED_HIHAT] = 1
    layout.velocities(groove)[:] = layout.hits(groove) * 0.6
    return converter.groove_to_note_sequence(groove, 120.0)


def digests(directory):
    vae = groove_vae.load(precision="float32")
    paths = groove_vae.write_midi_files(vae.sample(4, temperature=0.5, seed=0), str(directory))
    played = groove_vae.load("humanize", precision="float32").humanize(flat_beat(), seed=0)
    paths.append(groove_vae.write_midi(played, os.path.join(str(directory), "humanized.mid")))
    return [hashlib.sha256(open(p, "rb").read()).hexdigest() for p in paths]


def test_the_bundled_models_write_the_pinned_bytes(tmp_path):
    got = digests(tmp_path)
    assert got[:4] == SAMPLES, "the bundled model's samples changed (see this file's docstring)"
    assert got[4] == HUMANIZED, "the bundled humanize model's playing changed (see this file's docstring)"


if __name__ == "__main__":
    import tempfile

    print("\n".join(digests(tempfile.mkdtemp())), file=sys.stdout)
