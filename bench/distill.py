r"""A distilled model against its teacher: sampling speed, how close it plays, how new its beats are.

Usage:
  python bench/distill.py --student=runs/student                     # against the bundled model
  python bench/distill.py --teacher=runs/x --student=runs/x_fast --rounds=30

Loads both in float32 (as `load()` decodes on a CPU) and prints, for each:
  speed     warm `decode_tensors` (given latents and feel draws to beats) and
            `sample_tensors` (a seed to beats) at batch 64 in clips/s, and a sample at
            batch 1 in ms per beat: the two models timed in turns, in one process, so
            the machine's drift touches both alike (best and median of --rounds);
  closeness the mean KL from the teacher's per-step distributions to the model's
            (`distill.distillation_losses`: hits, and velocity and offset bins where a
            drum plays), teacher-forced on the test split at its posterior means, in
            nats per clip (the teacher's own is 0);
  novelty   --samples beats from the model's prior at each temperature, against the
            training clips' hit grids (`groove_vae.novelty`): exact copies, within 4
            cells, mean distance to the nearest clip, duplicates, empty beats.
The realism figures (feel, density, timekeeping beside the drummers') come from
`groove-vae evaluate --humanize --run_dir=...` for each model.
"""

import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
from absl import app, flags

from machine import cpu_features, cpu_model, report  # bench/ is on sys.path when a bench script runs.

flags.DEFINE_string("teacher", "bundled", "The teacher: 'bundled', a bundled model's name or a model/run directory.")
flags.DEFINE_string("student", None, "The distilled model or run directory.", required=True)
flags.DEFINE_integer("rounds", 15, "Timed calls per model and figure.")
flags.DEFINE_integer("samples", 1000, "Prior samples per temperature for the novelty figures (0: none).")
flags.DEFINE_list("temperatures", ["0.5", "1.0"], "Temperatures of the novelty figures.")
flags.DEFINE_integer("seed", 7, "Seed of the prior samples.")
flags.DEFINE_string("tfds_name", "groove/4bar-midionly", "Dataset of the training and test clips.")
flags.DEFINE_string("output", "bench/distill.json", "Where to write the figures (JSON).")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    import tensorflow as tf

    import groove_vae
    from groove_vae import bundled, data, distill, novelty

    vaes = {"teacher": groove_vae.load(bundled.resolve(FLAGS.teacher), precision="float32"),
            "student": groove_vae.load(FLAGS.student, precision="float32")}
    sizes = {name: list(vae.config.decoder_rnn_sizes) for name, vae in vaes.items()}
    figures = {name: {"decoder_rnn_sizes": size} for name, size in sizes.items()}

    batch = 64
    z = vaes["teacher"].sample_latents(batch, seed=1)
    draws = vaes["teacher"].feel_draws(batch, 4, seed=1, temperature=0.5)
    calls = {"decode_64": lambda vae, i: vae.decode_tensors(z, 0.5, i, draws),
             "sample_64": lambda vae, i: vae.sample_tensors(batch, seed=i),
             "sample_1": lambda vae, i: vae.sample_tensors(1, seed=i)}
    for vae in vaes.values():
        for call in calls.values():
            call(vae, 0)  # Traces and compiles.
    seconds = {(name, call): [] for name in vaes for call in calls}
    for i in range(FLAGS.rounds):
        for call_name, call in calls.items():
            for name, vae in vaes.items():
                start = time.perf_counter()
                call(vae, i)
                seconds[name, call_name].append(time.perf_counter() - start)
    for (name, call_name), times in seconds.items():
        best, median = min(times), float(np.median(times))
        if call_name.endswith("_1"):
            figures[name][call_name + "_ms"] = {"best": 1000 * best, "median": 1000 * median}
        else:
            figures[name][call_name + "_clips_per_s"] = {"best": batch / best, "median": batch / median}

    test = data.load_split(FLAGS.tfds_name, "test", vaes["teacher"].config.num_steps)
    teacher_model, student_model = vaes["teacher"].model, vaes["student"].model
    inputs = tf.constant(test.groove)
    mu, _ = vaes["teacher"].posterior_tensors(test.groove)
    teacher_out = teacher_model.decoder.teacher_forced(tf.constant(mu), inputs)
    student_out = student_model.decoder.teacher_forced(tf.constant(mu), inputs)
    hit_kl, feel_kl = distill.distillation_losses(teacher_model.representation, teacher_out, student_out)
    figures["student"]["test_hit_kl"] = float(np.mean(hit_kl))
    figures["student"]["test_feel_kl"] = float(np.mean(feel_kl))

    if FLAGS.samples:
        train = data.load_split(FLAGS.tfds_name, "train", vaes["teacher"].config.num_steps)
        for name, vae in vaes.items():
            for temperature in FLAGS.temperatures:
                beats = vae.sample_tensors(FLAGS.samples, temperature=float(temperature), seed=FLAGS.seed)
                figures[name][f"novelty_T{temperature}"] = {
                    k: float(v) for k, v in novelty.novelty(beats, train.groove).items()}

    lines = [f"{cpu_model()} ({cpu_features()}), {os.cpu_count()} CPUs; float32; {FLAGS.rounds} rounds in turn",
             f"{'':<44}" + "".join(f"{f'{n} {sizes[n]}':>22}" for n in vaes)]
    for key, label in (("decode_64_clips_per_s", "decode, batch 64 (clips/s, best; median)"),
                       ("sample_64_clips_per_s", "sample, batch 64 (clips/s, best; median)"),
                       ("sample_1_ms", "sample, batch 1 (ms per beat, best; median)")):
        lines.append(f"{label:<44}" + "".join(
            f"{figures[n][key]['best']:>14.1f}; {figures[n][key]['median']:<6.1f}" for n in vaes))
    lines.append(f"{'KL from the teacher, test split (nats/clip)':<44}{0.0:>22.2f}"
                 f"{figures['student']['test_hit_kl']:>12.2f} hits + {figures['student']['test_feel_kl']:.2f} feel")
    for temperature in FLAGS.temperatures if FLAGS.samples else []:
        for key in ("exact_copies", "within_4", "mean_nearest", "duplicates", "empty"):
            values = [figures[n][f"novelty_T{temperature}"].get(key) for n in vaes]
            if values[0] is not None:
                lines.append(f"{f'T={temperature} {key}':<44}" + "".join(f"{v:>22.4g}" for v in values))
    report("\n".join(lines), {"machine": {"cpu": cpu_model(), "features": cpu_features(), "cpus": os.cpu_count()},
                              "teacher": FLAGS.teacher, "student": FLAGS.student, "figures": figures}, FLAGS.output)


if __name__ == "__main__":
    app.run(main)
