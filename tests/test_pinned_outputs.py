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
    "23068631490f5a51ec10a1e2242d93b64bac3eaaf6b84dfc85884c778d283a2e",
    "8d540aba8086e75cfba8adf9b832dd555fcf172526348461c362fa1a107be546",
    "ce2af081fcdce221e74ecec55835e685d4ccf232ea53f2681858ad34ecf5515b",
    "3e624a531787c0d8ed7d228ba8d5c96fc33e9b92e4b96f00a079ec4b1337a006",
]
HUMANIZED = "6ad2c1f50f2f1de2b77443554c3923139c158a5c215fc7c4b8fd83d36803ddf2"  # load("humanize"), seed 0.


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
