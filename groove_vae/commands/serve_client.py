r"""Asks a running TF Serving for drum grooves and writes them as MIDI files.

Start the server first (see docs/serving.md), then:
  python scripts/serve_client.py --signature=sample --num_output=4 --output_dir=served
  python scripts/serve_client.py --signature=serving_default --num_output=2 --seed=3 --temperature=0.8
  python scripts/serve_client.py --signature=encode --input=beat.mid          # prints mu and sigma
  python scripts/serve_client.py --signature=drumify --input=taps.mid         # a served Drumify model
  python scripts/serve_client.py --grpc=localhost:8500 --signature=sample      # gRPC instead of REST
  python scripts/serve_client.py --signature=sample --print_request           # the REST body only
"""

import json
import os

from absl import app, flags

from groove_vae import cli

flags.DEFINE_string("server", "http://localhost:8501", "TF Serving REST address.")
flags.DEFINE_string("grpc", None, "TF Serving gRPC address (host:port); uses gRPC when set.")
flags.DEFINE_string("model_name", "groove_vae", "Model name the server was started with.")
flags.DEFINE_integer("version", None, "Model version (default: the server's latest).")
flags.DEFINE_enum("signature", "sample", ["sample", "serving_default", "steer", "constrain", "encode", "drumify"],
                  "Signature to call (drumify: a Drumify model's serving_default, which plays --input's rhythm).")
flags.DEFINE_enum("form", "inputs", ["inputs", "instances"], "REST body form: columnar or row.")
flags.DEFINE_integer("num_output", 4, "Clips to ask for (sample, serving_default).")
flags.DEFINE_integer("z_size", 256, "Latent size of the served model (serving_default).")
cli.define_temperature(0.5)  # As `groove-vae sample`: the same seed, the same beat.
cli.define_seed(help="Seed of the sampled hits (and of z for serving_default).")
flags.DEFINE_string("style", None, "sample: steer toward this GMD style (the served model's styles).")
flags.DEFINE_float("strength", 1.0, "sample: how far toward --style (0 to 3).")
flags.DEFINE_string("attributes", None, "steer: attribute amounts, e.g. density=+1,swing=+0.5 (-3 to 3).")
flags.DEFINE_string("constraints", None, "constrain: what the beats play, e.g. density=20..30,timekeeper=ride.")
flags.DEFINE_string("input", None, "A 4-bar drum MIDI file to encode (encode) or drumify (drumify).")
flags.DEFINE_float("qpm", 120.0, "Tempo of the written files.")
flags.DEFINE_string("output_dir", "served", "Where to write .mid files (or encode's .json).")
flags.DEFINE_bool("print_request", False, "Print the REST body and exit without sending it.")
cli.define_overwrite()
FLAGS = flags.FLAGS


def build_inputs():
    from groove_vae import converter, serving

    groove = None
    if FLAGS.signature in ("encode", "drumify"):
        if not FLAGS.input:
            raise app.UsageError(f"--signature={FLAGS.signature} needs --input=<a drum MIDI file>.")
        try:
            groove = converter.midi_to_groove(FLAGS.input)
        except converter.ConversionError as e:
            raise app.UsageError(str(e))
    from groove_vae.attributes import parse_amounts

    try:
        amounts = parse_amounts(FLAGS.attributes) if FLAGS.attributes else None
        inputs = serving.example_inputs(
            FLAGS.signature, FLAGS.num_output, FLAGS.z_size, FLAGS.temperature, FLAGS.seed, groove, FLAGS.style,
            FLAGS.strength, amounts, FLAGS.constraints)
    except ValueError as e:
        raise app.UsageError(str(e))
    return serving.batched_only(inputs) if FLAGS.form == "instances" else inputs


def main(argv):
    del argv
    cli.start()
    cli.check_flags()  # --seed, --temperature, --qpm: the ranges every command takes.
    from groove_vae import checks, converter, serving

    try:
        checks.check_count("--num_output", FLAGS.num_output, 1, 16 if FLAGS.signature == "constrain" else checks.MAX_BATCH)
    except ValueError as e:
        raise app.UsageError(str(e))

    inputs = build_inputs()
    if FLAGS.print_request:
        print(json.dumps(serving.rest_body(FLAGS.signature, inputs, FLAGS.form)))
        return
    count = 1 if FLAGS.signature == "drumify" else FLAGS.num_output  # One rhythm in, one groove out.
    names = ["encoding.json"] if FLAGS.signature == "encode" else [f"served_{i:03d}.mid" for i in range(count)]
    cli.check_writable([os.path.join(FLAGS.output_dir, name) for name in names], FLAGS.overwrite)  # Before asking.
    try:
        if FLAGS.grpc:
            request = serving.predict_request(FLAGS.model_name, FLAGS.signature, inputs, FLAGS.version)
            outputs = serving.predict_grpc(FLAGS.grpc, request)
        else:
            body = serving.rest_body(FLAGS.signature, inputs, FLAGS.form)
            outputs = serving.outputs_from_rest_response(
                serving.post_rest(FLAGS.server, FLAGS.model_name, body, FLAGS.version)
            )
    except (serving.ServingError, ValueError) as e:
        raise app.UsageError(str(e))

    os.makedirs(FLAGS.output_dir, exist_ok=True)
    if FLAGS.signature == "encode":
        path = os.path.join(FLAGS.output_dir, "encoding.json")
        with open(path, "w") as f:
            json.dump({k: v.tolist() for k, v in outputs.items()}, f)
        print(f"{path}: mu and sigma of {FLAGS.input} ({outputs['mu'].shape[-1]} dimensions)")
        return
    try:
        grooves = serving.outputs_to_groove(outputs)
        expected = len(names)
        if len(grooves) != expected:
            raise serving.ServingError(f"The server returned {len(grooves)} beats for {expected} asked; none written.")
    except serving.ServingError as e:
        raise app.UsageError(str(e))
    for i, groove in enumerate(grooves):
        ns = converter.groove_to_note_sequence(groove, FLAGS.qpm)
        path = converter.write_midi(ns, os.path.join(FLAGS.output_dir, f"served_{i:03d}.mid"))
        print(f"{path}: {converter.describe(ns)}")


if __name__ == "__main__":
    app.run(main)
