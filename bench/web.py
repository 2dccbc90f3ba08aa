r"""Request latency of the web app: a real server process, real HTTP, one 4-bar clip per request.

Usage:
  python bench/web.py                    # 50 requests per endpoint, about a minute
  python bench/web.py --requests=200 --output=bench/web_results.json
  python bench/web.py --tap_run_dir=runs/tap2drum   # Drumify too (no tap model is bundled yet)
  python bench/web.py --untrained_tap    # Drumify on an untrained model of the tap2drum config's size

Starts `scripts/serve.py` on a free port (the bundled model), waits until it answers, then
times sequential requests per endpoint from one keep-alive client: p50, p95 and mean in ms.
Also the time from launching the server to its first answer. Prints one table (with the
machine, the command and the load average, since other work on the machine shows in the
figures) and writes it as JSON.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import platform
import sys
import tempfile
import time

import numpy as np
import requests
from absl import app, flags

from machine import cpu_model, free_port, report, start_web_server  # bench/ is on sys.path when a bench script runs.

flags.DEFINE_integer("requests", 50, "Timed requests per endpoint (after 3 untimed).")
flags.DEFINE_string("output", "bench/web_results.json", "Where to write the JSON.")
flags.DEFINE_string("tap_run_dir", None, "A Tap2Drum model, to time /api/drumify as well.")
flags.DEFINE_bool("untrained_tap", False, "Time /api/drumify on an untrained groovae_tap2drum-sized model "
                  "(the same computation as a trained one).")
FLAGS = flags.FLAGS
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def write_untrained_tap_model(directory: str) -> str:
    from groove_vae import configs, runs
    from groove_vae.model import build_model

    model = build_model(configs.load_config("groovae_tap2drum"))
    configs.save_config(model.config, os.path.join(directory, runs.CONFIG_FILE))
    np.savez(os.path.join(directory, runs.WEIGHTS_FILE),
             **{f"w{i:03d}": w for i, w in enumerate(model.get_weights())})
    return directory


def latency(session: requests.Session, count: int, call) -> dict:
    for i in range(3):
        call(session, i).raise_for_status()
    times = []
    for i in range(count):
        start = time.perf_counter()
        call(session, 1000 + i).raise_for_status()
        times.append(time.perf_counter() - start)
    ms = 1000 * np.array(times)
    return {"p50_ms": float(np.percentile(ms, 50)), "p95_ms": float(np.percentile(ms, 95)),
            "mean_ms": float(ms.mean()), "requests": count}


def main(argv):
    del argv
    tap_run_dir = FLAGS.tap_run_dir
    if FLAGS.untrained_tap and not tap_run_dir:
        tap_run_dir = write_untrained_tap_model(tempfile.mkdtemp(prefix="untrained_tap2drum_"))
    port = free_port()
    load_before = os.getloadavg()
    process, url, startup = start_web_server(ROOT, port, [f"--tap_run_dir={tap_run_dir}"] if tap_run_dir else [])
    try:
        session = requests.Session()
        info = session.get(url + "/api/info").json()
        sampled = [session.post(url + "/api/sample", json={"seed": s}).json() for s in range(4)]
        beat = sampled[0]["beat"]
        corners = [s["z"] for s in sampled]
        midi = session.post(url + "/api/midi", json=beat).content
        rng = np.random.default_rng(0)
        calls = {
            "sample": lambda s, i: s.post(url + "/api/sample", json={"seed": i, "temperature": 1.0}),
            "blend": lambda s, i: s.post(url + "/api/blend", json={
                "corners": corners, "x": float(rng.random()), "y": float(rng.random())}),
            "humanize": lambda s, i: s.post(url + "/api/humanize", json={"beat": beat, "seed": i}),
            "upload (MIDI -> beat + z)": lambda s, i: s.post(url + "/api/upload", files={"file": ("b.mid", midi)}),
            "midi download": lambda s, i: s.post(url + "/api/midi", json=beat),
        }
        if info["drumify"]["available"]:
            name = "drumify (untrained model)" if tap_run_dir != FLAGS.tap_run_dir else "drumify"
            calls[name] = lambda s, i: s.post(url + "/api/drumify", json={"beat": beat, "seed": i})
        if info["fluidsynth"]:
            calls["wav download (one-shot mix)"] = lambda s, i: s.post(url + "/api/wav", json=beat)
        results = {
            "machine": {"cpu": cpu_model(), "cores": os.cpu_count(), "python": platform.python_version()},
            "command": " ".join([os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:]),
            "date": time.strftime("%Y-%m-%d %H:%M"),
            "load_average_1min": {"before": load_before[0]},
            "server_start_to_first_answer_s": startup,
            "endpoints": {},
        }
        for name, call in calls.items():
            results["endpoints"][name] = latency(session, FLAGS.requests, call)
        if not info["drumify"]["available"]:
            results["endpoints"]["drumify"] = {"skipped": "no tap model (pass --tap_run_dir)"}
        results["load_average_1min"]["after"] = os.getloadavg()[0]
    finally:
        process.terminate()
        process.wait(timeout=30)

    report(format_table(results), results, FLAGS.output)


def format_table(r: dict) -> str:
    m, load = r["machine"], r["load_average_1min"]
    lines = [f"machine: {m['cpu']}, {m['cores']} cores; command: {r['command']}; {r['date']}",
             f"load average (1 min) before / after: {load['before']:.2f} / {load['after']:.2f}",
             f"server start to first answer: {r['server_start_to_first_answer_s']:.1f} s",
             f"{'endpoint (one 4-bar clip)':<32} {'p50 ms':>8} {'p95 ms':>8} {'mean ms':>8} {'n':>5}", "-" * 65]
    for name, row in r["endpoints"].items():
        if "skipped" in row:
            lines.append(f"{name:<32} skipped: {row['skipped']}")
        else:
            lines.append(f"{name:<32} {row['p50_ms']:>8.1f} {row['p95_ms']:>8.1f} {row['mean_ms']:>8.1f} {row['requests']:>5}")
    return "\n".join(lines)


if __name__ == "__main__":
    app.run(main)
