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
SAMPLES = [  # load().sample(4, temperature=0.5, seed=0), 120 qpm: z from the fitted prior (prior.npz).
    "29cb29f3070666bd4d1965982641a6e9b9ee2154789f43398bc139a00e5b4751",
    "d0b8d849d58328951046d7e167bee2134d7fcefa5a878511c0a12438977a3d3d",
    "2a34f260f7d8d7d1fae98c516d67a3f76ccd55384509ac3c159382696c72a0df",
    "f17f723907aac33b8cd598b0966e62cd4b60830b45cd2b09a27d688f00c8cb16",
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
    vae.jit_max_batch = 0  # The graph, as the commands decode (XLA may round a velocity's last bits otherwise).
    paths = groove_vae.write_midi_files(vae.sample(4, temperature=0.5, seed=0), str(directory))
    player = groove_vae.load("humanize", precision="float32")
    player.jit_max_batch = 0
    played = player.humanize(flat_beat(), seed=0)
    paths.append(groove_vae.write_midi(played, os.path.join(str(directory), "humanized.mid")))
    return [hashlib.sha256(open(p, "rb").read()).hexdigest() for p in paths]


def test_the_bundled_models_write_the_pinned_bytes(tmp_path):
    got = digests(tmp_path)
    assert got[:4] == SAMPLES, "the bundled model's samples changed (see this file's docstring)"
    assert got[4] == HUMANIZED, "the bundled humanize model's playing changed (see this file's docstring)"


if __name__ == "__main__":
    import tempfile

    print("\n".join(digests(tempfile.mkdtemp())), file=sys.stdout)
