"""Style steering: the conditional prior's fit and sampling, its file, and that it steers."""

import shutil

import numpy as np
import pytest

from groove_vae import api, bundled, data, styles
from groove_vae.sampling import FeelMemory, Sampler, SamplingOptions, StandardNormal
from groove_vae.styles import StylePriors

# Five clips of a 2-d latent: two rock, two jazz, one funk (below min_clips=2).
MU = np.array([[1.0, 0.0], [3.0, 0.0], [0.0, 2.0], [0.0, 4.0], [5.0, 5.0]])
SIGMA = np.array([[0.5, 1.0], [0.5, 1.0], [1.0, 0.2], [1.0, 0.4], [1.0, 1.0]])
LABELS = np.array(["rock", "rock", "jazz", "jazz", "funk"])


@pytest.fixture
def priors():
    return StylePriors.fit(MU, SIGMA, LABELS, min_clips=2)


def test_each_style_gets_the_moments_of_its_aggregate_posterior(priors):
    assert priors.names == ("jazz", "rock") and list(priors.counts) == [2, 2]  # funk has one clip.
    rock = priors.index("rock")
    np.testing.assert_allclose(priors.means[rock], [2.0, 0.0])
    # Cov of the means (population) plus the mean posterior variance, per dimension.
    np.testing.assert_allclose(priors.scales[rock] @ priors.scales[rock].T, [[1.0 + 0.25, 0.0], [0.0, 1.0]], atol=1e-6)
    jazz = priors.index("jazz")
    np.testing.assert_allclose(priors.scales[jazz] @ priors.scales[jazz].T, [[1.0, 0.0], [0.0, 1.0 + 0.1]], atol=1e-6)
    assert np.allclose(np.triu(priors.scales[jazz], 1), 0.0)  # Lower-triangular: a Cholesky factor.


def test_attribute_vectors_follow_the_formula(priors):
    mean = MU.mean(axis=0)
    np.testing.assert_allclose(priors.vector("rock"), np.array([2.0, 0.0]) - mean, rtol=1e-6)
    np.testing.assert_allclose(priors.vector("jazz"), np.array([0.0, 3.0]) - mean, rtol=1e-6)


def steered(priors, noise, style, strength=1.0, steer="prior"):
    """What the sampler draws for `style` from this noise, over the plain prior N(0, I)."""
    sampler = Sampler(StandardNormal(priors.z_size), priors, FeelMemory())
    options = SamplingOptions(style=style, strength=strength, steer=steer)
    return sampler.steer(np.asarray(noise, np.float32), np.zeros(len(noise), np.float32), options).numpy()


def test_correlated_clips_give_a_correlated_prior_and_its_samples_have_its_moments():
    rng = np.random.default_rng(0)
    t = rng.standard_normal(500)
    mu = np.stack([t, 0.5 * t + 3.0, rng.standard_normal(500)], axis=1)
    priors = StylePriors.fit(mu, np.full_like(mu, 0.1), np.full(500, "dub"))
    z = steered(priors, rng.standard_normal((100_000, 3)), "dub")
    np.testing.assert_allclose(z.mean(axis=0), mu.mean(axis=0), atol=0.02)
    expected = np.cov(mu, rowvar=False, bias=True) + 0.01 * np.eye(3)
    np.testing.assert_allclose(np.cov(z, rowvar=False), expected, atol=0.03)
    assert np.corrcoef(z[:, 0], z[:, 1])[0, 1] > 0.9  # A diagonal Gaussian would give 0.


def test_strength_morphs_the_same_noise_from_the_plain_prior_to_the_style(priors):
    noise = np.random.default_rng(1).standard_normal((4, 2)).astype(np.float32)
    plain = noise  # The unsteered draw, from N(0, I) here.
    np.testing.assert_allclose(steered(priors, noise, "rock", strength=0.0), plain, rtol=1e-6)
    rock = priors.index("rock")
    full = priors.means[rock] + noise @ priors.scales[rock].T
    np.testing.assert_allclose(steered(priors, noise, "rock", strength=1.0), full, rtol=1e-6)
    np.testing.assert_allclose(steered(priors, noise, "rock", strength=0.5), (plain + full) / 2, rtol=1e-6)
    # Above 1: the style's draw, pushed further along its difference from the average clip.
    np.testing.assert_allclose(steered(priors, noise, "rock", strength=1.5), full + 0.5 * priors.vector("rock"),
                               rtol=1e-6)
    np.testing.assert_allclose(steered(priors, noise, "rock", 2.0, steer="vector"),
                               plain + 2 * priors.vector("rock"), rtol=1e-6)


def test_unknown_styles_and_ways_of_steering_are_refused_by_name(priors):
    with pytest.raises(ValueError, match="Unknown style 'polka'. Known styles: jazz, rock"):
        steered(priors, np.zeros((1, 2)), "polka")
    with pytest.raises(ValueError, match="steer must be one of prior, vector, got 'magic'"):
        steered(priors, np.zeros((1, 2)), "rock", steer="magic")
    with pytest.raises(ValueError, match="strength must be from 0 to 3"):
        steered(priors, np.zeros((1, 2)), "rock", strength=-1.0)
    with pytest.raises(ValueError, match="one label per clip"):
        StylePriors.fit(MU, SIGMA, LABELS[:3])


def test_priors_round_trip_through_their_file_and_old_vector_files_still_steer(priors, tmp_path):
    path = str(tmp_path / "styles.npz")
    priors.save(path)
    loaded = StylePriors.load(path)
    assert loaded.names == priors.names
    np.testing.assert_allclose(loaded.scales, priors.scales, rtol=1e-3)  # Stored in float16.
    np.testing.assert_array_equal(loaded.means, priors.means)
    # A styles.npz of bare attribute vectors (before conditional priors) loads as unit Gaussians
    # around them: both ways of steering then add the vector, as they did.
    old = str(tmp_path / "old.npz")
    np.savez(old, funk=np.array([1.0, -2.0], np.float32))
    noise = np.ones((3, 2), np.float32)
    for steer in ("prior", "vector"):
        np.testing.assert_allclose(steered(StylePriors.load(old), noise, "funk", steer=steer), noise + [1.0, -2.0])
    empty = str(tmp_path / "empty.npz")
    np.savez(empty)  # What the old compute_styles wrote when no style had enough clips.
    assert StylePriors.load(empty).names == ()


def test_a_model_refuses_styles_fitted_for_another_latent_size(priors, tmp_path):
    model_dir = tmp_path / "model"
    shutil.copytree(bundled.resolve(None), model_dir)
    priors.save(str(model_dir / api.STYLE_FILE))  # z_size 2; the model's is 256.
    with pytest.raises(ValueError, match=r"styles.npz: styles for z_size 2, the model's is 256; rerun"):
        api.load(str(model_dir))


def test_density_and_onset_pattern_count_hits_where_they_fall():
    groove = np.zeros((2, 64, 27), np.float32)
    groove[:, ::16, 0] = 1.0   # Kick on each downbeat.
    groove[0, 4::16, 1] = 1.0  # Snare on beat 2 in the first clip only.
    np.testing.assert_allclose(styles.density_profile(groove)[:2], [1.0, 0.5])
    pattern = styles.onset_pattern(groove)
    assert pattern.shape == (16, 9) and pattern[0, 0] == 1.0 and pattern[4, 1] == 0.5 and pattern.sum() == 1.5
    assert styles.pattern_distance(groove[:1], groove[1:]) == 1.0


def test_the_api_samples_styles_from_their_prior():
    from helpers import tiny_config
    from groove_vae.model import build_model

    vae = api.GrooveVAE(build_model(tiny_config()))
    z_size = vae.config.z_size
    vae.styles = StylePriors.fit(np.random.default_rng(0).normal(5.0, 0.1, (30, z_size)),
                                 np.full((30, z_size), 0.1), np.full(30, "funk"))
    noise = api.GrooveVAE(build_model(tiny_config())).sample_latents(64, seed=3)  # No prior file: N(0, I).
    np.testing.assert_allclose(vae.sample_latents(64, seed=3), noise, rtol=1e-6)
    funk = vae.sample_latents(64, seed=3, style="funk")
    np.testing.assert_allclose(funk, steered(vae.styles, noise, "funk"), rtol=1e-5)
    assert abs(funk.mean() - 5.0) < 0.1 and funk.std() < 0.3  # Drawn where the style's clips are.
    assert vae.style_names == ("funk",)
    with pytest.raises(ValueError, match="Known styles: funk"):
        vae.sample(1, style="polka")


def test_the_bundled_models_style_prior_brings_samples_closer_to_the_style(tfds_data_dir):
    """On real clips: fit priors on four styles of the test split that sound unlike the
    average beat (plain samples already match funk and rock, most of the data), then sample."""
    vae = api.load()
    clips = data.load_split("groove/4bar-midionly", "test", vae.config.num_steps)
    keep = np.isin(clips.styles, ["hiphop", "latin", "pop", "punk"])
    groove, labels = clips.groove[keep], clips.styles[keep]
    vae.styles = StylePriors.fit(*vae.posterior_tensors(groove), labels)
    rows = styles.compare_steering(vae, groove, labels, num_samples=100, temperature=0.5)
    assert [r["style"] for r in rows] == ["hiphop", "latin", "pop", "punk"]
    for r in rows:
        assert r["prior_pattern"] < r["plain_pattern"], r
    assert np.mean([r["prior_density"] for r in rows]) < np.mean([r["plain_density"] for r in rows])
