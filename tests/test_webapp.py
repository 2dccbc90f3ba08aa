"""The web app's HTTP API, over real HTTP against uvicorn on 127.0.0.1.

The bundled model (shared with the browser tests) and a tiny untrained tap model.
"""

import io
import json
import logging
import os
import subprocess
import sys
import wave

import mido
import numpy as np
import pytest
from helpers import (
    ROOT,
    flat_beat,
    make_sequence,
    serve_in_thread,
    tiny_config,
    to_midi_bytes,
)

pytest.importorskip("fastapi")
requests = pytest.importorskip("requests")

from groove_vae import api, converter, paths  # noqa: E402
from groove_vae.drums import DEFAULT_DRUM_PITCHES  # noqa: E402
from groove_vae.groove import hits as hits_of  # noqa: E402
from groove_vae.model import build_model  # noqa: E402
from groove_vae.webapp import app as webapp  # noqa: E402
from groove_vae.webapp import server  # noqa: E402

EXEMPLAR_PITCHES = {pitches[0] for pitches in DEFAULT_DRUM_PITCHES}


@pytest.fixture(scope="module")
def models(bundled_vae):
    tap_vae = api.GrooveVAE(build_model(tiny_config(extra="input_transform=tap")))
    webapp.warm_up(tap_vae)
    return bundled_vae, tap_vae


@pytest.fixture(scope="module")
def url(models):
    with serve_in_thread(webapp.create_app(*models, max_upload_bytes=100_000)) as base:
        yield base


def post(url, path, **kwargs):
    return requests.post(url + path, timeout=30, **kwargs)


def beat_hits(beat):
    return {(n["step"], n["drum"]) for n in beat["notes"]}


def test_the_page_and_its_files_are_served(url):
    page = requests.get(url + "/", timeout=10)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "Beat Blender" in page.text and 'src="/static/app.js"' in page.text
    assert "http://" not in page.text.replace('href="/api/docs"', "")  # Nothing from elsewhere.
    for name in ("app.js", "grid.js", "player.js", "style.css"):
        response = requests.get(f"{url}/static/{name}", timeout=10)
        assert response.status_code == 200 and len(response.text) > 500, name
        assert "https://" not in response.text, f"{name} loads something from the internet"
    info = requests.get(url + "/api/info", timeout=10).json()
    assert "funk" in info["styles"] and info["drumify"] == {"available": True, "message": None}
    assert info["drums"][0] == "kick" and info["steps"] == 64 and info["max_upload_bytes"] == 100_000


def test_sample_is_a_reproducible_beat_with_its_latent(url, models):
    vae, _ = models
    body = {"seed": 7, "temperature": 0.8, "qpm": 96}
    first, again = post(url, "/api/sample", json=body).json(), post(url, "/api/sample", json=body).json()
    assert first == again
    assert first["beat"]["qpm"] == 96 and len(first["z"]) == 256 and first["beat"]["notes"]
    for note in first["beat"]["notes"]:
        assert 0 <= note["step"] < 64 and 0 <= note["drum"] < 9
        assert 0 <= note["velocity"] <= 1 and -1 <= note["offset"] <= 1
    # The library's own sample for the same seed: the page and the scripts agree.
    groove = vae.sample_tensors(1, 0.8, 7)[0]
    assert beat_hits(first["beat"]) == set(zip(*map(list, np.nonzero(hits_of(groove) > 0.5))))
    decoded = post(url, "/api/decode", json={"z": first["z"], "temperature": 0.8, "seed": 7, "qpm": 96}).json()
    assert decoded["beat"] == first["beat"]
    funk = post(url, "/api/sample", json={**body, "style": "funk", "strength": 1.0}).json()
    np.testing.assert_allclose(funk["z"], vae.sample_latents(1, 7, "funk")[0], atol=1e-5)  # The style's prior.
    vector = post(url, "/api/sample", json={**body, "style": "funk", "steer": "vector"}).json()
    np.testing.assert_allclose(np.array(vector["z"]) - first["z"], vae.styles.vector("funk"), atol=1e-5)
    assert funk["beat"] != first["beat"]


def test_midi_download_is_general_midi_drums_that_read_back(url):
    beat = {"qpm": 100, "notes": [
        {"step": 0, "drum": 0, "velocity": 1.0, "offset": 0.0},
        {"step": 4, "drum": 1, "velocity": 0.5, "offset": 0.4},
        {"step": 6, "drum": 2, "velocity": 0.3, "offset": -0.4},
        {"step": 63, "drum": 8, "velocity": 0.7, "offset": 0.0},
    ]}
    response = post(url, "/api/midi", json=beat)
    assert response.status_code == 200 and response.headers["content-type"] == "audio/midi"
    assert "attachment" in response.headers["content-disposition"]
    midi = mido.MidiFile(file=io.BytesIO(response.content))
    note_ons = [m for track in midi.tracks for m in track if m.type == "note_on" and m.velocity > 0]
    assert len(note_ons) == 4 and {m.channel for m in note_ons} == {9}  # Channel 10.
    assert {m.note for m in note_ons} <= EXEMPLAR_PITCHES
    assert any(m.type == "time_signature" and (m.numerator, m.denominator) == (4, 4)
               for track in midi.tracks for m in track)
    groove = converter.midi_to_groove(response.content)
    assert sorted(zip(*np.nonzero(hits_of(groove)))) == [(0, 0), (4, 1), (6, 2), (63, 8)]
    np.testing.assert_allclose(groove[[0, 4, 6], [9, 10, 11]], [1.0, 0.5, 0.3], atol=1 / 127)
    np.testing.assert_allclose(groove[[4, 6], [19, 20]], [0.4, -0.4], atol=0.05)


def test_blend_corners_are_the_corner_latents_decoded_with_one_seed(url):
    corners = [post(url, "/api/sample", json={"seed": s}).json()["z"] for s in range(4)]
    at = {}
    for x, y in [(0, 0), (1, 1), (0.5, 0.5), (0.3, 0.8)]:
        result = post(url, "/api/blend", json={"corners": corners, "x": x, "y": y, "seed": 5, "temperature": 0.5})
        assert result.status_code == 200, result.text
        at[x, y] = result.json()
    np.testing.assert_allclose(at[0, 0]["z"], corners[0], atol=1e-5)
    np.testing.assert_allclose(at[1, 1]["z"], corners[3], atol=1e-5)
    np.testing.assert_allclose(at[0.5, 0.5]["z"], np.mean(corners, axis=0), atol=1e-5)
    decoded = post(url, "/api/decode", json={"z": corners[3], "seed": 5, "temperature": 0.5}).json()
    assert at[1, 1]["beat"] == decoded["beat"]  # Moving the point changes only the latent.
    assert at[0.3, 0.8]["beat"] != at[0, 0]["beat"]


def test_upload_then_humanize_keeps_the_hits_and_plays_them(url):
    upload = post(url, "/api/upload", files={"file": ("flat.mid", to_midi_bytes(flat_beat()), "audio/midi")})
    assert upload.status_code == 200, upload.text
    uploaded = upload.json()
    assert uploaded["name"] == "flat.mid" and uploaded["bars"] == 4 and len(uploaded["z"]) == 256
    assert len(uploaded["beat"]["notes"]) == 16 * 3 and uploaded["beat"]["qpm"] == 120
    assert {round(n["velocity"], 3) for n in uploaded["beat"]["notes"]} == {round(100 / 127, 3)}
    played = post(url, "/api/humanize", json={"beat": uploaded["beat"], "seed": 1}).json()["beat"]
    assert beat_hits(played) == beat_hits(uploaded["beat"])
    assert len({n["velocity"] for n in played["notes"]}) > 5  # Dynamics, not one flat velocity.
    assert any(abs(n["offset"]) > 1e-3 for n in played["notes"])
    long = post(url, "/api/upload", files={"file": ("long.mid", to_midi_bytes(flat_beat(bars=10)))}).json()
    assert long["bars"] == 10 and long["beat"]["steps"] == 256  # Shown whole, on a 16-bar grid.
    assert 144 <= max(n["step"] for n in long["beat"]["notes"]) < 160


def test_drumify_hears_only_the_rhythm(url):
    rhythm = [0, 3, 6, 8, 12, 14]

    def beat(drum):
        return {"qpm": 120, "notes": [{"step": s + 16 * bar, "drum": drum} for bar in range(4) for s in rhythm]}

    on_kick = post(url, "/api/drumify", json={"beat": beat(0), "temperature": 0.3, "seed": 2})
    on_ride = post(url, "/api/drumify", json={"beat": beat(8), "temperature": 0.3, "seed": 2})
    assert on_kick.status_code == 200, on_kick.text
    assert on_kick.json() == on_ride.json()
    assert on_kick.json()["beat"]["notes"]


def test_without_a_tap_model_drumify_is_503_and_says_why(models):
    with serve_in_thread(webapp.create_app(models[0], None, tap_message="No tap model here.")) as base:
        assert requests.get(base + "/api/info", timeout=10).json()["drumify"] == {
            "available": False, "message": "No tap model here."}
        response = post(base, "/api/drumify", json={"beat": {"notes": [{"step": 0, "drum": 0}]}})
    assert response.status_code == 503 and response.json() == {"error": "No tap model here."}
    with pytest.raises(ValueError, match="needs tap"):
        webapp.create_app(models[0], models[0])


MIDI_3_4 = to_midi_bytes(make_sequence([(36, 100, 0.0), (38, 100, 0.5)], numerator=3))
PIANO = to_midi_bytes(make_sequence([(60, 100, 0.0), (64, 100, 0.5)], is_drum=False))


@pytest.mark.parametrize("name, data, status, message", [
    ("notes.txt", b"this is not MIDI", 415, "notes.txt: not a valid MIDI file"),
    ("empty.mid", b"", 415, "empty.mid: not a MIDI file (empty)"),
    ("truncated.mid", to_midi_bytes(flat_beat())[:40], 415, "not a valid MIDI file"),
    ("waltz.mid", MIDI_3_4, 422, "waltz.mid: meter 3/4 is not 4/4"),
    ("piano.mid", PIANO, 422, "piano.mid: no drum notes"),
    ("slow.mid", to_midi_bytes(make_sequence([(36, 100, 0.0)], qpm=8.0)), 422, "slow.mid: tempo 8 qpm; the app takes 20"),
    ("huge.mid", b"MThd" + bytes(150_000), 413, "over the 0.1 MB limit"),
])
def test_bad_uploads_are_4xx_with_a_clear_message(url, name, data, status, message):
    response = post(url, "/api/upload", files={"file": (name, data, "audio/midi")})
    assert response.status_code == status, response.text
    assert message in response.json()["error"]


def test_a_body_over_the_limit_without_its_length_is_413(url):
    chunks = (bytes(20_000) for _ in range(10))  # Sent chunked: no Content-Length.
    response = post(url, "/api/midi", data=chunks, headers={"Content-Type": "application/json"})
    assert response.status_code == 413 and "limit" in response.json()["error"]


@pytest.mark.parametrize("path, body, message", [
    ("/api/sample", {"temperature": 0}, "temperature: Input should be greater than 0"),
    ("/api/sample", {"style": "polka"}, "Unknown style 'polka'. Known styles: afrobeat, afrocuban"),
    ("/api/sample", {"seed": -1}, "seed"),
    ("/api/decode", {"z": [0.0] * 7}, "z must have shape [batch, 256]"),
    ("/api/decode", {"z": [float("nan")] * 256}, "finite"),
    ("/api/blend", {"corners": [[0.0] * 256] * 3, "x": 0.5, "y": 0.5}, "four corner latents"),
    ("/api/blend", {"corners": [[0.0] * 256] * 4, "x": 1.5, "y": 0.5}, "x: Input should be less than or equal to 1"),
    ("/api/blend", {"corners": [[0.0] * 256, [0.0] * 7, [0.0] * 256, [0.0] * 256], "x": 0, "y": 0}, ""),
    ("/api/blend", {"corners": [[0.0] * 8] * 4, "x": 0, "y": 0}, "z must have shape [batch, 256]"),
    ("/api/humanize", {"beat": {"notes": []}}, "The beat is empty"),
    ("/api/humanize", {"beat": {"notes": [{"step": 64, "drum": 0}]}}, "steps 0 to 63"),
    ("/api/midi", {"notes": [{"step": 0, "drum": 9}]}, "notes.0.drum"),
    ("/api/midi", {"qpm": 0, "notes": []}, "qpm: Input should be greater than or equal to 20"),
    ("/api/wav", {"qpm": 0.01, "notes": [{"step": 63, "drum": 0}]}, "qpm"),
    ("/api/interpolate", {"a": {"notes": []}, "b": {"notes": []}, "num_steps": 1}, "num_steps"),
    ("/api/sample", {"attributes": {"cowbell": 1}}, "Unknown attribute 'cowbell'. Known attributes: density"),
    ("/api/steer", {"beat": {"notes": [{"step": 0, "drum": 0}]}, "attributes": {"swing": 9}},
     "The amount of swing must be a number from -3 to 3"),
    ("/api/steer", {"beat": {"notes": [{"step": 0, "drum": 0}]}, "attributes": {}}, "Attribute amounts are a mapping"),
    ("/api/steer", {"beat": {"notes": []}, "attributes": {"density": 1}}, "The beat is empty"),
    ("/api/sample", {"constraints": "cowbell=1..2"}, "Unknown attribute 'cowbell'"),
    ("/api/sample", {"constraints": "density=30..10"}, "density"),
    ("/api/steer", {"beat": {"notes": [{"step": 0, "drum": 0}]}, "constraints": "style=polka"}, "polka"),
])
def test_bad_arguments_are_422_with_a_message(url, path, body, message):
    response = post(url, path, data=json.dumps(body), headers={"Content-Type": "application/json"})  # NaN too.
    assert response.status_code == 422, response.text
    assert message in response.json()["error"]


def test_malformed_requests_and_unknown_paths_are_4xx_json(url):
    assert post(url, "/api/sample", data=b"{not json", headers={"Content-Type": "application/json"}).status_code == 422
    assert post(url, "/api/upload", data={"nothing": "here"}).json()["error"] == "file: Field required"
    missing = requests.get(url + "/api/sounds/cowbell.wav", timeout=10)
    assert missing.status_code == 404 and "No drum 'cowbell'" in missing.json()["error"]
    assert requests.get(url + "/no/such/page", timeout=10).status_code == 404
    assert requests.get(url + "/api/sample", timeout=10).status_code == 405


def test_interpolate_ends_at_its_beats(url):
    a = post(url, "/api/sample", json={"seed": 1}).json()["beat"]
    b = post(url, "/api/sample", json={"seed": 2}).json()["beat"]
    path = post(url, "/api/interpolate", json={"a": a, "b": b, "num_steps": 3, "temperature": 0.01}).json()["beats"]
    assert len(path) == 3 and all(beat["qpm"] == a["qpm"] for beat in path)


def test_interpolate_and_the_blender_morph_by_default(url):
    """The path (and a drag along the pad's top edge) changes each cell once, toward b;
    slerp stays available."""
    a = post(url, "/api/sample", json={"seed": 1}).json()
    b = post(url, "/api/sample", json={"seed": 2}).json()
    def grids(beats):
        out = np.zeros((len(beats), 64, 9))
        for i, beat in enumerate(beats):
            for step, drum in beat_hits(beat):
                out[i, step, drum] = 1
        return out

    path = post(url, "/api/interpolate", json={"a": a["beat"], "b": b["beat"], "num_steps": 5}).json()["beats"]
    assert paths.path_figures(grids(path))["path_ratio"] == 1.0
    slerp = post(url, "/api/interpolate", json={"a": a["beat"], "b": b["beat"], "num_steps": 5, "method": "slerp"})
    assert slerp.status_code == 200 and len(slerp.json()["beats"]) == 5
    corners = [a["z"], b["z"], a["z"], b["z"]]
    edge = [post(url, "/api/blend", json={"corners": corners, "x": x, "y": 0.0}).json()["beat"]
            for x in (0.0, 0.25, 0.5, 0.75, 1.0)]
    figures = paths.path_figures(grids(edge))
    assert figures["path_ratio"] == 1.0 and figures["toward_b"] == 1.0
    corner = post(url, "/api/decode", json={"z": a["z"], "temperature": 0.5}).json()["beat"]  # As the pad: seed 0.
    np.testing.assert_array_equal(grids(edge[:1]), grids([corner]))
    wrong = post(url, "/api/blend", json={"corners": corners, "x": 0.5, "y": 0.5, "method": "cubic"})
    assert wrong.status_code == 422 and "method" in wrong.json()["error"]


@pytest.mark.skipif(webapp._fluidsynth_problem() is not None, reason="FluidSynth or a GM soundfont is missing")
def test_wav_and_one_shots_come_from_fluidsynth(url):
    beat = {"notes": [{"step": s, "drum": 0, "velocity": 0.9} for s in range(0, 64, 4)]}
    wav = post(url, "/api/wav", json=beat)
    assert wav.status_code == 200 and wav.headers["content-type"] == "audio/wav"
    with wave.open(io.BytesIO(wav.content)) as f:
        seconds = f.getnframes() / f.getframerate()
        samples = np.abs(np.frombuffer(f.readframes(f.getnframes()), np.int16).reshape(f.getnframes(), -1)).max(1)
        rate = f.getframerate()
    assert 8.0 <= seconds <= 9.6  # 4 bars at 120 qpm and the last kick's ring.
    for beat_start in np.arange(16) * 0.5:  # A kick on every beat: loud at each, silent before.
        at = int(beat_start * rate)
        assert samples[at: at + rate // 20].max() > 3000
        assert beat_start == 0 or samples[at - rate // 50: at].max() < samples[at: at + rate // 20].max() / 4
    kick = requests.get(url + "/api/sounds/kick.wav", timeout=30)
    assert kick.status_code == 200 and kick.content[:4] == b"RIFF"


def test_without_fluidsynth_wav_is_503_and_the_page_synthesizes(models, monkeypatch):
    monkeypatch.setattr(webapp.render.shutil, "which", lambda name: None)
    with serve_in_thread(webapp.create_app(models[0])) as base:
        assert requests.get(base + "/api/info", timeout=10).json()["fluidsynth"] is False
        wav = post(base, "/api/wav", json={"notes": [{"step": 0, "drum": 0}]})
        sound = requests.get(base + "/api/sounds/kick.wav", timeout=10)
    assert wav.status_code == 503 and "FluidSynth is not installed" in wav.json()["error"]
    assert sound.status_code == 503 and "synthesizes" in sound.json()["error"]


def test_serve_listens_on_localhost_unless_told_and_warns(models, monkeypatch, caplog):
    import uvicorn

    calls = []
    monkeypatch.setattr(uvicorn.Server, "run",
                        lambda self, sockets: calls.append((sockets[0].getsockname()[0], self.config)))
    monkeypatch.setattr(server, "load_models", lambda run_dir, tap_run_dir: (models[0], None, "none"))
    monkeypatch.setattr(server, "load_helper_model", lambda run_dir, name: None)
    monkeypatch.setattr(webapp, "warm_up", lambda *models: None)
    with caplog.at_level(logging.WARNING, logger="groove_vae.webapp"):
        server.serve(port=0)
        assert calls[-1][0] == "127.0.0.1"
        assert "anyone who can reach" not in caplog.text
        server.serve(host="0.0.0.0", port=0)
    assert calls[-1][0] == "0.0.0.0" and "anyone who can reach this machine" in caplog.text


def test_a_named_tap_model_must_load_and_be_a_tap_model(models, monkeypatch, tmp_path):
    vae, tap_vae = models
    loaded = {None: vae, "tap2drum": None, "runs/tap": tap_vae, "runs/plain": vae}

    def fake_load(path=None):
        if loaded.get(path) is None:
            raise FileNotFoundError(f"{path}: no such model directory")
        return loaded[path]

    monkeypatch.setattr(api, "load", fake_load)
    assert server.load_models(None, None) == (vae, None, webapp.NO_TAP_MODEL)  # The bundled one is missing.
    assert server.load_models(None, "runs/tap") == (vae, tap_vae, None)
    with pytest.raises(FileNotFoundError, match="runs/missing"):
        server.load_models(None, "runs/missing")
    with pytest.raises(ValueError, match="needs a model trained with input_transform=tap"):
        server.load_models(None, "runs/plain")


def test_command_line_help_and_usage():
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    serve_help = subprocess.run([sys.executable, "-m", "groove_vae.commands", "serve", "--help"],
                                capture_output=True, text=True, env=env, timeout=60)
    assert "--tap_run_dir" in serve_help.stdout and "127.0.0.1" in serve_help.stdout
    bare = subprocess.run([sys.executable, "-m", "groove_vae.commands"], capture_output=True, text=True, env=env, timeout=60)
    assert bare.returncode == 2 and "serve" in bare.stderr
    script = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "serve.py"), "--port=0"],
                            capture_output=True, text=True, env=env, timeout=60)
    assert script.returncode != 0 and "--port must be 1-65535" in script.stderr


def test_a_humanize_model_plays_humanize_and_the_groove_model_the_rest(models):
    vae = models[0]
    calls = []

    class Spy:
        config = vae.config

        def humanize_tensors(self, groove, seed=0, draws=None):
            calls.append(seed)
            return vae.humanize_tensors(groove, seed, draws)

        def play_windows(self, grid, play, seed=0, *, temperature):
            return vae.play_windows(grid, play, seed, temperature=temperature)

    with serve_in_thread(webapp.create_app(vae, humanize_vae=Spy())) as base:
        played = post(base, "/api/humanize", json={"beat": {"notes": [{"step": 0, "drum": 0}]}, "seed": 3})
        sampled = post(base, "/api/sample", json={"seed": 1})
    assert played.status_code == sampled.status_code == 200 and calls == [3]
    assert beat_hits(played.json()["beat"]) == {(0, 0)}


def test_sample_of_16_bars_is_one_performance_the_grid_can_hold(url, models):
    vae, _ = models
    beat = post(url, "/api/sample", json={"seed": 3, "bars": 16}).json()["beat"]
    assert beat["steps"] == 256 and max(n["step"] for n in beat["notes"]) >= 192
    first_phrase = {(s, d) for s, d in beat_hits(beat) if s < 64}
    assert first_phrase == beat_hits(post(url, "/api/sample", json={"seed": 3}).json()["beat"])  # Its first 4 bars.
    assert post(url, "/api/sample", json={"seed": 3, "bars": 6}).status_code == 422


def test_infill_keeps_the_kept_drums_and_plays_the_rest(models):
    infill_app = webapp.create_app(models[0], infill_vae=api.load("infill"))
    beat = {"qpm": 110, "steps": 128, "notes": [
        {"step": s, "drum": 0 if s % 8 == 0 else 1, "velocity": 0.9 if s % 8 == 0 else 0.6, "offset": 0.1}
        for s in range(0, 128, 4)] + [{"step": s, "drum": 2, "velocity": 0.5, "offset": 0.0} for s in range(0, 128, 2)]}
    with serve_in_thread(infill_app) as url:
        result = post(url, "/api/infill", json={"beat": beat, "keep": [0, 1], "seed": 2})
        bad_class = post(url, "/api/infill", json={"beat": beat, "keep": [0, 11]})
        none_kept = post(url, "/api/infill", json={"beat": beat, "keep": []})
    assert result.status_code == 200, result.text
    filled = result.json()["beat"]
    kept = lambda b: sorted((n["step"], n["drum"], n["velocity"], n["offset"]) for n in b["notes"] if n["drum"] < 2)  # noqa: E731
    assert kept(filled) == kept(beat) and filled["steps"] == 128
    assert any(n["drum"] >= 2 for n in filled["notes"])
    assert bad_class.status_code == none_kept.status_code == 422


def test_continue_extends_a_beat_to_8_and_16_bars_keeping_it(url):
    beat = post(url, "/api/sample", json={"seed": 4}).json()["beat"]
    for bars in (8, 16):
        result = post(url, "/api/continue", json={"beat": beat, "bars": bars, "seed": 1})
        assert result.status_code == 200, result.text
        longer = result.json()["beat"]
        assert longer["steps"] == 16 * bars
        assert {(s, d) for s, d in beat_hits(longer) if s < 64} == beat_hits(beat)
        assert max(n["step"] for n in longer["notes"]) >= 16 * (bars - 1)
    refused = post(url, "/api/continue", json={"beat": {**beat, "steps": 128,
                                                         "notes": beat["notes"] + [{"step": 127, "drum": 0}]},
                                                "bars": 8})
    assert refused.status_code == 422 and "already plays 8 bars" in refused.json()["error"]


def test_humanize_plays_a_16_bar_beat_whole(url):
    beat = {"qpm": 120, "steps": 256, "notes": [{"step": s, "drum": 2, "velocity": 0.8, "offset": 0.0}
                                                for s in range(0, 256, 2)]}
    played = post(url, "/api/humanize", json={"beat": beat, "seed": 0}).json()["beat"]
    assert beat_hits(played) == beat_hits(beat) and played["steps"] == 256
    assert len({n["velocity"] for n in played["notes"]}) > 10


def test_steer_moves_the_grid_beat_and_new_beats_the_way_the_sliders_say(url, models):
    from groove_vae import attributes

    vae, _ = models
    info = requests.get(url + "/api/info", timeout=10).json()
    assert [a["name"] for a in info["attributes"]] == list(vae.attribute_names)
    assert {"name": "density", "unit": "hits per bar", "meaning": attributes.ATTRIBUTES["density"].meaning} in \
        info["attributes"]
    source = post(url, "/api/sample", json={"seed": 3}).json()["beat"]
    density = {}
    for amount in (-1.5, 1.5):
        steered = post(url, "/api/steer", json={"beat": source, "attributes": {"density": amount}}).json()["beat"]
        assert steered["qpm"] == source["qpm"] and steered["steps"] == 64
        density[amount] = len(steered["notes"])
    assert density[-1.5] < len(source["notes"]) < density[1.5]
    plain = post(url, "/api/sample", json={"seed": 5}).json()
    busy = post(url, "/api/sample", json={"seed": 5, "attributes": {"density": 2}}).json()
    np.testing.assert_allclose(np.array(busy["z"]) - plain["z"], 2 * vae.sampler.attributes.vectors[0], atol=1e-4)


def test_constraints_draw_beats_that_meet_them_and_edit_the_grid_beat(url, models):
    vae, _ = models
    assert requests.get(url + "/api/info", timeout=10).json()["constraints"] is True
    replies = [post(url, "/api/sample", json={"seed": seed, "constraints": "timekeeper=ride"}).json()
               for seed in range(6)]
    assert sum(r["meets"] for r in replies) >= 4
    for reply in replies:  # "meets" is what the returned beat plays, measured.
        groove = webapp.beat_to_groove(webapp.Beat(**reply["beat"]))
        assert vae.meets(groove[None], "timekeeper=ride")[0] == reply["meets"]
    assert post(url, "/api/sample", json={"seed": 0}).json()["meets"] is None
    source = post(url, "/api/sample", json={"seed": 3, "constraints": "density=18..24"}).json()["beat"]
    sparse = post(url, "/api/steer", json={"beat": source, "constraints": "density=..10"}).json()["beat"]
    assert len(sparse["notes"]) < len(source["notes"])
