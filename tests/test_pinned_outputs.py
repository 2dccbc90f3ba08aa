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
    "a52cd792ba2befde4c19e439a388d5567a4b23903a0a7066893b7904a160060e",
    "c9cb486b3b5cb2334b5348d256d63e1e6e3215c237f0ec9c06abe1be642ef167",
    "bf5dcfe8b3c072e16a24e544c8435db97f9f5bb6dae0a3eeb1e24b987e1b44f8",
    "6431ccc73adb31b63d7f9c19620f6585d0cb142860b8a889bab8d826354f2087",
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
