r"""What does Drumify play for ten tapped rhythms? A table per model, to compare models.

Usage:
  python bench/tap2drum.py                                   # the bundled tap2drum
  python bench/tap2drum.py --run_dirs=tap2drum,runs/tap2ctl --seeds=0,1,2

Ten rhythms a musician might tap for 4 bars on one key at 100 qpm (eighths, four on the
floor, backbeat, son clave, a funk sixteenth figure, ...; velocities as tapped: accents
louder). Each model drumifies each at temperature 0.5 (`vae.drumify`, as `groove-vae
drumify` does) with each seed, and the table gives, per rhythm, averaged over seeds:

  on taps     the share of tapped steps it plays (1: every tap)
  off taps    hits on steps nobody tapped
  drums       the drums it plays at least 4 times in the 4 bars
  keeper      timekeeper changes between bars (0 to 3 per performance; a bar with none
              is no change)
  kick/snare  of the taps it plays, the share with a kick, and with a snare

This stands in for listening: the MIDI is written with --output_dir to hear it.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
from absl import app, flags

from machine import cpu_features, cpu_model  # bench/ is on sys.path when a bench script runs.

flags.DEFINE_list("run_dirs", ["tap2drum"], "Tap models to compare (bundled names or directories).")
flags.DEFINE_list("seeds", ["0", "1", "2"], "Seeds each rhythm is drumified with.")
flags.DEFINE_float("temperature", 0.5, "Drumify's temperature.")
flags.DEFINE_string("output_dir", None, "Also write each performance as MIDI here.")
FLAGS = flags.FLAGS

QPM = 100.0
# Sixteenth-note steps of one bar (16 steps), with accented steps marked by the velocity.
RHYTHMS = {
    "eighths": {s: (100 if s % 4 == 0 else 70) for s in range(0, 16, 2)},
    "four on the floor": {0: 110, 4: 110, 8: 110, 12: 110},
    "backbeat": {0: 90, 4: 120, 8: 90, 12: 120},
    "rock beat": {0: 110, 2: 70, 4: 120, 6: 70, 8: 110, 10: 110, 12: 120, 14: 70},
    "son clave": {0: 100, 3: 100, 6: 100, 10: 100, 12: 100},
    "tresillo": {0: 110, 3: 100, 6: 100, 8: 110, 11: 100, 14: 100},
    "funk sixteenths": {0: 120, 3: 80, 4: 110, 6: 70, 7: 80, 10: 100, 12: 110, 13: 70, 15: 80},
    "shuffle": {0: 110, 3: 70, 4: 120, 7: 70, 8: 110, 11: 70, 12: 120, 15: 70},
    "half time": {0: 110, 8: 120, 10: 80},
    "sixteenths": {s: (110 if s % 4 == 0 else 60) for s in range(16)},
}


def tapped_sequence(steps: dict[int, int]):
    from note_seq.protobuf import music_pb2

    ns = music_pb2.NoteSequence(ticks_per_quarter=480)
    ns.tempos.add(qpm=QPM)
    ns.time_signatures.add(numerator=4, denominator=4)
    step_s = 60.0 / QPM / 4
    for bar in range(4):
        for step, velocity in steps.items():
            start = (bar * 16 + step) * step_s
            ns.notes.add(pitch=38, velocity=velocity, start_time=start, end_time=start + 0.05, is_drum=True,
                         instrument=9)
    ns.total_time = 64 * step_s
    return ns


def timekeeper_changes(keepers) -> int:
    """Bar boundaries where both bars keep time (a timekeeper >= 0) on different drums."""
    return int(sum(a >= 0 and b >= 0 and a != b for a, b in zip(keepers[:-1], keepers[1:])))


def describe(vae, model: str, name: str, steps: dict[int, int], seeds: list[int]) -> dict:
    from groove_vae import converter
    from groove_vae.evaluation import metrics

    taps = tapped_sequence(steps)
    tapped = metrics.hits_of(converter.note_sequence_to_groove(taps)).max(-1) > 0.5
    rows = []
    for seed in seeds:
        played = vae.drumify(taps, temperature=FLAGS.temperature, seed=seed)
        if FLAGS.output_dir:
            os.makedirs(FLAGS.output_dir, exist_ok=True)
            converter.write_midi(played, os.path.join(
                FLAGS.output_dir, f"{os.path.basename(model)}_{name.replace(' ', '_')}_{seed}.mid"))
        groove = converter.note_sequence_to_groove(played)
        hits = metrics.hits_of(groove) > 0.5
        on = hits.any(-1)
        played_taps = on & tapped
        rows.append({
            "on taps": played_taps.sum() / tapped.sum(),
            "off taps": float((on & ~tapped).sum()),
            "drums": [n for n, c in zip(metrics.DRUM_CLASS_NAMES, hits.sum(0)) if c >= 4],
            "keeper": timekeeper_changes(metrics.timekeepers(groove[None])[0]),
            "kick": (hits[:, 0] & played_taps).sum() / max(played_taps.sum(), 1),
            "snare": (hits[:, 1] & played_taps).sum() / max(played_taps.sum(), 1),
        })
    drums = sorted({d for r in rows for d in r["drums"]}, key=metrics.DRUM_CLASS_NAMES.index)
    return {**{k: float(np.mean([r[k] for r in rows])) for k in ("on taps", "off taps", "keeper", "kick", "snare")},
            "drums": drums}


def main(argv):
    del argv
    import groove_vae

    print(f"{cpu_model()} ({cpu_features()}), {os.cpu_count()} CPUs: python bench/tap2drum.py "
          f"--run_dirs={','.join(FLAGS.run_dirs)} --seeds={','.join(FLAGS.seeds)}")
    seeds = [int(s) for s in FLAGS.seeds]
    for run_dir in FLAGS.run_dirs:
        vae = groove_vae.load(run_dir)
        print(f"\n{run_dir} (decoder_controls={vae.config.decoder_controls}), T={FLAGS.temperature:g}, seeds {seeds}")
        print(f"{'rhythm':<18} {'on taps':>8} {'off taps':>9} {'keeper':>7} {'kick':>6} {'snare':>6}  drums")
        for name, steps in RHYTHMS.items():
            d = describe(vae, run_dir, name, steps, seeds)
            print(f"{name:<18} {d['on taps']:>8.2f} {d['off taps']:>9.1f} {d['keeper']:>7.2f} {d['kick']:>6.2f} "
                  f"{d['snare']:>6.2f}  {', '.join(d['drums'])}")


if __name__ == "__main__":
    app.run(main)
