"""Interpolation paths: the smoothness figures on hand-made grids, the morph's hit plan, and
the default method meeting the targets on real test clips with the bundled model."""

import math

import numpy as np
import pytest

from groove_vae import groove as layout
from groove_vae import paths


def grids(*cells_on, shape=(64, 9)):
    """One hit grid per list of (step, drum) cells that play."""
    out = np.zeros((len(cells_on), *shape), np.float32)
    for i, cells in enumerate(cells_on):
        for step, drum in cells:
            out[i, step, drum] = 1.0
    return out


def test_a_path_that_changes_each_cell_once_toward_b_scores_perfectly():
    a, b = [(0, 0), (4, 0), (8, 0), (12, 0)], [(2, 1), (6, 1), (10, 1), (14, 1)]
    path = grids(a, a[1:] + b[:1], a[2:] + b[:2], a[3:] + b[:3], b)  # Two cells a step, 8 in all.
    assert paths.path_figures(path) == {"path_ratio": 1.0, "largest_step": 0.25, "toward_b": 1.0}


def test_a_detour_a_jump_and_a_step_back_are_counted():
    a, b = [(0, 0), (1, 0)], [(2, 0), (3, 0)]
    detour = grids(a, a + [(9, 5)], a + b[:1], b)  # Plays a cell neither end plays, then drops it.
    assert paths.path_figures(detour) == pytest.approx({"path_ratio": 6 / 4, "largest_step": 3 / 4,
                                                        "toward_b": 2 / 3})
    jump = grids(a, a, a, b)  # All the change in the last step; the unchanged steps are not counted.
    assert paths.path_figures(jump) == {"path_ratio": 1.0, "largest_step": 1.0, "toward_b": 1.0}


def test_paths_whose_ends_agree_are_left_out_of_the_means():
    same = grids([(0, 0)], [(0, 1)], [(0, 0)])
    assert math.isnan(paths.path_figures(same)["path_ratio"])
    smooth = grids([(0, 0)], [(0, 0), (1, 1)], [(1, 1)])
    figures = paths.mean_path_figures([same, smooth])
    assert figures["paths"] == 1 and figures["path_ratio"] == 1.0 and figures["largest_step_worst"] == 0.5
    assert paths.meets_targets({"path_ratio": 1.3, "largest_step": 0.3, "toward_b": 0.9})
    assert not paths.meets_targets({"path_ratio": 2.11, "largest_step": 0.62, "toward_b": 0.79})


def test_grooves_and_hit_grids_measure_alike():
    path = grids([(0, 0)], [(0, 0), (3, 2)], [(3, 2)])
    groove = np.zeros((3, 64, layout.GROOVE_DEPTH), np.float32)
    groove[..., layout.HITS] = path
    groove[..., layout.VELOCITIES] = 0.7 * path
    assert paths.path_figures(groove) == paths.path_figures(path)


def test_the_morph_flips_each_cell_once_spreads_the_flips_and_keeps_bars_alike():
    """A plays closed hi-hat 8ths and B ride quarters in every bar, each with its own kick:
    every step of a 9-step path changes about an eighth of the cells, density moves in a
    straight line, and each step's four bars play the same pattern (no timekeeper change
    inside a step)."""
    a = np.zeros((64, 9), np.float32)
    b = np.zeros((64, 9), np.float32)
    for bar in range(4):
        a[bar * 16 + np.arange(0, 16, 2), layout.CLOSED_HIHAT] = 1
        a[bar * 16 + np.array([0, 10]), layout.KICK] = 1
        b[bar * 16 + np.arange(0, 16, 4), layout.RIDE] = 1
        b[bar * 16 + np.array([0, 8]), layout.KICK] = 1
    corners = np.stack([a, b])
    rng = np.random.default_rng(0)
    probs = rng.uniform(size=(5, 64, 9))
    cell_thresholds = paths.thresholds(corners, probs)
    ts = np.linspace(0, 1, 9)
    hits = paths.blend_hits(corners, np.stack([1 - ts, ts], 1), cell_thresholds)
    np.testing.assert_array_equal(hits[0], a)
    np.testing.assert_array_equal(hits[-1], b)
    figures = paths.path_figures(hits)
    assert figures["path_ratio"] == 1.0 and figures["toward_b"] == 1.0
    assert figures["largest_step"] <= 0.2
    density = hits.sum(axis=(1, 2))
    np.testing.assert_allclose(density, np.linspace(a.sum(), b.sum(), 9), atol=4)
    bars = hits.reshape(9, 4, 16, 9)
    assert np.all(bars == bars[:, :1])  # Every bar of every step alike.


def test_the_morph_follows_the_model_and_each_corner_plays_its_own_hits():
    a = grids([(0, 0), (4, 0)])[0]
    b = grids([(8, 0), (12, 0)])[0]
    probs = np.zeros((3, 64, 9))
    probs[:, 4, 0] = 0.9  # The model keeps A's step-4 kick longer than its step-0 kick...
    probs[:, 12, 0] = 0.8  # ...and brings B's step-12 kick in before its step-8 kick.
    cell_thresholds = paths.thresholds(np.stack([a, b]), probs)
    ts = np.linspace(0, 1, 5)
    hits = paths.blend_hits(np.stack([a, b]), np.stack([1 - ts, ts], 1), cell_thresholds)
    on = [sorted(map(tuple, np.argwhere(h))) for h in hits]
    assert on[1] == [(4, 0), (12, 0)] or on[2] == [(4, 0), (12, 0)]
    corners = rng_corners = (np.random.default_rng(1).uniform(size=(4, 64, 9)) < 0.2).astype(np.float32)
    quad = paths.blend_hits(corners, np.eye(4), paths.thresholds(rng_corners, np.full((9, 64, 9), 0.5)))
    np.testing.assert_array_equal(quad, corners)


def test_methods_are_checked():
    with pytest.raises(ValueError, match="method must be one of morph, slerp, linear"):
        paths.check_method("cubic")


@pytest.fixture(scope="module")
def vae():
    from groove_vae import api

    return api.load()


@pytest.fixture(scope="module")
def test_clips(tfds_data_dir):
    from groove_vae import data

    return data.load_split("groove/4bar-midionly", "test", 64).groove


def test_the_default_morph_is_smooth_on_real_test_pairs(vae, test_clips):
    """Four random test pairs, 9 steps, as `groove-vae interpolate` plays them: the targets
    met, the ends exactly the inputs' reconstructions, slerp (today's) for contrast."""
    morph = paths.interpolation_paths(vae, test_clips, num_pairs=4, num_steps=9)
    figures = paths.mean_path_figures(morph)
    assert paths.meets_targets(figures), paths.figures_line(figures)
    assert figures["largest_step_worst"] <= paths.TARGETS["largest_step"]
    for path, (i, j) in zip(morph, paths.random_pairs(len(test_clips), 4)):
        for end, clip in ((path[0], test_clips[i]), (path[-1], test_clips[j])):
            reconstruction = vae.decode_tensors(vae.encode_tensors(clip[None]), 0.5, 0)[0]
            np.testing.assert_array_equal(layout.hits(end), layout.hits(reconstruction))
            np.testing.assert_allclose(end, reconstruction, atol=1e-5)
    slerp = paths.mean_path_figures(paths.interpolation_paths(vae, test_clips, 4, 9, "slerp"))
    assert not paths.meets_targets(slerp), paths.figures_line(slerp)


def test_the_beat_blender_morph_plays_its_corners_and_mixes_between(vae):
    """Each corner's point plays that corner's beat; along the top edge cells only ever go
    from the left corner's hits to the right's."""
    corners = vae.sample_latents(4, seed=3)
    for k, (x, y) in enumerate([(0, 0), (1, 0), (0, 1), (1, 1)]):
        groove, z = vae.blend_tensors(corners, x, y)
        np.testing.assert_allclose(z, corners[k], atol=1e-6)
        np.testing.assert_array_equal(layout.hits(groove), layout.hits(vae.decode_tensors(corners[[k]], 0.5, 0)[0]))
    edge = np.stack([vae.blend_tensors(corners, x, 0.0)[0] for x in np.linspace(0, 1, 5)])
    figures = paths.path_figures(edge)
    assert figures["path_ratio"] == 1.0 and figures["toward_b"] == 1.0
    linear, _ = vae.blend_tensors(corners, 0.5, 0.5, method="linear")
    np.testing.assert_array_equal(linear, vae.decode_tensors(api_blend(corners)[None], 0.5, 0)[0])


def api_blend(corners):
    from groove_vae import api

    return api.blend_latents(corners, 0.5, 0.5)
