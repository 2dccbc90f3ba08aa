r"""Evaluates a model on a dataset split as the MusicVAE paper does; prints a table, writes JSON.

Usage:
  python scripts/evaluate.py                      # the bundled model, test split
  python scripts/evaluate.py --run_dir=runs/x --split=test --tfds_name=groove/4bar-midionly
  python scripts/evaluate.py --midi_dir=my_drums/ --output_json=my_drums.json   # your own MIDI
"""

import json
import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # Keep TensorFlow's C++ start-up chatter out.

from absl import app, flags

from groove_vae import cli

cli.define_run_dir()
cli.define_data()
flags.DEFINE_string("split", "test", "Split to evaluate.")
flags.DEFINE_string("midi_dir", None, "Evaluate on every 4-bar window (sliding bar by bar) of the .mid/.midi "
                    "files under this folder instead of a TFDS split; prior samples are compared with them too.")
flags.DEFINE_integer("num_samples", 1000, "Prior samples, at temperature 1 and at 0.5, for the density and feel statistics.")
flags.DEFINE_integer("max_clips", 0, "Evaluate only the first N clips (0: the whole split).")
flags.DEFINE_string("output_json", None, "Where to write the results (default: <run_dir>/eval_<split>.json).")
cli.define_seed(help="Seed for posterior and prior draws.")
cli.define_overwrite("Replace an existing results file.")
flags.DEFINE_list("infill", None, "Score infill instead: keep these instruments (e.g. kick,snare) of each clip, "
                  "generate the rest, and compare the generated hits with the drummer's (and with prior samples').")
flags.DEFINE_integer("interpolation_pairs", 20, "Random pairs of the clips interpolated in 9 steps by each method "
                     "(morph, slerp, linear) for the path figures (0: none).")
flags.DEFINE_bool("humanize", False, "Also score humanize: the split's hits given flat, played by the model.")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    cli.start()

    import numpy as np

    import groove_vae
    from groove_vae import data, novelty, paths
    from groove_vae.evaluation import metrics, reports, runners

    dataset = FLAGS.midi_dir or FLAGS.tfds_name
    split = "all" if FLAGS.midi_dir else FLAGS.split
    output = FLAGS.output_json or os.path.join(FLAGS.run_dir or ".", f"eval_{split}.json")
    # Checked before the model loads: a bad place to write must not cost the run's results.
    try:
        cli.check_output_file(output)
    except ValueError as e:
        raise app.UsageError(str(e))
    if os.path.exists(output) and not FLAGS.overwrite:
        raise app.UsageError(f"{output} exists; pass --overwrite to replace it.")
    if FLAGS.max_clips < 0:
        raise app.UsageError(f"--max_clips must be 0 (the whole split) or more, got {FLAGS.max_clips}.")
    if not 1 <= FLAGS.num_samples <= 100_000:
        raise app.UsageError(f"--num_samples must be 1 to 100000, got {FLAGS.num_samples}.")
    if not 0 <= FLAGS.interpolation_pairs <= 1000:
        raise app.UsageError(f"--interpolation_pairs must be 0 (none) to 1000, got {FLAGS.interpolation_pairs}.")
    try:
        vae = groove_vae.load(FLAGS.run_dir)
    except FileNotFoundError as e:
        raise app.UsageError(str(e))
    if FLAGS.midi_dir:
        with cli.usage_errors():
            clips = data.load_midi_folder(FLAGS.midi_dir, vae.config.num_steps)
        if not len(clips):
            raise app.UsageError(f"{FLAGS.midi_dir}: no 4/4 drum windows to evaluate ({clips.stats.summary()}).")
    else:
        clips = data.load_split(FLAGS.tfds_name, FLAGS.split, vae.config.num_steps, FLAGS.data_dir)
    print(f"{dataset} {split}: {clips.stats.summary()}")
    groove, qpm = clips.groove, clips.qpm
    if FLAGS.max_clips:
        groove, qpm = groove[: FLAGS.max_clips], qpm[: FLAGS.max_clips]
    if FLAGS.infill:
        with cli.usage_errors():
            keep = vae._keep_classes(FLAGS.infill, None)
            scores = runners.infill_scores(vae, groove, keep, seed=FLAGS.seed)
        scores.update(model=FLAGS.run_dir or "bundled", dataset=dataset, split=split, num_clips=len(groove))
        print(reports.infill_table(scores))
        write_results(scores, output)
        return
    results = runners.evaluate(vae.model, groove, qpm, seed=FLAGS.seed)
    if vae.config.input_transform == "tap":  # A Drumify model plays given rhythms: no prior samples.
        played = runners.drumify_scores(vae, groove, seed=FLAGS.seed)
        results.update({k: v for k, v in played.items() if k != "played"})
        results.update(model=FLAGS.run_dir or "bundled", dataset=dataset, split=split)
        print(reports.drumify_table(results, len(groove)))
        print()
        print(reports.feel_table(groove, {f"drumify T={played['temperature']:g}": played["played"]},
                                 reference_name=f"{split} clips"))
        write_results(results, output)
        return

    # Exactly what `groove-vae sample --seed` writes: the model's own prior, the same seeds.
    samples = runners.prior_samples(vae, FLAGS.num_samples, 1.0, FLAGS.seed)
    samples_cool = runners.prior_samples(vae, FLAGS.num_samples, 0.5, FLAGS.seed)
    results["prior"] = vae.prior.name
    # How new the samples are: how near their hit grids come to the clips the model learned
    # from (or to the folder's own clips), beside the evaluated clips' own distance to them.
    if FLAGS.midi_dir:
        learned_from, own = clips.groove, None
    else:
        train = data.load_split(FLAGS.tfds_name, "train", vae.config.num_steps, FLAGS.data_dir)
        validation = data.load_split(FLAGS.tfds_name, "validation", vae.config.num_steps, FLAGS.data_dir)
        learned_from, own = train.groove, {f"{split} clips": groove, "validation clips": validation.groove}
    results["novelty"] = {name: novelty.novelty(g, learned_from) for name, g in
                          {"prior T=0.5": samples_cool, "prior T=1": samples, **(own or {})}.items()}
    results.update({f"feel_prior_{k}": v for k, v in metrics.feel(samples).items()})
    results.update({f"feel_prior_t05_{k}": v for k, v in metrics.feel(samples_cool).items()})
    results.update({f"feel_data_{k}": v for k, v in metrics.feel(groove).items()})
    results["feel_by_drum"] = {name: metrics.feel_by_instrument(g) for name, g in
                               (("data", groove), ("prior_t1", samples), ("prior_t05", samples_cool))}
    results["hits_per_bar_prior"] = metrics.hits_per_bar(samples)
    results["hits_per_bar_data"] = metrics.hits_per_bar(groove)
    # Where timekeeper switches come from: the same decoder from each clip's own posterior
    # (dense latent space), from the fitted prior and from N(0, I), at both temperatures.
    # The training clips are the model's target: its samples can only be judged against
    # them, and they switch more often than the test clips do. Beside each rate, the share
    # of its changes that come with a fill or a crash, as a drummer's do.
    sources = {"data": groove}
    if not FLAGS.midi_dir:
        sources["data (train split)"] = train.groove
    for temperature in (1.0, 0.5):
        tag = f"T={temperature:g}"
        sources[f"posterior draws {tag}"] = runners.posterior_samples(vae.model, groove, temperature, FLAGS.seed)
        sources[f"sample.py's prior {tag}"] = samples if temperature == 1.0 else samples_cool
        sources[f"N(0, I) {tag}"] = runners.prior_samples(vae, FLAGS.num_samples, temperature, FLAGS.seed, "normal")
    switches = {name: metrics.timekeeper_change_rate(g) for name, g in sources.items()}
    marked = {name: metrics.marked_timekeeper_changes(g) for name, g in sources.items()}
    results["timekeeper_change_rate_by_source"] = switches
    results["timekeeper_changes_marked_by_source"] = marked
    if FLAGS.interpolation_pairs and len(groove) >= 2:
        results["interpolation"] = {
            method: paths.mean_path_figures(paths.interpolation_paths(vae, groove, FLAGS.interpolation_pairs, 9, method,
                                                                      seed=FLAGS.seed))
            for method in paths.METHODS}
    if FLAGS.humanize and vae.model.representation.plays_feel:
        results.update({f"humanize_{k}": v for k, v in runners.humanize_scores(vae, groove, qpm).items()})
    results.update(model=FLAGS.run_dir or "bundled", dataset=dataset, split=split, num_samples=FLAGS.num_samples)

    print(reports.format_table(results))
    print()
    print(novelty.table(results["novelty"], "the folder's clips" if FLAGS.midi_dir else "the training clips"))
    print()
    # Judged against what the model can learn (its training and validation clips), the
    # evaluated split's own figures beside: GMD's splits were not played alike.
    if FLAGS.midi_dir:
        print(reports.feel_table(groove, {"prior T=1.0": samples, "prior T=0.5": samples_cool},
                                    reference_name=os.path.basename(os.path.normpath(FLAGS.midi_dir))))
    else:
        learnable = np.concatenate([train.groove, validation.groove])
        print(reports.feel_table(learnable, {"prior T=1.0": samples, "prior T=0.5": samples_cool},
                                    beside={f"{split} clips": groove}, reference_name="train+valid"))
    print()
    print(f"{'timekeeper changes between bars, from':<40} {'rate':>6} {'with a fill or crash':>22}")
    for source, rate in switches.items():
        print(f"{source:<40} {rate:>6.3f} {marked[source]:>22.3f}")
    if "interpolation" in results:
        print()
        print(f"Interpolation, {FLAGS.interpolation_pairs} random pairs of the clips in 9 steps, hit grids "
              f"cell by cell (targets: path ratio <= {paths.TARGETS['path_ratio']}, largest step <= "
              f"{paths.TARGETS['largest_step']}, toward B >= {paths.TARGETS['toward_b']})")
        for method, figures in results["interpolation"].items():
            print(f"{method:<8} {paths.figures_line(figures)}")
    if "humanize_velocity_std_played" in results:
        print()
        for key, tolerance in (("velocity_std", 0.15), ("offset_std_ms", 0.15)):
            played, data = results[f"humanize_{key}_played"], results[f"humanize_{key}_data"]
            mark = "ok" if metrics.within(played, data, tolerance) else "not within 15%"
            print(f"humanize {key}: played {played:.2f}, drummers {data:.2f} ({mark})")
        for key, what in (("loudness_jump", "loudness jump between bars"),
                          ("repeated_hit_velocity_change", "velocity change at a repeated hit")):
            print(f"humanize {what}: played {results[f'humanize_{key}_played']:.2f}, "
                  f"drummers {results[f'humanize_{key}_data']:.2f}")
    write_results(results, output)


def write_results(results: dict, output: str) -> None:
    """Writes the results as JSON; where the place went bad during the run, to a temporary file instead."""
    from groove_vae.files import WriteError, write_text

    try:
        write_text(output, json.dumps(results, indent=2))
    except WriteError as e:  # Keep the results anyway.
        fallback = os.path.join(tempfile.gettempdir(), f"groove_vae_eval_{os.getpid()}.json")
        write_text(fallback, json.dumps(results, indent=2))
        raise app.UsageError(f"{e}; the results are in {fallback}.")
    print(f"Results written to {output}")


if __name__ == "__main__":
    app.run(main)
