r"""Peak memory of `groove-vae humanize` on a 4-bar clip, a 2-hour and a 9-hour song.

Usage:
  python bench/long_memory.py                          # all three; about 10 minutes on 2 cores
  python bench/long_memory.py --songs=4bar,2h --cap_gb=6
  python bench/long_memory.py --code=/path/to/other/checkout   # the same songs through another checkout

Each song is a quantized, flat beat at 120 qpm (closed hi-hat 8ths, kick and snare, a tom
fill every 8th bar), written as the MIDI that groove-vae itself writes (220 ticks per
quarter). Each humanize runs in a fresh process (`python -m groove_vae.commands humanize`,
the bundled humanize model), so its peak resident memory (the kernel's ru_maxrss for that
process alone) includes TensorFlow's own start. A process past --cap_gb is stopped and
reported as such, so a checkout that does not bound its memory cannot take the machine down.
"""

import os
import subprocess
import sys
import tempfile
import threading
import time

from absl import app, flags

from machine import cpu_features, cpu_model, report  # bench/ is on sys.path when a bench script runs.

SONGS = {"4bar": 4, "2h": 3600, "9h": 16_200}  # Bars at 120 qpm: 2 s each.
flags.DEFINE_list("songs", list(SONGS), f"Which songs: {', '.join(SONGS)}.")
flags.DEFINE_float("cap_gb", 8.0, "Stop a humanize whose resident memory passes this (GB).")
flags.DEFINE_string("code", None, "Run this checkout's groove_vae (default: the installed one).")
flags.DEFINE_string("output", "bench/long_memory.json", "Where to write the figures (JSON).")
FLAGS = flags.FLAGS


def song(bars: int):
    """A flat, quantized beat of `bars` bars at 120 qpm, as a NoteSequence."""
    from note_seq.protobuf import music_pb2

    ns = music_pb2.NoteSequence(ticks_per_quarter=220)
    ns.tempos.add(qpm=120.0)
    ns.time_signatures.add(numerator=4, denominator=4)
    notes = []
    for bar in range(bars):
        t = bar * 2.0
        notes += [(42, t + eighth * 0.25) for eighth in range(8)]
        notes += [(36, t), (36, t + 1.0), (38, t + 0.5), (38, t + 1.5)]
        if bar % 8 == 7:
            notes += [(50, t + 1.5 + i * 0.125) for i in range(4)]
    for pitch, start in notes:
        ns.notes.add(pitch=pitch, velocity=80, start_time=start, end_time=start + 0.1, is_drum=True, instrument=9)
    ns.total_time = bars * 2.0
    return ns, len(notes)


def rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmRSS"))
    except (OSError, StopIteration):
        return 0


def humanize(path: str, cap: float, code: str | None) -> dict:
    """Runs the command in a fresh process; -> its peak RSS (bytes), seconds and outcome."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    if code:
        env["PYTHONPATH"] = code + os.pathsep + env.get("PYTHONPATH", "")
    command = [sys.executable, "-m", "groove_vae.commands", "humanize", f"--input={path}",
               f"--output={path[:-4]}_played.mid", "--overwrite"]
    start = time.perf_counter()
    # From the song's folder: the working directory leads sys.path, and a checkout's would shadow --code.
    process = subprocess.Popen(command, env=env, cwd=os.path.dirname(path), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    stopped = threading.Event()

    def watch():  # Stops the process past the cap.
        while process.poll() is None:
            if rss_bytes(process.pid) > cap:
                stopped.set()
                process.kill()
                return
            time.sleep(0.1)

    threading.Thread(target=watch, daemon=True).start()
    out, err = process.communicate()
    seconds = time.perf_counter() - start
    # communicate() has reaped it: its own peak is in the children's usage, which grows
    # only with the largest child so far; so each song is measured from a fresh parent.
    import resource

    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    if stopped.is_set():
        outcome = f"stopped past {cap / 1e9:g} GB"
    elif process.returncode:
        outcome = "failed: " + (err.strip().splitlines() or ["?"])[-1][:120]
    else:
        outcome = "ok"
    return {"peak_rss_bytes": peak, "seconds": seconds, "outcome": outcome}


def measure_one(name: str) -> dict:
    """Writes one song and humanizes it (called in a fresh `python bench/long_memory.py --one=...` parent)."""
    from groove_vae import converter

    bars = SONGS[name]
    ns, notes = song(bars)
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, f"{name}.mid")
        converter.write_midi(ns, path)
        size = os.path.getsize(path)
        result = humanize(path, FLAGS.cap_gb * 1e9, FLAGS.code)
    return {"song": name, "bars": bars, "notes": notes, "midi_bytes": size, **result}


flags.DEFINE_string("one", None, "(internal) Measure this one song and print its figures as JSON.")


def main(argv):
    del argv
    import json

    if FLAGS.one:
        print(json.dumps(measure_one(FLAGS.one)))
        return
    unknown = [s for s in FLAGS.songs if s not in SONGS]
    if unknown:
        raise app.UsageError(f"--songs takes {', '.join(SONGS)}, got {', '.join(unknown)}.")
    rows = []
    for name in FLAGS.songs:  # Each from a fresh parent: RUSAGE_CHILDREN is the largest child's peak.
        args = [sys.executable, __file__, f"--one={name}", f"--cap_gb={FLAGS.cap_gb}"]
        if FLAGS.code:
            args.append(f"--code={FLAGS.code}")
        done = subprocess.run(args, capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"{name}: {done.stderr.strip()[-2000:]}")
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(f"{name}: {rows[-1]['peak_rss_bytes'] / 2**20:,.0f} MiB, {rows[-1]['seconds']:.0f} s, "
              f"{rows[-1]['outcome']}", flush=True)
    lines = [f"CPU: {cpu_model()} ({os.cpu_count()} cores; {cpu_features()})",
             f"code: {FLAGS.code or 'installed groove_vae'}", "",
             f"{'song':<6} {'bars':>6} {'notes':>8} {'MIDI':>9} {'peak RSS':>10} {'seconds':>8}  outcome"]
    for r in rows:
        lines.append(f"{r['song']:<6} {r['bars']:>6} {r['notes']:>8,} {r['midi_bytes'] / 1e3:>7.0f}kB "
                     f"{r['peak_rss_bytes'] / 2**20:>6,.0f} MiB {r['seconds']:>8.0f}  {r['outcome']}")
    report("\n".join(lines), {"cpu": cpu_model(), "cpu_features": cpu_features(), "cores": os.cpu_count(),
                              "code": FLAGS.code, "rows": rows}, FLAGS.output)


if __name__ == "__main__":
    app.run(main)
