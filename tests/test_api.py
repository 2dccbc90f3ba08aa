import numpy as np
import pytest
from helpers import flat_beat, make_sequence, random_groove, tiny_config, to_midi_bytes

from groove_vae import api, converter
from groove_vae.groove import hits as hits_of
from groove_vae.groove import offsets as offsets_of
from groove_vae.groove import velocities as velocities_of
from groove_vae.model import build_model


def test_encode_accepts_paths_bytes_and_sequences(vae, tmp_path):
    ns = flat_beat()
    path = tmp_path / "beat.mid"
    path.write_bytes(to_midi_bytes(ns))
    from_path, from_bytes, from_ns = vae.encode(path), vae.encode(to_midi_bytes(ns)), vae.encode(ns)
    assert from_path.shape == (1, 8)
    np.testing.assert_allclose(from_path, from_bytes, atol=1e-6)
    np.testing.assert_allclose(from_path, from_ns, atol=1e-5)


def test_a_longer_file_is_played_in_windows_and_keeps_its_length(vae):
    ns = flat_beat(bars=10)
    assert vae.encode(ns).shape == (3, 8)  # 10 bars -> 3 consecutive windows, the last padded.
    out = vae.reconstruct(ns)
    assert 10 * 2.0 <= out.total_time < 10 * 2.0 + 0.25  # 10 bars at 120 qpm (a last note may ring over).
    assert max(n.start_time for n in out.notes) < 20.0


def test_interpolation_ends_are_the_inputs_latents_and_slerp_keeps_norms():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(16), rng.standard_normal(16)
    b *= np.linalg.norm(a) / np.linalg.norm(b)
    path = api.GrooveVAE.interpolate_latents(a, b, 7, "slerp")
    np.testing.assert_allclose(path[0], a, atol=1e-6)
    np.testing.assert_allclose(path[-1], b, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), np.linalg.norm(a), rtol=1e-5)
    linear = api.GrooveVAE.interpolate_latents(a, b, 7, "linear")
    assert np.linalg.norm(linear[3]) < np.linalg.norm(a)  # Linear cuts through the middle.


def test_blend_returns_each_corner_at_its_corner_and_mixes_bilinearly():
    corners = np.random.default_rng(0).standard_normal((4, 16)).astype(np.float32)
    for i, (x, y) in enumerate([(0, 0), (1, 0), (0, 1), (1, 1)]):
        np.testing.assert_allclose(api.blend_latents(corners, x, y), corners[i], atol=1e-6)
    np.testing.assert_allclose(api.blend_latents(corners, 0.5, 0.5), corners.mean(0), atol=1e-6)
    np.testing.assert_allclose(api.blend_latents(corners, 0.25, 0.0), 0.75 * corners[0] + 0.25 * corners[1], atol=1e-6)
    np.testing.assert_allclose(api.blend_latents(corners, 1.0, 0.5), (corners[1] + corners[3]) / 2, atol=1e-6)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        api.blend_latents(corners, 1.5, 0.0)
    with pytest.raises(ValueError, match="four corner latents"):
        api.blend_latents(corners[:3], 0.5, 0.5)


def test_interpolation_endpoints_reconstruct_their_inputs(vae):
    a, b = flat_beat(), make_sequence([(36, 90, i * 0.25) for i in range(32)])
    path = vae.interpolate(a, b, num_steps=4, temperature=1e-4)
    assert len(path) == 4

    def hits(ns):
        return hits_of(converter.note_sequence_to_groove(ns)) if ns.notes else np.zeros((64, 9))

    np.testing.assert_array_equal(hits(path[0]), hits(vae.reconstruct(a, temperature=1e-4)))
    np.testing.assert_array_equal(hits(path[-1]), hits(vae.reconstruct(b, temperature=1e-4)))


def test_humanize_keeps_the_hits_and_plays_them(vae):
    beat = flat_beat()
    played = vae.humanize(beat)
    before, after = converter.note_sequence_to_groove(beat), converter.note_sequence_to_groove(played)
    np.testing.assert_array_equal(hits_of(after), hits_of(before))
    hit = hits_of(before) > 0
    assert not np.allclose(velocities_of(after)[hit], 100 / 127, atol=1 / 127)
    assert np.any(np.abs(offsets_of(after)[hit]) > 1e-3)  # Off the grid (a tiny untrained model plays timidly).


def test_sample_is_reproducible(vae):
    np.testing.assert_array_equal(vae.sample_tensors(3, seed=2), vae.sample_tensors(3, seed=2))
    assert not np.array_equal(vae.sample_tensors(3, seed=2), vae.sample_tensors(3, seed=3))


@pytest.mark.parametrize(
    "midi, message",
    [
        (to_midi_bytes(make_sequence([(36, 100, 0.0)], numerator=3)), "not 4/4"),
        (to_midi_bytes(make_sequence([(60, 100, 0.0)], is_drum=False)), "no drum notes"),
        (b"not midi at all", "not a valid MIDI file"),
    ],
)
def test_bad_inputs_get_clear_errors(vae, midi, message):
    with pytest.raises(converter.ConversionError, match=message):
        vae.humanize(midi)


def test_bad_arguments_are_refused(vae, tmp_path):
    with pytest.raises(converter.ConversionError, match="is a directory"):
        vae.encode(tmp_path)
    with pytest.raises(ValueError, match="temperature"):
        vae.sample(1, temperature=0)
    with pytest.raises(ValueError, match="finite"):
        vae.decode(np.full((1, 8), np.nan))
    with pytest.raises(ValueError, match="num_steps"):
        vae.interpolate(flat_beat(), flat_beat(), num_steps=1)


def test_drumify_hears_only_the_rhythm_and_needs_a_tap_model(vae):
    tap_vae = api.GrooveVAE(build_model(tiny_config(extra="input_transform=tap")))
    rhythm = [0.0, 0.25, 0.375, 0.625, 0.75, 1.0, 1.5, 1.625]  # Seconds into each 2 s bar.
    on_kick = make_sequence([(36, 100, t + bar * 2.0) for bar in range(4) for t in rhythm])
    on_ride = make_sequence([(51, 100, t + bar * 2.0) for bar in range(4) for t in rhythm])
    np.testing.assert_allclose(tap_vae.encode(on_kick), tap_vae.encode(on_ride), atol=1e-6)
    groove = tap_vae.drumify(on_kick, temperature=1e-4)
    assert 8.0 <= groove.total_time < 8.25  # 4 bars at 120 qpm.
    with pytest.raises(ValueError, match="input_transform=tap"):
        vae.drumify(on_kick)


def test_bundled_models_load_by_name_and_unknown_names_are_refused():
    with pytest.raises(FileNotFoundError, match="bundled models: groovae_4bar, tap2drum, humanize"):
        api.load("no_such_model")


def test_the_bundled_tap2drum_model_drums_to_a_tapped_rhythm():
    tap = api.load("tap2drum")
    rhythm = [0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75]  # Eighth notes, tapped on one drum.
    taps = make_sequence([(38, 90, t + bar * 2.0) for bar in range(4) for t in rhythm])
    tapped = hits_of(converter.note_sequence_to_groove(taps)).max(-1) > 0.5
    assert tap.config.decoder_controls == "tap"  # Its decoder hears the taps at every step.
    for seed in range(3):
        hits = hits_of(converter.note_sequence_to_groove(tap.drumify(taps, temperature=0.5, seed=seed))) > 0.5
        np.testing.assert_array_equal(hits.any(-1), tapped)  # Every tap is played, and nothing else...
        assert len(np.flatnonzero(hits.sum(0) >= 4)) >= 2  # ...on more than one drum.


def test_the_bundled_humanize_model_keeps_the_hits_and_plays_them_with_a_drummers_spread():
    played_by = api.load("humanize")
    assert played_by.config.input_transform == "humanize"
    beat = flat_beat(velocity=100)
    flat = converter.note_sequence_to_groove(beat)
    played = converter.note_sequence_to_groove(played_by.humanize(beat, seed=0))
    hits = hits_of(flat) > 0.5
    np.testing.assert_array_equal(hits_of(played) > 0.5, hits)  # The same hits, none added or lost.
    velocities, offsets = velocities_of(played)[hits] * 127, offsets_of(played)[hits]
    assert velocities.std() > 10 and np.abs(offsets).mean() > 0.05  # Played, not programmed.
    assert played_by.humanize(beat, seed=0) == played_by.humanize(beat, seed=0)  # Seeded.


@pytest.mark.slow  # bfloat16 is emulated (slow) on CPUs without bfloat16 units.
def test_the_bundled_model_decodes_in_bfloat16_to_nearly_the_same_samples():
    fp32, bf16 = api.load(precision="float32"), api.load(precision="mixed_bfloat16")  # Not "auto".
    assert bf16.model.decoder.bar_decoder.lstm.compute_dtype == "bfloat16"
    a, b = fp32.sample_tensors(32, seed=4), bf16.sample_tensors(32, seed=4)
    assert b.dtype == np.float32
    assert (hits_of(a) == hits_of(b)).mean() > 0.99


def test_every_verb_draws_its_feel_at_its_own_temperature():
    """The hit memory depends on the temperature: a verb that made its draws at another
    temperature than it plays at would repeat its bars by the wrong amount."""
    vae = api.GrooveVAE(build_model(tiny_config(extra="groove_heads=binned,hit_memory=[0.0,0.2,0.9,0.9,0.9]")))
    z = np.random.default_rng(3).normal(size=(2, vae.config.z_size)).astype(np.float32)
    draws = {t: vae.feel_draws(2, 4, seed=5, temperature=t) for t in (0.5, 1.0)}
    assert not np.array_equal(draws[0.5], draws[1.0])
    np.testing.assert_array_equal(vae.decode_tensors(z, 0.5, 5), vae.decode_tensors(z, 0.5, 5, draws[0.5]))
    groove = random_groove(np.random.default_rng(4), 2)
    keep = np.eye(9, dtype=np.float32)[0]
    np.testing.assert_array_equal(vae.infill_tensors(groove, keep, 0.5, 5),
                                  vae.infill_tensors(groove, keep, 0.5, 5, draws[0.5]))
    song = random_groove(np.random.default_rng(6), 1, 8 * 16)[0]
    seen = []
    vae.play_windows(song, lambda w, d: seen.append(d) or w, seed=5, temperature=0.5)
    whole = vae.feel_draws(vae.window_candidates, 8, seed=5, temperature=0.5)
    np.testing.assert_array_equal(seen[0][0], whole[0, :64])  # The first window's slice of the song's draws...
    np.testing.assert_array_equal(seen[0][1], whole[0, 32:96])  # ...and the next window's, two bars on.


def test_feel_draws_remember_the_bar_before_through_a_whole_song():
    memories = "hit_memory=[0.0,0.1,0.5,0.7,0.7],velocity_memory=0.9,timing_memory=0.3"
    vae = api.GrooveVAE(build_model(tiny_config(extra=f"groove_heads=binned,{memories}")))
    draws = vae.feel_draws(400, 8, seed=2, temperature=1.0)  # 400 songs of 8 bars: 2 windows' worth and more.
    assert draws.shape == (400, 8 * 16, 27)
    bars = draws.reshape(400, 8, 16, 27)
    follow = lambda channels, bars=bars: np.corrcoef(bars[:, 1:, :, channels].ravel(),  # noqa: E731
                                                     bars[:, :-1, :, channels].ravel())[0, 1]
    assert follow(slice(0, 9)) == pytest.approx(0.5, abs=0.03)  # Hits, at temperature 1.
    assert follow(slice(9, 18)) == pytest.approx(0.9, abs=0.02)  # Velocities, at every bar of the song.
    assert follow(slice(18, 27)) == pytest.approx(0.3, abs=0.03)  # Offsets.
    cool = vae.feel_draws(400, 8, seed=2, temperature=0.6).reshape(400, 8, 16, 27)
    assert follow(slice(0, 9), cool) == pytest.approx(0.04, abs=0.03)  # A cooler draw repeats by itself.
    assert draws.std() == pytest.approx(1.0, abs=0.02)  # Each draw still a standard normal score.
    np.testing.assert_array_equal(vae.feel_draws(2, 8, seed=2, temperature=1.0), draws[:2])  # A seed, a song.
    with pytest.raises(ValueError, match="temperature"):
        vae.feel_draws(2, 8, seed=2, temperature=float("nan"))
    with pytest.raises(ValueError, match=r"feel draws \[3, 64, 27\]"):
        vae.decode_tensors(np.zeros((3, vae.config.z_size)), draws=draws[:3, :32])
