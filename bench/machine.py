"""The machine a benchmark ran on, recorded beside its figures."""

import json
import os
import platform
import socket
import subprocess
import sys
import time


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def cpu_features() -> str:
    """The vector units the figures depend on (AVX2 only, AVX-512, bfloat16, AMX), from /proc/cpuinfo."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), [])
    except OSError:
        return "unknown"
    wanted = ("avx2", "avx512f", "avx512_bf16", "amx_bf16")
    return " ".join(flag for flag in wanted if flag in flags) or "none of " + ", ".join(wanted)


def report(table: str, results: dict, path: str) -> None:
    """Prints a benchmark's table and writes its figures, machine included, as JSON."""
    print(table)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump(results, f, indent=2)
    print(f"Written to {path}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_web_server(code: str, port: int, args=()):
    """Starts `scripts/serve.py` of the checkout `code` on `port` (the bundled model); waits
    until it answers. Returns (process, url, seconds from launch to the first answer)."""
    import requests

    env = {**os.environ, "PYTHONPATH": code + os.pathsep + os.environ.get("PYTHONPATH", "")}
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, os.path.join(code, "scripts", "serve.py"), f"--port={port}", *args],
                               cwd=code, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"The server exited: {process.stderr.read()[-2000:]}")
        try:
            requests.get(url + "/api/info", timeout=1)
            return process, url, time.perf_counter() - start
        except requests.RequestException:
            time.sleep(0.1)
