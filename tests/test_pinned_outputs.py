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
    "1f2ddc76161fcf4e89e7eb611ae788a92aa951a8626dc3ea3d7c1a26093976fd",
    "3ac58c0a1792f79ab910df671fd386e926eaf4dc8036fc7c0c606bdf74570273",
    "0ddb36e8ab7c4cdee7c40a15ffafb3bba62193be49bbdf304cb2190de7778825",
    "0932e241a743f75e609e782bc8b4ff22bbab48f87b78cbeb630ad5647886de49",
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
