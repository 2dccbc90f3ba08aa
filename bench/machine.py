"""The machine a benchmark ran on, recorded beside its figures."""

import json
import os
import platform


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def report(table: str, results: dict, path: str) -> None:
    """Prints a benchmark's table and writes its figures, machine included, as JSON."""
    print(table)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump(results, f, indent=2)
    print(f"Written to {path}")
