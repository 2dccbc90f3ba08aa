import json
import os
import subprocess
import sys

import pytest

from helpers import ROOT

FIGURES = ["machine", "command", "date", "matmul_peak_gflops", "matmul_gflop_per_cpu_s", "matmul_peak_gflops_bf16",
           "training", "data", "sample_cold_s", "clips_per_s", "clips_per_s_bf16",
           "serving_default_batch1", "training_peak_rss_mb_batch512", "training_peak_rss_mb_batch512_bf16"]


@pytest.mark.slow  # About a minute: five fresh TensorFlow processes.
def test_bench_smoke_run_writes_every_figure(tmp_path, tfds_data_dir):
    """bench/run.py end to end at toy sizes (--smoke): every figure is in the JSON and the table."""
    output = tmp_path / "results.json"
    run = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "run.py"), "--smoke", f"--output={output}"],
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    results = json.loads(output.read_text())
    assert sorted(results) == sorted(FIGURES)
    assert [(row["config"], row["precision"]) for row in results["training"]] == [
        ("groovae_4bar", "float32"), ("groovae_4bar", "mixed_bfloat16"), ("hierdec_drums_4bar", "float32")]
    for row in results["training"]:
        assert row["examples_per_s"] > 0 and 0 < row["cpu_ratio_to_peak"]
    for speeds in (results["clips_per_s"], results["clips_per_s_bf16"]):
        assert speeds.keys() == {"sample", "decode"}
        assert all(s.keys() == {"1", "2"} and min(s.values()) > 0 for s in speeds.values())
    assert "warm sample, seed to beats, batch 2" in run.stdout and "warm decode, latents to beats, batch 2" in run.stdout
    assert results["data"]["clips"] > 0 and results["serving_default_batch1"]["p50_ms"] > 0
    assert "training peak RSS" in run.stdout and "bf16 matmul peak" in run.stdout


@pytest.mark.slow  # About a minute: two fresh TensorFlow processes per checkout.
def test_decode_ab_times_each_checkout_in_turn(tmp_path):
    """bench/decode_ab.py, one round over this checkout twice: every figure for each, in the table."""
    output = tmp_path / "ab.json"
    run = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "decode_ab.py"), f"--checkouts={ROOT},{ROOT}",
                          "--rounds=1", f"--output={output}"], capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    columns = json.loads(output.read_text())["figures"]
    assert sorted(columns) == [f"1: {ROOT}", f"2: {ROOT}"]
    for figures in columns.values():
        assert len(figures) == 7 and all(len(values) == 1 and values[0] > 0 for values in figures.values())
    assert "cold sample --num_output=5 (s)" in run.stdout and "float32 batch 64 (clips/s)" in run.stdout
    assert "default batch 64 (clips/s)" in run.stdout


@pytest.mark.slow  # About half a minute: the bundled model loaded and compiled twice.
def test_chains_bench_times_one_chain_against_chains_and_finds_the_same_hits(tmp_path):
    output = tmp_path / "chains.json"
    run = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "chains.py"), "--rows=16", "--batch=32",
                          "--rounds=1", f"--output={output}"], capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    results = json.loads(output.read_text())
    assert sorted(results["figures"]) == ["decode_tensors chains of 16", "decode_tensors one chain",
                                          "sample_tensors chains of 16", "sample_tensors one chain"]
    assert all(f["best_clips_per_s"] > 0 for f in results["figures"].values())
    assert results["same_hits"] == {"one chain": True, "chains of 16": True}
    assert sorted(results["ms"]) == ["feel_draws", "sample_latents"] and min(results["ms"].values()) > 0
