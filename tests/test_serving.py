"""The served model, tested around TF Serving (whose binary does not install here)."""

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from helpers import ROOT, make_sequence, rest_server, serve_rest, to_midi_bytes
from tensorflow.python.tools import saved_model_utils

from groove_vae import api, converter, serving
from groove_vae.export import SIGNATURES, export_model
from groove_vae.groove import hits as hits_of
from groove_vae.groove import offsets as offsets_of

SERVING_DOC = os.path.join(ROOT, "docs", "serving.md")


def example_groove():
    """A rock beat: kick on 1 and 3, snare on 2 and 4, eighth-note hats."""
    notes = []
    for beat in range(16):
        start = beat * 0.5
        notes.append((36 if beat % 2 == 0 else 38, 100, start))
        notes += [(42, 70, start), (42, 50, start + 0.25)]
    return converter.midi_to_groove(to_midi_bytes(make_sequence(notes)))


def readme_payloads():
    """The REST bodies the client builds for docs/serving.md's examples: (signature, form, body)."""
    groove = example_groove()
    cases = []
    for signature in SIGNATURES:
        inputs = serving.example_inputs(signature, num_output=2 if signature == "sample" else 1, groove=groove,
                                        attributes={"density": 1.0} if signature == "steer" else None,
                                        constraints="timekeeper=ride,no=toms" if signature == "constrain" else None)
        cases.append((signature, "inputs", serving.rest_body(signature, inputs, "inputs")))
        if signature not in ("sample", "steer", "constrain"):
            cases.append((signature, "instances", serving.rest_body(signature, serving.batched_only(inputs), "instances")))
    return cases


def documented_bodies():
    """docs/serving.md's one body per signature, {signature: text}: a line of JSON whose long
    arrays may be cut short at `...` (serve_client --print_request prints them whole)."""
    bodies = {}
    for line in open(SERVING_DOC).read().splitlines():
        if line.startswith('{"signature_name": "'):
            bodies[line.split('"')[3]] = line
    return bodies


@pytest.fixture(scope="module")
def export_dir(tmp_path_factory):
    vae = api.load()  # The bundled model: the payloads in docs/serving.md are for it.
    return export_model(vae, str(tmp_path_factory.mktemp("export") / "groove_vae"))


@pytest.fixture(scope="module")
def served(export_dir):
    return tf.saved_model.load(export_dir), saved_model_utils.get_meta_graph_def(export_dir, "serve")


def test_export_is_versioned_with_the_config_as_an_asset(export_dir, tmp_path):
    assert os.path.basename(export_dir) == "1"
    config = json.load(open(os.path.join(export_dir, "assets.extra", "groove_vae_config.json")))
    assert config["z_size"] == 256 and config["representation"] == "groove" and config["default_qpm"] == 120
    vae = api.load()
    assert os.path.basename(export_model(vae, os.path.dirname(export_dir))) == "2"
    with pytest.raises(FileExistsError, match="--overwrite"):
        export_model(vae, export_dir)


def test_saved_model_cli_lists_exactly_the_signatures(export_dir):
    shown = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "saved_model_cli"), "show", "--dir", export_dir, "--all"],
        capture_output=True, text=True, check=True,
    ).stdout
    names = set(re.findall(r"signature_def\['(\w+)'\]", shown)) - {"__saved_model_init_op"}
    assert names == set(SIGNATURES)
    meta_graph = saved_model_utils.get_meta_graph_def(export_dir, "serve")

    def shapes(signature, part):
        infos = getattr(meta_graph.signature_def[signature], part)
        return {k: [d.size for d in v.tensor_shape.dim] for k, v in infos.items()}

    assert shapes("serving_default", "inputs") == {"z": [-1, 256], "temperature": [], "seed": []}
    assert shapes("serving_default", "outputs") == {k: [-1, 64, 9] for k in ("hits", "velocities", "offsets")}
    assert shapes("sample", "inputs") == {"batch_size": [], "temperature": [], "seed": [], "style": [], "strength": []}
    assert set(meta_graph.signature_def["sample"].defaults) == {"temperature", "seed", "style", "strength"}
    assert shapes("sample", "outputs")["z"] == [-1, 256]
    assert shapes("steer", "inputs") == {"z": [-1, 256], "amounts": [17], "temperature": [], "seed": []}
    assert shapes("encode", "inputs") == {"groove": [-1, 64, 27]}
    assert shapes("encode", "outputs") == {"mu": [-1, 256], "sigma": [-1, 256]}
    assert set(meta_graph.signature_def["serving_default"].defaults) == {"temperature", "seed"}


def test_saved_model_cli_runs_serving_default(export_dir, tmp_path):
    np.save(tmp_path / "z.npy", np.zeros((2, 256), np.float32))
    result = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "saved_model_cli"), "run", "--dir", export_dir,
         "--tag_set", "serve", "--signature_def", "serving_default", "--inputs", f"z={tmp_path / 'z.npy'}",
         "--input_exprs", "temperature=1.0;seed=0", "--outdir", str(tmp_path / "out")],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert np.load(tmp_path / "out" / "hits.npy").shape == (2, 64, 9)


def test_signatures_match_the_keras_model_and_reject_bad_values(served):
    loaded, _ = served
    vae = api.load()
    z = np.random.default_rng(0).standard_normal((3, 256)).astype(np.float32)
    out = loaded.signatures["serving_default"](z=tf.constant(z), temperature=tf.constant(0.8), seed=tf.constant(2))
    expected = vae.decode_tensors(z, 0.8, 2)
    np.testing.assert_allclose(out["hits"].numpy(), hits_of(expected), atol=1e-5)
    np.testing.assert_allclose(out["offsets"].numpy(), offsets_of(expected), atol=1e-5)
    groove = example_groove()[None]
    encoded = loaded.signatures["encode"](groove=tf.constant(groove))
    mu, _ = vae.model.encode(tf.constant(groove))
    np.testing.assert_allclose(encoded["mu"].numpy(), mu.numpy(), atol=1e-5)
    for temperature in (0.0, np.inf, np.nan, 11.0):  # inf once decoded as uniform noise.
        with pytest.raises(tf.errors.InvalidArgumentError, match="temperature must be above 0 and at most 10"):
            loaded.signatures["serving_default"](z=tf.constant(z), temperature=tf.constant(temperature),
                                                 seed=tf.constant(0))
    with pytest.raises(tf.errors.InvalidArgumentError, match="seed must be from 0"):
        loaded.signatures["serving_default"](z=tf.constant(z), temperature=tf.constant(1.0), seed=tf.constant(-1))
    with pytest.raises(tf.errors.InvalidArgumentError, match="at most 1024 latents"):
        loaded.signatures["serving_default"](z=tf.zeros([1025, z.shape[1]]), temperature=tf.constant(1.0),
                                             seed=tf.constant(0))
    with pytest.raises(tf.errors.InvalidArgumentError, match="z must be finite"):
        loaded.signatures["serving_default"](z=tf.constant(z * np.nan), temperature=tf.constant(1.0), seed=tf.constant(0))
    with pytest.raises((ValueError, TypeError, tf.errors.InvalidArgumentError)):
        loaded.signatures["serving_default"](z=tf.zeros([1, 7]), temperature=tf.constant(1.0), seed=tf.constant(0))
    for batch_size in (0, 10**6):  # A million clips reached 24 GB before it died.
        with pytest.raises(tf.errors.InvalidArgumentError, match="batch_size must be from 1 to 1024"):
            loaded.sample(tf.constant(batch_size), temperature=tf.constant(1.0))


@pytest.mark.parametrize("signature, form, body", readme_payloads(), ids=lambda x: x if isinstance(x, str) else "")
def test_readme_rest_payloads_are_generated_and_served(served, signature, form, body):
    text = json.dumps(body)
    if form == "inputs":  # The columnar form is the one the page shows, one per signature.
        shown = documented_bodies().get(signature)
        assert shown is not None, f"docs/serving.md shows no {signature} body; it is:\n{text[:300]}"
        assert text.startswith(shown.split("...")[0]) and ("..." in shown or shown == text), \
            f"docs/serving.md's {signature} body is not what the client sends:\n{text[:300]}"
    reply = serve_rest(served, body)
    assert "error" not in reply, reply
    outputs = serving.outputs_from_rest_response(reply)
    if signature == "encode":
        assert outputs["mu"].shape == (1, 256)
    else:
        assert serving.outputs_to_groove(outputs).shape[1:] == (64, 27)


def test_instances_form_refuses_scalars():
    with pytest.raises(ValueError, match="columnar"):
        serving.rest_body("sample", {"batch_size": 2}, "instances")
    with pytest.raises(ValueError, match="has no input"):
        serving.rest_body("serving_default", {"groove": np.zeros((1, 64, 27))})


def test_grpc_predict_request_carries_signature_dtypes_and_shapes():
    inputs = serving.example_inputs("serving_default", num_output=3, seed=1)
    request = serving.predict_request("groove_vae", "serving_default", inputs, version=2)
    assert request.model_spec.name == "groove_vae" and request.model_spec.signature_name == "serving_default"
    assert request.model_spec.version.value == 2
    assert request.inputs["z"].dtype == tf.float32.as_datatype_enum
    assert [d.size for d in request.inputs["z"].tensor_shape.dim] == [3, 256]
    assert request.inputs["seed"].dtype == tf.int32.as_datatype_enum
    assert request.inputs["temperature"].dtype == tf.float32.as_datatype_enum
    assert not request.inputs["temperature"].tensor_shape.dim
    np.testing.assert_allclose(tf.make_ndarray(request.inputs["z"]), inputs["z"], atol=1e-6)
    sample = serving.predict_request("groove_vae", "sample", serving.example_inputs("sample", 4))
    assert tf.make_ndarray(sample.inputs["batch_size"]) == 4
    assert sample.inputs["batch_size"].dtype == tf.int32.as_datatype_enum


def test_recorded_responses_become_midi(served, tmp_path):
    for form in ("inputs", "instances"):
        inputs = serving.example_inputs("serving_default", num_output=2, seed=5)
        body = serving.rest_body("serving_default", inputs if form == "inputs" else serving.batched_only(inputs), form)
        reply = json.loads(json.dumps(serve_rest(served, body)))  # As recorded off the wire.
        groove = serving.outputs_to_groove(serving.outputs_from_rest_response(reply))
        assert groove.shape == (2, 64, 27)
        path = converter.write_midi(converter.groove_to_note_sequence(groove[0]), tmp_path / f"{form}.mid")
        ns = converter.read_midi(path)
        assert len(ns.notes) == int(hits_of(groove[0]).sum()) > 0
    with pytest.raises(serving.ServingError, match="refused"):
        serving.outputs_from_rest_response({"error": "bad"})


def test_client_script_against_a_local_rest_server(served, tmp_path):
    def answer(path, body):
        return serve_rest(served, body) if path == "/v1/models/groove_vae:predict" else {"error": "Servable not found"}

    with rest_server(answer) as server:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        client = [sys.executable, os.path.join(ROOT, "scripts", "serve_client.py"), f"--server={url}"]
        result = subprocess.run(client + ["--signature=sample", "--num_output=3", "--output_dir=out"],
                                cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr[-2000:]
        files = sorted((tmp_path / "out").glob("*.mid"))
        assert len(files) == 3 and all(converter.read_midi(f).notes for f in files)
        again = subprocess.run(client + ["--signature=sample", "--num_output=3", "--output_dir=out"],
                               cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert again.returncode != 0 and "served_000.mid exists; pass --overwrite" in again.stderr
        assert subprocess.run(client + ["--signature=sample", "--num_output=3", "--output_dir=out", "--overwrite"],
                              cwd=tmp_path, capture_output=True, text=True, timeout=120).returncode == 0
        refused = subprocess.run(client + ["--signature=sample", "--temperature=1", "--model_name=other"],
                                 cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert refused.returncode != 0 and "Servable not found" in refused.stderr


def test_steer_moves_z_along_the_models_vectors_and_refuses_bad_amounts(served):
    from groove_vae.attributes import ATTRIBUTES

    loaded, _ = served
    vae = api.load()
    z = np.random.default_rng(1).standard_normal((2, 256)).astype(np.float32)
    amounts = np.zeros(len(ATTRIBUTES), np.float32)
    amounts[list(ATTRIBUTES).index("density")] = 1.5
    out = loaded.steer(tf.constant(z), tf.constant(amounts))
    np.testing.assert_allclose(out["z"].numpy(), z + 1.5 * vae.sampler.attributes.shift({"density": 1.0}), atol=1e-5)
    for bad in (np.full(len(ATTRIBUTES), 4.0, np.float32), np.full(len(ATTRIBUTES), np.nan, np.float32)):
        with pytest.raises(tf.errors.InvalidArgumentError, match="amounts holds one number per attribute, -3 to 3"):
            loaded.steer(tf.constant(z), tf.constant(bad))
    with pytest.raises(tf.errors.InvalidArgumentError, match="at most 1024 clips per request"):
        loaded.encode(tf.zeros([1025, 64, 27]))


def test_the_client_checks_what_it_sends_and_what_comes_back(tmp_path):
    from helpers import run_command

    for flag, message in (("--qpm=0", "qpm must be a tempo from 20"), ("--temperature=nan", "temperature must be above 0"),
                          ("--num_output=100000000", "--num_output must be an integer from 1 to 1024")):
        refused = run_command("serve_client", "--server=http://127.0.0.1:9", flag, cwd=tmp_path)
        assert refused.returncode != 0 and message in refused.stderr, (flag, refused.stderr)
    with pytest.raises(serving.ServingError, match="not finite"):
        serving.outputs_to_groove({k: np.full((1, 64, 9), np.nan) for k in ("hits", "velocities", "offsets")})

    beats = {k: np.zeros((3, 64, 9)).tolist() for k in ("hits", "velocities", "offsets")}

    with rest_server(lambda path, body: {"outputs": beats}) as server:  # Three beats, whatever was asked.
        flooded = run_command("serve_client", f"--server=http://127.0.0.1:{server.server_address[1]}",
                              "--num_output=1", "--output_dir=out", cwd=tmp_path)
    assert flooded.returncode != 0 and "returned 3 beats for 1 asked; none written" in flooded.stderr
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_the_constrain_signature_plays_the_apis_constrained_beat(served, bundled_vae):
    """A TF Serving caller asking for ride and no toms gets the beat `sample(constraints=...,
    tries=1)` gives in Python, for the same seed; a range no beat can meet is refused."""
    function = served[0].signatures["constrain"]
    wanted = "timekeeper=ride,no=toms"
    for seed in (0, 5, 9):
        inputs = serving.check_inputs("constrain", serving.example_inputs("constrain", 3, temperature=0.5, seed=seed,
                                                                          constraints=wanted))
        outputs = {k: v.numpy() for k, v in function(**{k: tf.constant(v) for k, v in inputs.items()}).items()}
        z, grooves, _ = bundled_vae.constrained_sample(3, wanted, 0.5, seed, tries=1)
        np.testing.assert_allclose(outputs["z"], z, atol=2e-3)
        assert np.mean(outputs["hits"] == grooves[..., :9]) > 0.99
    lows = np.full(17, -1e9, np.float32)
    highs = np.full(17, 1e9, np.float32)
    lows[0], highs[0] = 30.0, 20.0
    with pytest.raises(tf.errors.InvalidArgumentError, match="each low at most its high"):
        function(batch_size=tf.constant(1), lows=tf.constant(lows), highs=tf.constant(highs), style=tf.constant(""),
                 temperature=tf.constant(0.5), seed=tf.constant(0))
