"""Latent constraints: what users ask is read and checked right, the actor and the edits
meet it on a latent space whose answers are known, and the bundled model's beats do."""

import math

import numpy as np
import pytest

from groove_vae import attributes, constraints
from groove_vae import groove as layout
from groove_vae.constraints import Constraints
from groove_vae.sampling import StandardNormal
from test_attributes import ROCK, beat


def test_text_and_mappings_parse_to_the_same_ranges():
    text = Constraints.parse("density=20..30, swing=0.1.., toms=0, timekeeper=ride, no=crash, with=kick, style=funk")
    assert text.ranges == {"density": (20.0, 30.0), "swing": (0.1, math.inf), "toms": (0.0, 0.0),
                           "ride_share": constraints.TIMEKEEPERS["ride"], "crash": (0.0, 0.0),
                           "kick": (constraints.PRESENT, math.inf)}
    assert text.style == "funk"
    mapping = Constraints.parse({"density": (20, 30), "swing": (0.1, None), "toms": 0, "timekeeper": "ride",
                                 "no": "crash", "with": ["kick"], "style": "funk"})
    assert mapping == text
    assert Constraints.parse("loudness=..80").ranges == {"loudness": (-math.inf, 80.0)}
    assert Constraints.parse(text.describe()).ranges == text.ranges  # What `sample` prints reads back.


@pytest.mark.parametrize("spec, named", [
    ("cowbell=3", "Unknown attribute 'cowbell'"),
    ("density=30..20", "density is empty"),
    ("density=200..", "density (hits per bar) takes values from 0 to 144"),
    ("swing=nan", "swing must be two numbers"),
    ("ride_share=..-0.5", "ride_share (share of hits) takes values from 0 to 1"),
    ("timekeeper=cowbell", "timekeeper must be one of ride, hihat"),
    ("no=cowbell", "no= takes an instrument"),
    ("density", "Bad constraint 'density'"),
    ("density=lots", "Bad range for density"),
    ("", "No constraint given"),
])
def test_impossible_or_unknown_requests_name_the_attribute_and_its_range(spec, named):
    with pytest.raises(ValueError, match=None) as error:
        Constraints.parse(spec)
    assert named in str(error.value)


def test_met_reads_the_measured_beat():
    rock = beat(ROCK)  # 12 hits a bar on the hi-hat, no toms.
    ride = beat([(s, layout.RIDE) for s in range(0, 16, 2)] + [(0, layout.KICK), (4, layout.LOW_TOM)])
    values = attributes.measure(np.stack([rock, ride]))
    assert Constraints.parse("timekeeper=hihat,no=toms,density=10..14").met(values).tolist() == [True, False]
    assert Constraints.parse("timekeeper=ride,with=toms").met(values).tolist() == [False, True]
    assert Constraints.parse("style=funk").met(values, np.array(["funk", "rock"])).tolist() == [True, False]


# === The networks, on a latent space whose attributes are known functions of z ===
def known_space(n=6000, z_size=8, seed=0):
    """Latents whose 'decoder' plays density 16 + 6 z0, ride_share sigmoid(3 z1) and the
    rest as noise, with styles by the sign of z2: what a right actor must learn to meet."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, z_size)).astype(np.float32)
    values = {name: rng.standard_normal(n) for name in attributes.ATTRIBUTES}
    values["density"] = 16 + 6 * z[:, 0]
    values["ride_share"] = 1 / (1 + np.exp(-3 * z[:, 1]))
    data = constraints.CriticData(z, np.full(n, 0.5, np.float32), values)
    styles = np.where(z[:, 2] > 0, "funk", "jazz")
    return data, styles


@pytest.fixture(scope="module")
def fitted():
    data, styles = known_space()
    mu = data.z
    sigma = np.full_like(mu, 0.05)
    model = constraints.fit(None, mu, sigma, styles, data, StandardNormal(8), epochs=4, actor_steps=400,
                            log=lambda _: None)
    return model, data


def test_the_actor_meets_what_is_asked_and_ignores_nothing(fitted):
    model, data = fitted
    start = np.random.default_rng(1).standard_normal((300, 8)).astype(np.float32)
    busy = model.actor_latents(start, Constraints.parse("density=24.."), 0.5)
    sparse = model.actor_latents(start, Constraints.parse("density=..8"), 0.5)
    assert np.mean(16 + 6 * busy[:, 0] >= 24) > 0.8 > np.mean(16 + 6 * start[:, 0] >= 24) + 0.4
    assert np.mean(16 + 6 * sparse[:, 0] <= 8) > 0.8
    both = model.actor_latents(start, Constraints.parse("density=..8,timekeeper=ride,style=jazz"), 0.5)
    assert np.mean((16 + 6 * both[:, 0] <= 8) & (both[:, 1] > 0) & (both[:, 2] < 0)) > 0.6  # Every one of three.
    # What was not asked stays roughly where it was: the actor moves as little as it must.
    assert np.mean(np.abs(busy[:, 3:] - start[:, 3:])) < 0.5 * np.mean(np.abs(busy[:, 0] - start[:, 0]))


def test_the_critics_rank_first_the_draws_that_meet_every_condition(fitted):
    model, _ = fitted
    candidates = np.random.default_rng(4).standard_normal((200, 64, 8)).astype(np.float32)
    wanted = Constraints.parse("density=..10,timekeeper=ride,style=funk")
    meets = lambda z: (16 + 6 * z[..., 0] <= 10) & (z[..., 1] > 0) & (z[..., 2] > 0)  # noqa: E731
    order = model.rank(candidates, wanted, 0.5)
    assert sorted(order[0].tolist()) == list(range(64))  # A ranking of every candidate.
    best = candidates[np.arange(200), order[:, 0]]
    assert meets(best).mean() > 0.8 > meets(candidates).mean() + 0.6  # About 1 in 12 draws meets all three.
    worst = candidates[np.arange(200), order[:, -1]]
    assert meets(worst).mean() < 0.05


def test_edits_trade_how_far_they_move_for_how_much_they_meet(fitted):
    model, _ = fitted
    start = np.random.default_rng(2).standard_normal((100, 8)).astype(np.float32) * 0.5
    wanted = Constraints.parse("density=24..")
    near = model.edit_latents(start, wanted, 0.5, distance_weight=5.0)
    far = model.edit_latents(start, wanted, 0.5, distance_weight=0.05)
    assert np.linalg.norm(near - start, axis=1).mean() < np.linalg.norm(far - start, axis=1).mean()
    assert np.mean(16 + 6 * far[:, 0] >= 24) > 0.8


def test_saved_constraints_load_and_act_the_same(fitted, tmp_path):
    model, _ = fitted
    path = str(tmp_path / constraints.CONSTRAINT_FILE)
    model.save(path)
    again = constraints.ConstraintModel.load(path, StandardNormal(8))
    start = np.random.default_rng(3).standard_normal((20, 8)).astype(np.float32)
    wanted = Constraints.parse("density=20..24,style=funk")
    np.testing.assert_allclose(again.actor_latents(start, wanted, 0.5), model.actor_latents(start, wanted, 0.5),
                               atol=0.05)  # Saved in float16.
    (tmp_path / "bad.npz").write_bytes(b"not an npz")
    with pytest.raises(ValueError, match="bad.npz: not a constraints file"):
        constraints.ConstraintModel.load(str(tmp_path / "bad.npz"))
    with pytest.raises(ValueError, match="Unknown style 'polka'"):
        model.condition(Constraints.parse("style=polka"))


# === The bundled model ===
def test_the_bundled_models_beats_meet_what_is_asked_more_than_the_priors(bundled_vae):
    """Ride, no toms, sparse: the constrained beats meet it far more often than the prior's
    beats happen to, and still play like a drummer (the timekeeper holds, hits repeat)."""
    from groove_vae import evaluation

    n = 64  # The timekeeper rate of 24 beats ranged 0.09-0.25 over seeds; of 64, 0.08-0.18.
    plain = bundled_vae.sample_tensors(n, seed=11)
    for spec in ("timekeeper=ride", "density=..10", "no=toms,with=crash"):
        z, grooves, met = bundled_vae.constrained_sample(n, spec, seed=11)
        assert met.tolist() == bundled_vae.meets(grooves, spec).tolist()
        assert met.mean() >= 0.75 and met.mean() >= bundled_vae.meets(plain, spec).mean() + 0.3, spec
        assert z.shape == (n, bundled_vae.config.z_size)
        assert evaluation.timekeeper_change_rate(grooves) <= 0.2, spec  # Drummers: 0.07; N(0, I) draws: 0.19.
    assert not np.array_equal(bundled_vae.sample_tensors(4, seed=11, constraints="timekeeper=ride"), plain[:4])


def test_an_edit_keeps_most_of_the_beat_and_a_larger_distance_weight_keeps_more(bundled_vae, tfds_data_dir):
    from groove_vae import data, evaluation

    clips = data.load_split("groove/4bar-midionly", "test", 64).groove
    toms = clips[attributes.measure(clips)["toms"] >= 1.0][:12]
    edited = bundled_vae.steer(bundled_vae.encode_tensors(toms), constraints="no=toms")
    assert bundled_vae.meets(edited, "no=toms").mean() >= 0.5
    plain = bundled_vae.decode_tensors(bundled_vae.encode_tensors(toms), 0.5)
    kept, recon = evaluation.hit_scores(edited, toms)["hit_f1"], evaluation.hit_scores(plain, toms)["hit_f1"]
    assert kept >= 0.7 * recon  # The rest of the beat survives the edit.


def test_commands_and_errors(bundled_vae, tmp_path):
    from helpers import run_command

    from groove_vae import api

    result = run_command("sample", "--num_output=3", "--constraints=timekeeper=ride,no=toms", "--output_dir=out",
                         cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "of 3 beats meet ride_share=0.5..1, toms=0" in result.stdout
    assert len(list((tmp_path / "out").glob("*.mid"))) == 3
    bad = run_command("sample", "--constraints=density=200..", cwd=tmp_path)
    assert bad.returncode != 0 and "density (hits per bar) takes values from 0 to 144" in bad.stderr
    with pytest.raises(ValueError, match="Unknown style 'polka'"):
        bundled_vae.sample_tensors(1, constraints="style=polka")
    with pytest.raises(ValueError, match="tries must be"):
        bundled_vae.sample_tensors(1, constraints="toms=0", tries=0)
    without = api.GrooveVAE(bundled_vae.model, prior=bundled_vae.prior)
    with pytest.raises(ValueError, match="no constraints.npz; `groove-vae fit_constraints"):
        without.sample_tensors(1, constraints="toms=0")
