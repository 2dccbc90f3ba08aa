import numpy as np
import pytest

from groove_vae import novelty


def grid(*cells, velocity=0.8):
    """One groove tensor [64, 27] with a hit at each (step, drum) in `cells`."""
    g = np.zeros((64, 27), np.float32)
    for step, drum in cells:
        g[step, drum] = 1.0
        g[step, 9 + drum] = velocity
    return g


FOUR_ON_THE_FLOOR = [(s, 0) for s in range(0, 64, 4)]  # 16 kicks.
BACKBEAT = [(s, 1) for s in range(4, 64, 8)]  # 8 snares.


def test_distances_count_the_cells_that_differ():
    reference = np.stack([grid(*FOUR_ON_THE_FLOOR), grid(*BACKBEAT)])
    samples = np.stack([
        grid(*FOUR_ON_THE_FLOOR),                        # A copy: 0.
        grid(*FOUR_ON_THE_FLOOR[1:], (1, 0)),            # One kick moved a step: 2 cells.
        grid(*BACKBEAT, (0, 7)),                         # The backbeat plus a crash: 1.
        grid(),                                          # Nothing: 8 from the backbeat (16 from the kicks).
        grid(*FOUR_ON_THE_FLOOR, *BACKBEAT),             # Both: 8 from the kicks, 16 from the snares.
    ])
    assert novelty.nearest_distances(samples, reference).tolist() == [0, 2, 1, 8, 8]


def test_velocities_and_offsets_do_not_count_only_hits_above_one_half():
    reference = grid(*BACKBEAT, velocity=0.2)[None]
    sample = grid(*BACKBEAT, velocity=1.0)
    sample[:, 18:] = 0.7  # Offsets everywhere.
    sample[3, 2] = 0.4  # Not a hit.
    assert novelty.nearest_distances(sample[None], reference).tolist() == [0]
    sample[3, 2] = 0.6  # A hit.
    assert novelty.nearest_distances(sample[None], reference).tolist() == [1]


def test_chunks_give_the_brute_force_answer():
    rng = np.random.default_rng(0)
    samples = (rng.random((7, 64, 9)) < 0.1).astype(np.float32)
    reference = (rng.random((23, 64, 9)) < 0.1).astype(np.float32)
    reference[5] = samples[2]
    brute = (samples[:, None] != reference[None]).sum(axis=(2, 3)).min(axis=1)
    for chunk in (1, 4, 23, 100):
        assert novelty.nearest_distances(samples, reference, chunk=chunk).tolist() == brute.tolist()
    assert brute[2] == 0


def test_novelty_figures():
    reference = np.stack([grid(*FOUR_ON_THE_FLOOR), grid(*BACKBEAT)])
    samples = np.stack([
        grid(*FOUR_ON_THE_FLOOR),                          # 0: a copy.
        grid(*FOUR_ON_THE_FLOOR),                          # 0: a copy, and a duplicate of sample 0.
        grid(*BACKBEAT[:4]),                               # 4: within 4.
        grid(*BACKBEAT[:3]),                               # 5: not within 4.
        grid(),                                            # 8: empty.
        grid(),                                            # 8: empty, a duplicate.
        grid(*BACKBEAT[:4], velocity=0.1),                 # 4: a duplicate of sample 2 (velocity aside).
        grid(*FOUR_ON_THE_FLOOR, *BACKBEAT, (63, 8)),      # 9.
    ])
    figures = novelty.novelty(samples, reference)
    assert figures == {"exact_copies": 2 / 8, "within_4": 4 / 8, "mean_nearest": (0 + 0 + 4 + 5 + 8 + 8 + 4 + 9) / 8,
                       "duplicates": 3 / 8, "empty": 2}


def test_all_new_and_distinct():
    reference = grid(*FOUR_ON_THE_FLOOR)[None]
    samples = np.stack([grid(*BACKBEAT, (s, 8)) for s in range(10)])  # A ride hit on a different step each.
    figures = novelty.novelty(samples, reference)
    assert figures["exact_copies"] == figures["within_4"] == figures["duplicates"] == 0.0
    # Every kick missing, every snare and the ride new.
    assert figures["empty"] == 0 and figures["mean_nearest"] == 16 + 8 + 1


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="Expected groove tensors"):
        novelty.novelty(np.zeros((64, 27)), np.zeros((1, 64, 27)))
    with pytest.raises(ValueError, match="reference set is empty"):
        novelty.novelty(np.zeros((1, 64, 27)), np.zeros((0, 64, 27)))
    with pytest.raises(ValueError, match="cells per grid"):
        novelty.novelty(np.zeros((1, 64, 27)), np.zeros((1, 32, 27)))
