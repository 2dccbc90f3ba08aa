import json
import os
import subprocess
import sys

import pytest

from helpers import ROOT

FIGURES = ["machine", "command", "date", "matmul_peak_gflops", "matmul_gflop_per_cpu_s", "matmul_peak_gflops_bf16",
           "training", "data", "sample_cold_s", "decode_clips_per_s", "decode_clips_per_s_bf16",
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
    assert results["decode_clips_per_s"].keys() == results["decode_clips_per_s_bf16"].keys() == {"1", "2"}
    assert results["data"]["clips"] > 0 and results["serving_default_batch1"]["p50_ms"] > 0
    assert "training peak RSS" in run.stdout and "bf16 matmul peak" in run.stdout
