"""Attributes of hand-built grooves, worked out by hand: each can fail if its formula slips."""

import numpy as np
import pytest

from groove_vae import attributes
from groove_vae import groove as layout


def beat(cells, velocity=100, offset=0.0, bars=4):
    """One groove [bars * 16, 27]: a hit at each (step within a bar, drum) of `cells` in every bar."""
    g = np.zeros((bars * 16, layout.GROOVE_DEPTH), np.float32)
    for bar in range(bars):
        for step, drum in cells:
            g[bar * 16 + step, drum] = 1.0
            layout.velocities(g)[bar * 16 + step, drum] = velocity / 127
            layout.offsets(g)[bar * 16 + step, drum] = offset(step) if callable(offset) else offset
    return g


ROCK = [(0, layout.KICK), (8, layout.KICK), (4, layout.SNARE), (12, layout.SNARE)] + \
       [(s, layout.CLOSED_HIHAT) for s in range(0, 16, 2)]


def test_counts_per_bar_and_shares():
    values = attributes.measure(beat(ROCK)[None])
    assert values["density"][0] == 12 and values["kick"][0] == 2 and values["snare"][0] == 2
    assert values["hihat"][0] == 8 and values["ride"][0] == 0 and values["toms"][0] == 0 and values["fill"][0] == 0
    # On the quarter-note beats: kicks 0, 8; snares 4, 12; hats 0, 4, 8, 12: 8 of 12 hits.
    assert values["offbeat"][0] == pytest.approx(4 / 12)
    assert values["syncopation"][0] == 0.0 and values["ride_share"][0] == 0.0 and values["repetition"][0] == 1.0
    ride = attributes.measure(beat([(s, layout.RIDE) for s in range(0, 16, 2)] + [(3, layout.KICK)])[None])
    assert ride["ride_share"][0] == 1.0 and ride["syncopation"][0] == 1.0  # The kick on the a of 1.


def test_loudness_dynamics_and_accents_in_midi_units():
    g = beat([(0, layout.KICK), (2, layout.CLOSED_HIHAT)], velocity=60)
    layout.velocities(g)[::16, layout.KICK] = 100 / 127  # Each bar's downbeat kick at 100.
    values = attributes.measure(g[None])
    assert values["loudness"][0] == pytest.approx(80, abs=1e-4) and values["dynamics"][0] == pytest.approx(20, abs=1e-4)
    assert values["accents"][0] == pytest.approx(40, abs=1e-4)


def test_swing_and_laid_back_in_sixteenths():
    # Off-beat 16ths half a 16th late (offset 1), on-beat ones on the grid.
    swung = beat([(s, layout.CLOSED_HIHAT) for s in range(16)], offset=lambda step: 1.0 if step % 2 else 0.0)
    values = attributes.measure(swung[None])
    assert values["swing"][0] == pytest.approx(0.5) and values["laid_back"][0] == pytest.approx(0.25)
    pushed = attributes.measure(beat([(s, layout.CLOSED_HIHAT) for s in range(16)], offset=-0.4)[None])
    assert pushed["laid_back"][0] == pytest.approx(-0.2) and pushed["swing"][0] == pytest.approx(0.0, abs=1e-6)
    assert np.isnan(attributes.measure(beat(ROCK)[None])["swing"][0])  # No off-beat 16th: no swing to measure.


def test_repetition_and_what_a_silent_clip_cannot_say():
    g = beat(ROCK)
    g[16:32] = beat([(s, layout.RIDE) for s in range(0, 16, 2)], bars=1)  # Bar 2: ride only.
    values = attributes.measure(np.stack([g, np.zeros_like(g)]))
    # Bars 1-2 share nothing, 2-3 nothing, 3-4 everything: F1 0, 0, 1.
    assert values["repetition"][0] == pytest.approx(1 / 3)
    assert np.isnan(values["loudness"][1]) and np.isnan(values["swing"][1]) and values["density"][1] == 0
    assert set(values) == set(attributes.ATTRIBUTES)
    with pytest.raises(ValueError, match="Expected groove tensors"):
        attributes.measure(np.zeros((2, 60, 27)))


def test_vectors_point_from_the_bottom_quartile_to_the_top_and_add_up():
    rng = np.random.default_rng(0)
    mu = rng.normal(size=(400, 3))
    values = {name: rng.normal(size=400) for name in attributes.ATTRIBUTES}
    values["density"] = 10 + 4 * mu[:, 0]  # Density lives along the first latent axis.
    values["crash"] = np.zeros(400)  # Constant: no quartiles to tell apart, no vector.
    vectors = attributes.AttributeVectors.fit(mu, values)
    assert "crash" not in vectors.names and "density" in vectors.names
    density = vectors.vectors[vectors.names.index("density")]
    assert density[0] > 2.0 and abs(density[1]) < 0.3 and abs(density[2]) < 0.3
    assert vectors.gaps[vectors.names.index("density")] > 8  # In hits per bar: top quartile's mean minus bottom's.
    both = vectors.shift({"density": 1.0, "swing": -0.5})
    np.testing.assert_allclose(both, density - 0.5 * vectors.vectors[vectors.names.index("swing")], rtol=1e-6)


def test_amounts_are_checked_and_parsed_by_name(tmp_path):
    assert attributes.parse_amounts("density=+1, swing=-0.5") == {"density": 1.0, "swing": -0.5}
    with pytest.raises(ValueError, match="Bad attribute amount 'density': expected name=amount"):
        attributes.parse_amounts("density")
    known = list(attributes.ATTRIBUTES)
    with pytest.raises(ValueError, match="Unknown attribute 'cowbell'. Known attributes: density, kick"):
        attributes.check_amounts({"cowbell": 1.0}, known)
    for amount in (float("nan"), float("inf"), 3.5, True, "1"):
        with pytest.raises(ValueError, match="The amount of swing must be a number from -3 to 3"):
            attributes.check_amounts({"swing": amount}, known)
    with pytest.raises(ValueError, match="no attributes.npz"):
        attributes.check_amounts({"swing": 1.0}, ())
    vectors = attributes.AttributeVectors(("density",), np.ones((1, 4), np.float32), np.array([5.0], np.float32))
    vectors.save(str(tmp_path / "attributes.npz"))
    loaded = attributes.AttributeVectors.load(str(tmp_path / "attributes.npz"))
    assert loaded.names == ("density",) and np.array_equal(loaded.vectors, vectors.vectors)


def test_the_bundled_models_vectors_steer_what_they_name(tfds_data_dir, tmp_path):
    """On test clips the model never saw: each of these attributes rises with its amount."""
    from helpers import run_command

    from groove_vae import api, data

    vae = api.load()
    clips = data.load_split("groove/4bar-midionly", "test", vae.config.num_steps).groove[:128]
    z = vae.encode_tensors(clips)
    for name in ("density", "kick", "ride_share", "loudness", "laid_back", "fill"):
        means = [np.nanmean(attributes.measure(vae.steer(z, {name: amount}, seed=1))[name]) for amount in (-1, 0, 1)]
        assert means[0] < means[1] < means[2], (name, means)
    beat = converter_beat(tmp_path)
    result = run_command("steer", f"--input={beat}", "--attributes=density=+1.5", "--output=dense.mid", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    bad = run_command("steer", f"--input={beat}", "--attributes=cowbell=+1", cwd=tmp_path)
    assert bad.returncode != 0 and "Unknown attribute 'cowbell'" in bad.stderr
    sampled = run_command("sample", "--num_output=2", "--attributes=ride_share=+2", "--output_dir=ride", cwd=tmp_path)
    assert sampled.returncode == 0, sampled.stderr
    assert len(list((tmp_path / "ride").glob("*.mid"))) == 2


def converter_beat(tmp_path):
    from groove_vae import converter

    path = tmp_path / "rock.mid"
    converter.write_midi(converter.groove_to_note_sequence(beat(ROCK, velocity=90)), path)
    return path
