"""What the scripts share: their common flags, loading a model, bad input, writing outputs.

Importing this module is cheap (absl only), so `--help` answers before TensorFlow loads.
"""

from __future__ import annotations

import os

from absl import app, flags


def define_flags(temperature: float | None = None, run_dir_help: str = "") -> None:
    """Defines --run_dir, --seed, --wav, --png, --overwrite (and --temperature with a default)."""
    flags.DEFINE_string("run_dir", None, run_dir_help or "A model or training run directory (default: the bundled model).")
    flags.DEFINE_integer("seed", 0, "Random seed; the same seed writes the same files.")
    if temperature is not None:
        flags.DEFINE_float("temperature", temperature, "Sampling temperature (> 0); lower is tamer.")
    flags.DEFINE_bool("wav", False, "Also render each output to WAV (needs FluidSynth and a GM soundfont).")
    flags.DEFINE_bool("png", False, "Also draw each output as a drum grid PNG.")
    flags.DEFINE_bool("overwrite", False, "Replace existing output files.")


def check_flags() -> None:
    """Checks the shared flags a script defines (--seed, --temperature, --qpm, --output,
    --output_dir) and raises a one-line usage error, before the model loads."""
    from groove_vae import checks

    values = flags.FLAGS
    defined = set(values)
    try:
        for name, check in (("seed", checks.check_seed), ("temperature", checks.check_temperature),
                            ("qpm", checks.check_qpm)):
            if name in defined:
                check(values[name].value)
        if "output" in defined and values["output"].value:
            check_output_file(values["output"].value)
        if "output_dir" in defined and values["output_dir"].value:
            check_output_dir(values["output_dir"].value)
    except ValueError as e:
        raise app.UsageError(f"--{e}" if str(e).split()[0] in defined else str(e)) from None


def load_model(run_dir: str | None):
    """Checks the shared flags, then loads the model (a bundled one, or a directory)."""
    from groove_vae import api

    check_flags()
    try:
        return api.load(run_dir)
    except (FileNotFoundError, ValueError) as e:
        raise app.UsageError(str(e))


def check_writable(paths, overwrite: bool) -> None:
    """Refuses to replace existing files unless --overwrite says so."""
    existing = [p for p in paths if os.path.exists(p)]
    if existing and not overwrite:
        raise app.UsageError(f"{existing[0]} exists; pass --overwrite to replace it.")


def check_output_dir(path: str) -> None:
    """Refuses an output folder that is a file (or lies below one), before any work starts."""
    probe = os.path.abspath(path)
    while not os.path.exists(probe):
        probe = os.path.dirname(probe)
    if not os.path.isdir(probe):
        raise ValueError(f"{path}: {probe} is a file, not a folder.")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise ValueError(f"{path}: {probe} is not writable.")


def check_output_file(path: str) -> None:
    """Refuses an output path that is a folder, or whose folder cannot exist, before any work starts."""
    if os.path.isdir(path):
        raise ValueError(f"{path}: is a folder; give a file name.")
    check_output_dir(os.path.dirname(path) or ".")


def write(ns, path: str, wav: bool = False, png: bool = False, title: str = "", overwrite: bool = False) -> None:
    """Writes a .mid (and .wav / .png beside it) and prints one line about it."""
    from groove_vae import api, converter, render

    stem = os.path.splitext(path)[0]
    from groove_vae.files import WriteError

    check_writable([path] + [stem + ".wav"] * wav + [stem + ".png"] * png, overwrite)
    extras = []
    try:
        api.write_midi(ns, path)
        extras = render.save_extras(ns, path, wav=wav, png=png, title=title)
    except render.RenderError as e:
        print(f"No WAV for {path}: {e}")
    except WriteError as e:
        raise app.UsageError(str(e)) from None
    more = f" (+ {', '.join(os.path.basename(p) for p in extras)})" if extras else ""
    print(f"{path}: {converter.describe(ns)}{more}")


class usage_errors:  # noqa: N801 (used as a context manager, like contextlib's)
    """Turns bad input (a missing file, no drums, not 4/4) into a one-line usage error."""

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        from groove_vae import converter

        from groove_vae.files import WriteError

        if isinstance(error, (converter.ConversionError, ValueError, FileNotFoundError, WriteError)):
            raise app.UsageError(str(error)) from None
        return False
