"""The sampler: its priors, their file, the feel memory's table, the options, and that every
door (the Python API, `groove-vae sample`, the web app, the SavedModel) plays the same beat."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf
from helpers import random_groove, run_command, serve_in_thread, tiny_config

from groove_vae import api, converter
from groove_vae.groove import hits as hits_of
from groove_vae.groove import velocities as velocities_of
from groove_vae.sampling import (FeelMemory, GaussianMixture, Given, Sampler, SamplingOptions, StandardNormal,
                                 StepSampler, load_prior)
from groove_vae.styles import StylePriors


def two_bumps(z_size=3):
    """A mixture of a narrow bump at +4 (weight 0.25) and a wide one at -4 (weight 0.75)."""
    means = np.stack([np.full(z_size, 4.0), np.full(z_size, -4.0)]).astype(np.float32)
    scales = np.stack([0.1 * np.eye(z_size), 2.0 * np.eye(z_size)]).astype(np.float32)
    return GaussianMixture(np.array([0.25, 0.75]), means, scales)


def test_a_mixture_draws_each_component_by_its_weight_with_its_own_spread():
    prior = two_bumps()
    z = Sampler(prior, StylePriors.empty(3), FeelMemory()).latents(20_000, SamplingOptions(seed=1)).numpy()
    narrow = np.all(np.abs(z - 4.0) < 1.0, axis=1)
    assert narrow.mean() == pytest.approx(0.25, abs=0.02)
    np.testing.assert_allclose(z[narrow].mean(axis=0), 4.0, atol=0.01)
    np.testing.assert_allclose(z[narrow].std(axis=0), 0.1, rtol=0.05)
    np.testing.assert_allclose(z[~narrow].std(axis=0), 2.0, rtol=0.05)
    again = Sampler(prior, StylePriors.empty(3), FeelMemory()).latents(20_000, SamplingOptions(seed=1)).numpy()
    np.testing.assert_array_equal(z, again)  # A seed, the same latents.
    normal = Sampler(prior, StylePriors.empty(3), FeelMemory()).latents(5_000, SamplingOptions(seed=1, prior="normal"))
    assert abs(float(tf.reduce_mean(normal))) < 0.05 and float(tf.math.reduce_std(normal)) == pytest.approx(1.0, abs=0.05)


def test_a_mixture_draw_is_its_components_mean_plus_its_factor_times_the_noise_eagerly_and_in_a_graph():
    """Each row is multiplied by the factor of the component it picked, and by no other."""
    rng = np.random.default_rng(0)
    k, z, n = 3, 5, 40
    weights, scales = np.array([0.2, 0.3, 0.5]), np.tril(rng.normal(size=(k, z, z))).astype(np.float32)
    prior = GaussianMixture(weights, rng.normal(size=(k, z)).astype(np.float32), scales, spread=0.6)
    noise, pick = rng.normal(size=(n, z)).astype(np.float32), rng.random(n).astype(np.float32)
    component = np.searchsorted(np.cumsum(weights), pick, side="right")
    assert set(component) == {0, 1, 2}
    expected = prior.means[component] + np.sqrt(0.6) * np.einsum("nij,nj->ni", scales[component], noise)
    eager = prior.latents(noise, pick).numpy()
    np.testing.assert_allclose(eager, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(tf.function(prior.latents)(noise, pick).numpy(), eager)


def test_the_api_draws_from_a_replaced_prior():
    """The API draws latents through a graph holding its prior's arrays (batches up to
    `jit_max_batch`): a prior put in its place is the one drawn from, not the first."""
    from helpers import tiny_config

    from groove_vae.model import build_model

    config = tiny_config()
    vae = api.GrooveVAE(build_model(config), prior=two_bumps(config.z_size))
    vae.jit_max_batch = 64
    drawn = []
    for spread in (1.0, 0.01):  # Then each bump 10 times narrower.
        vae.sampler.prior = dataclasses.replace(vae.sampler.prior, spread=spread)
        drawn.append(vae.sample_latents(64, seed=2))
        np.testing.assert_array_equal(drawn[-1], vae.sampler.latents(64, SamplingOptions(seed=2)).numpy())
    wide, narrow = drawn
    near_a_centre = lambda z: np.all(np.abs(np.abs(z) - 4.0) < 1.0)  # noqa: E731
    assert near_a_centre(narrow) and not near_a_centre(wide)


def test_a_prior_file_round_trips_and_a_bad_one_is_refused_by_name(tmp_path):
    prior = two_bumps()
    prior.save(str(tmp_path / "prior.npz"))
    loaded = load_prior(str(tmp_path), 3)
    np.testing.assert_array_equal(loaded.means, prior.means)
    np.testing.assert_allclose(loaded.scales, prior.scales, rtol=1e-3)  # Stored in float16.
    assert loaded.spread == prior.spread and loaded.names == prior.names
    assert isinstance(load_prior(str(tmp_path / "none"), 3), StandardNormal)  # No file: N(0, I).
    with pytest.raises(ValueError, match="prior.npz: a prior over z of size 3, the model's is 8"):
        load_prior(str(tmp_path), 8)
    (tmp_path / "prior.npz").write_bytes(b"not numpy")
    with pytest.raises(ValueError, match="prior.npz: not a prior file"):
        load_prior(str(tmp_path), 3)
    with pytest.raises(ValueError, match="weights must sum to 1"):
        GaussianMixture(np.array([0.5, 0.2]), prior.means, prior.scales)


def test_the_hit_memory_table_is_read_between_its_temperatures_in_python_and_in_a_graph():
    memory = FeelMemory((0.0, 0.1, 0.6, 0.8, 0.8), 0.7, 0.2)
    for temperature, hit in ((0.1, 0.0), (0.5, 0.0), (0.625, 0.05), (1.0, 0.6), (1.1, 0.68), (3, 0.8)):
        assert float(memory.at(temperature)[0]) == pytest.approx(hit)
        assert float(tf.function(lambda t: memory.at(t)[0])(tf.constant(temperature, tf.float32))) == pytest.approx(hit)
    assert memory.at(1.0)[1:] == (0.7, 0.2)


def test_options_refuse_bad_values_by_name():
    for kwargs, message in (({"temperature": 0.0}, "temperature must be above 0"), ({"seed": -1}, "seed must be"),
                            ({"prior": "anchors"}, "prior must be one of fitted, normal"),
                            ({"steer": "magic"}, "steer must be one of prior, vector"),
                            ({"strength": 4.0}, "strength must be from 0 to 3"),
                            ({"memory": (0.1, 0.2)}, "memory is \\(hit, velocity, timing\\)")):
        with pytest.raises(ValueError, match=message):
            SamplingOptions(**kwargs)


@pytest.fixture(scope="module")
def float32_vae():
    vae = api.load(precision="float32")
    vae.jit_max_batch = 64  # As users get it: batches up to 64 through XLA (the tests default to the graph).
    return vae


def test_every_door_plays_the_same_beat_for_the_same_seed(float32_vae, tmp_path):
    """The Python API, `groove-vae sample`, the web app and the exported SavedModel's `sample`
    signature, over 10 seeds at the default temperature 0.5: the same latents, the same hits."""
    requests = pytest.importorskip("requests")
    from groove_vae.export import export_model
    from groove_vae.webapp import app as webapp

    vae = float32_vae
    seeds = range(10)
    expected = {s: vae.sample_tensors(1, seed=s)[0] for s in seeds}
    assert len({hits_of(g).tobytes() for g in expected.values()}) == 10  # Ten different beats.
    served = tf.saved_model.load(export_model(vae, str(tmp_path / "export")))
    with serve_in_thread(webapp.create_app(vae)) as url:
        for seed in seeds:
            out = served.signatures["sample"](batch_size=tf.constant(1), temperature=tf.constant(0.5),
                                              seed=tf.constant(seed), style=tf.constant(""),
                                              strength=tf.constant(1.0))
            np.testing.assert_allclose(out["z"].numpy()[0], vae.sample_latents(1, seed)[0], atol=1e-5)
            np.testing.assert_array_equal(out["hits"].numpy()[0], hits_of(expected[seed]), err_msg=f"seed {seed}")
            # XLA (the API at batch 1) and the SavedModel's graph round the last bits differently.
            np.testing.assert_allclose(out["velocities"].numpy()[0], velocities_of(expected[seed]), atol=1e-3)
            web = requests.post(url + "/api/sample", json={"seed": seed}, timeout=60).json()
            assert {(n["step"], n["drum"]) for n in web["beat"]["notes"]} == set(zip(*np.nonzero(hits_of(expected[seed]))))
        for seed in (0, 7):  # The command reads back through MIDI: the hits survive it exactly.
            result = run_command("sample", f"--seed={seed}", "--num_output=1", "--precision=float32",
                                 f"--output_dir={tmp_path / str(seed)}", cwd=tmp_path)
            assert result.returncode == 0, result.stderr
            written = converter.midi_to_groove(str(tmp_path / str(seed) / "sample_000.mid"))
            np.testing.assert_array_equal(hits_of(written), hits_of(expected[seed]))


def test_xla_on_a_padded_batch_plays_the_graphs_hits(float32_vae):
    """Batches go through XLA padded to a power of two: the padding changes nothing."""
    z = np.random.default_rng(4).normal(size=(3, 256)).astype(np.float32)
    xla = float32_vae.decode_tensors(z, 0.5, 9)  # Padded to 4.
    float32_vae.jit_max_batch = 0
    try:
        graph = float32_vae.decode_tensors(z, 0.5, 9)
    finally:
        float32_vae.jit_max_batch = 64
    assert xla.shape == (3, 64, 27)
    np.testing.assert_array_equal(hits_of(xla), hits_of(graph))
    np.testing.assert_allclose(xla, graph, atol=1e-3)


@pytest.fixture(scope="module")
def float32_tap_vae():
    vae = api.load("tap2drum", precision="float32")
    vae.jit_max_batch = 64
    return vae


@pytest.mark.parametrize("verb", ["sample", "humanize", "infill", "drumify"])
def test_a_batch_decoded_in_chains_plays_what_one_chain_plays(float32_vae, float32_tap_vae, verb, monkeypatch):
    """XLA traces each padded batch size with its size known, and from 32 rows on the step
    loop runs as chains of 16 rows, each drawing its own rows' draws: the beats are the
    ones the graph plays in one chain of all rows, what is given (hits, kept drums, taps)
    included."""
    loaded = float32_tap_vae if verb == "drumify" else float32_vae
    vae = api.GrooveVAE(loaded.model, prior=loaded.sampler.prior)  # Its own graphs, traced below.
    vae.jit_max_batch = 64
    chains, rows = [], StepSampler.rows
    monkeypatch.setattr(StepSampler, "rows", lambda sampler, part: chains.append(part) or rows(sampler, part))
    n, keep = 40, np.eye(9, dtype=np.float32)[[0, 1]].sum(0)  # Padded to 64: four chains. Infill keeps kick, snare.
    grooves = random_groove(np.random.default_rng(5), n)
    play = {"sample": lambda: vae.decode_tensors(vae.sample_latents(n, seed=3), 0.5, 3),
            "humanize": lambda: vae.humanize_tensors(grooves, seed=3),
            "infill": lambda: vae.infill_tensors(grooves, keep, seed=3),
            "drumify": lambda: vae.drumify_tensors(grooves, seed=3)}[verb]

    chained = play()
    assert chains == [slice(start, start + 16) for start in (0, 16, 32, 48)]
    vae.jit_max_batch = 0
    one_chain = play()
    assert len(chains) == 4  # The graph's batch size is unknown when traced: one chain.
    np.testing.assert_array_equal(hits_of(chained), hits_of(one_chain))
    np.testing.assert_allclose(chained, one_chain, atol=1e-3)
    if verb == "humanize":
        np.testing.assert_array_equal(hits_of(chained), hits_of(grooves))
    if verb == "infill":
        np.testing.assert_array_equal(chained[..., [0, 1, 9, 10, 18, 19]], grooves[..., [0, 1, 9, 10, 18, 19]])


def _step_sampler(vae, n, given=Given()):
    scores = vae.model.feel.scores(n, vae.config.num_bars, 0, 0.5, vae.config.steps_per_bar)
    return StepSampler(vae.model.representation, 0.5, tf.constant([0, 0]), scores, given)


def test_a_step_sampler_of_some_rows_draws_what_the_whole_batch_draws_for_them(float32_vae):
    rng = np.random.default_rng(2)
    n, rows = 8, slice(2, 6)
    given = Given(hits=tf.constant(rng.random((n, 64, 9)) < 0.2, tf.float32), point_feel=False)
    outputs = tf.constant(rng.normal(size=(n, float32_vae.model.representation.output_depth)), tf.float32)
    for sampler in (_step_sampler(float32_vae, n), _step_sampler(float32_vae, n, given)):
        whole, part = sampler(7, outputs), sampler.rows(rows)(7, outputs[rows])
        np.testing.assert_array_equal(part.numpy(), whole.numpy()[rows])
    assert given.rows(rows).hits.shape == (4, 64, 9) and given.rows(rows).groove is None


def test_a_representation_that_draws_over_the_whole_batch_decodes_in_one_chain(float32_vae):
    """The drums representation draws each step's pattern from the seed over the batch:
    split into chains, a row would draw another row's numbers."""
    from groove_vae import decoders
    from groove_vae.model import build_model

    model = build_model(tiny_config("drums_4bar_flat"))
    sampler = StepSampler(model.representation, 1.0, tf.constant([0, 0]), tf.zeros([64, 64, 27]))
    assert decoders._chains(64, False, sampler) == [None]
    with pytest.raises(ValueError, match="drums representation draws over the whole batch"):
        sampler.rows(slice(0, 16))
    grooves = _step_sampler(float32_vae, 64)
    assert decoders._chains(None, False, grooves) == decoders._chains(64, True, grooves) == [None]  # Unknown size, training.


def test_the_savedmodel_steers_toward_a_style_as_the_api_does_and_refuses_an_unknown_one(float32_vae, tmp_path):
    from groove_vae.export import export_model

    vae = float32_vae
    served = tf.saved_model.load(export_model(vae, str(tmp_path / "export")))
    sample = served.signatures["sample"]
    out = sample(batch_size=tf.constant(2), temperature=tf.constant(0.5), seed=tf.constant(3),
                 style=tf.constant("funk"), strength=tf.constant(0.7))
    np.testing.assert_allclose(out["z"].numpy(), vae.sample_latents(2, 3, "funk", 0.7), atol=1e-4)
    np.testing.assert_array_equal(out["hits"].numpy(), hits_of(vae.sample_tensors(2, 0.5, 3, "funk", 0.7)))
    with pytest.raises(tf.errors.InvalidArgumentError, match="Unknown style. Known styles: afrobeat"):
        sample(batch_size=tf.constant(1), temperature=tf.constant(0.5), seed=tf.constant(0),
               style=tf.constant("polka"), strength=tf.constant(1.0))
    with pytest.raises(tf.errors.InvalidArgumentError, match="strength must be from 0 to 3"):
        sample(batch_size=tf.constant(1), temperature=tf.constant(0.5), seed=tf.constant(0),
               style=tf.constant("funk"), strength=tf.constant(9.0))


def test_a_python_caller_of_the_savedmodel_can_leave_out_what_has_a_default(tmp_path):
    """The loaded SavedModel's functions take the signatures' defaults (TF Serving fills them
    from the SignatureDef; `signatures[...]` itself wants every input)."""
    from helpers import tiny_config

    from groove_vae.export import export_model
    from groove_vae.model import build_model

    vae = api.GrooveVAE(build_model(tiny_config()))
    served = tf.saved_model.load(export_model(vae, str(tmp_path / "export")))
    z = tf.constant(np.random.default_rng(0).normal(size=(2, vae.config.z_size)), tf.float32)
    decoded = served.serving_default(z)
    np.testing.assert_array_equal(decoded["hits"].numpy(), hits_of(vae.decode_tensors(z.numpy(), 1.0, 0)))
    sampled = served.sample(tf.constant(3))
    np.testing.assert_array_equal(sampled["hits"].numpy(), hits_of(vae.sample_tensors(3, 0.5, 0)))
    assert served.sample(tf.constant(3), seed=tf.constant(4))["z"].shape == (3, vae.config.z_size)


def test_fit_prior_writes_a_prior_that_load_samples_from(tmp_path, tfds_data_dir):
    import shutil

    from groove_vae import bundled

    model_dir = tmp_path / "model"
    shutil.copytree(bundled.resolve(None), model_dir, ignore=shutil.ignore_patterns("prior.npz"))
    assert api.load(str(model_dir)).prior.name == "standard normal"  # No prior file yet.
    result = run_command("fit_prior", f"--run_dir={model_dir}", "--split=validation", "--num_samples=50",
                         cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "components over" in result.stdout and "copies" in result.stdout
    vae = api.load(str(model_dir))
    assert isinstance(vae.prior, GaussianMixture) and "2-2-2-2" in vae.prior.names and vae.prior.spread == 0.6
    np.testing.assert_allclose(vae.prior.weights.sum(), 1.0, rtol=1e-6)
    refused = run_command("fit_prior", f"--run_dir={model_dir}", "--spread=0", cwd=tmp_path)
    assert refused.returncode != 0 and "--spread must be above 0" in refused.stderr


def test_the_bundled_prior_makes_new_beats_at_both_temperatures(tfds_data_dir):
    """1,000 beats as `groove-vae sample` draws them: no replayed training clips, no
    repeats, no empty beat (the anchors it replaced copied 2.2% at T=0.5, nearest 18)."""
    from groove_vae import data, novelty

    vae = api.load()
    train = data.load_split("groove/4bar-midionly", "train", vae.config.num_steps)
    for temperature, nearest in ((0.5, 24.5), (1.0, 30.0)):  # 25 at T=0.5 on this seed in float32 and bfloat16.
        figures = novelty.novelty(vae.sample_tensors(1000, temperature, seed=7), train.groove)
        assert figures["exact_copies"] <= 0.005 and figures["within_4"] <= 0.03, figures
        assert figures["mean_nearest"] >= nearest and figures["duplicates"] <= 0.005 and figures["empty"] == 0, figures


def test_a_shared_timekeeper_draw_ties_only_the_timekeepers_scores_across_the_performance():
    from groove_vae import groove as layout
    from groove_vae.sampling import FeelMemory

    plain = FeelMemory((0.0,), 0.0, 0.0).scores(4000, 4, 3, 0.5).numpy()
    tied = FeelMemory((0.0,), 0.0, 0.0, 0.9).scores(4000, 4, 3, 0.5).numpy()
    others = [c for c in range(layout.GROOVE_DEPTH) if c not in layout.TIMEKEEPERS]
    np.testing.assert_array_equal(tied[..., others], plain[..., others])
    keepers = tied[..., list(layout.TIMEKEEPERS)]
    assert abs(keepers.std() - 1.0) < 0.02  # Still a normal score...
    first, last = keepers[:, 0].ravel(), keepers[:, -1].ravel()  # ...but step 0 and step 63 move together.
    assert np.corrcoef(first, last)[0, 1] == pytest.approx(0.9, abs=0.03)
    assert abs(np.corrcoef(plain[:, 0, 2], plain[:, -1, 2])[0, 1]) < 0.05
