"""What the commands share: their common flags (each defined here, once), loading a
model, bad input, writing outputs.

Importing this module is cheap (absl only), so `--help` answers before TensorFlow loads.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings

from absl import app, flags, logging

DEFAULT_TFDS_NAME = "groove/4bar-midionly"

# Every command has it: defined when the first command imports this module.
flags.DEFINE_enum("log_level", "warning", ["debug", "info", "warning", "error"],
                  "What absl and groove-vae log: warning shows only problems.")


def start() -> None:
    """The first line of every command's main: applies --log_level (below debug, pydub's
    ffmpeg warning goes too: no command reads audio; `load_model` quiets TensorFlow's start)."""
    logging.set_verbosity(flags.FLAGS.log_level)
    if flags.FLAGS.log_level != "debug":
        warnings.filterwarnings("ignore", message="Couldn't find ffmpeg")


@contextlib.contextmanager
def quiet_start():
    """Sends the process's own stderr (file descriptor 2) to /dev/null for the block.

    TensorFlow's C++ core logs its start-up (oneDNN notes, CUDA probing that fails on a
    CPU-only machine) straight to fd 2, past Python's logging and TF_CPP_MIN_LOG_LEVEL:
    noise before a command's results. A Python exception in the block still surfaces."""
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def quietly():
    """`quiet_start` below --log_level=debug: for whatever first imports TensorFlow."""
    return quiet_start() if flags.FLAGS.log_level != "debug" else contextlib.nullcontext()


def define_run_dir(help: str = "A model or training run directory (default: the bundled model).",  # noqa: A002
                   required: bool = False) -> None:
    flags.DEFINE_string("run_dir", None, help, required=required)


def define_seed(default: int = 0, help: str = "Random seed; the same seed writes the same files.") -> None:  # noqa: A002
    flags.DEFINE_integer("seed", default, help)


def define_temperature(default: float, help: str = "Sampling temperature (> 0); lower is tamer.") -> None:  # noqa: A002
    flags.DEFINE_float("temperature", default, help)


def define_overwrite(help: str = "Replace existing output files.") -> None:  # noqa: A002
    flags.DEFINE_bool("overwrite", False, help)


def define_data(tfds_help: str = "TFDS dataset of MIDI clips.") -> None:
    """--tfds_name and --data_dir: which TFDS dataset, and where it lies."""
    flags.DEFINE_string("tfds_name", DEFAULT_TFDS_NAME, tfds_help)
    flags.DEFINE_string("data_dir", None, "TFDS data directory (default: $TFDS_DATA_DIR).")


def define_flags(temperature: float | None = None, run_dir_help: str = "") -> None:
    """The flags of a command that writes MIDI: --run_dir, --precision, --seed, --wav, --png,
    --overwrite (and --temperature with a default)."""
    define_run_dir(run_dir_help) if run_dir_help else define_run_dir()
    flags.DEFINE_enum("precision", None, ["float32", "mixed_bfloat16"],
                      "Decode in this precision (default: float32 on a machine without a GPU, else the "
                      "model's own; mixed_bfloat16 is faster for many beats on CPUs with AVX512-BF16).")
    define_seed()
    if temperature is not None:
        define_temperature(temperature)
    flags.DEFINE_bool("wav", False, "Also render each output to WAV (needs FluidSynth and a GM soundfont).")
    flags.DEFINE_bool("png", False, "Also draw each output as a drum grid PNG.")
    define_overwrite()


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
    check_flags()
    precision = flags.FLAGS["precision"].value if "precision" in flags.FLAGS else None
    try:  # TensorFlow starts here: its C++ start-up lines (CUDA probing, oneDNN notes) kept out below debug.
        with quietly():
            import tensorflow as tf

            from groove_vae import api

            tf.config.list_physical_devices("GPU")  # Where CUDA is probed (and, on a CPU-only machine, fails).
            vae = api.load(run_dir, precision)
    except (FileNotFoundError, ValueError) as e:
        raise app.UsageError(str(e))
    vae.jit_max_batch = 0  # A command decodes once or twice: XLA's compile would cost more than it saves.
    return vae


def parse_steering(attributes_text: str | None, constraints_text: str | None):
    """--attributes and --constraints -> (amounts or None, `Constraints` or None), checked
    before the model loads; call it inside `usage_errors`."""
    from groove_vae import attributes

    amounts = attributes.parse_amounts(attributes_text) if attributes_text else None
    if amounts is not None:
        attributes.check_amounts(amounts, list(attributes.ATTRIBUTES))
    if not constraints_text:
        return amounts, None
    with quietly():  # constraints imports TensorFlow.
        from groove_vae.constraints import Constraints
    return amounts, Constraints.parse(constraints_text)


def check_writable(paths, overwrite: bool) -> None:
    """Refuses to replace existing files unless --overwrite says so."""
    existing = [p for p in paths if os.path.exists(p)]
    if existing and not overwrite:
        raise app.UsageError(f"{existing[0]} exists; pass --overwrite to replace it.")


def outputs(path: str, wav: bool = False, png: bool = False) -> list[str]:
    """The files `write` makes for `path`: the .mid, and the .wav and .png beside it if asked."""
    stem = os.path.splitext(path)[0]
    return [path] + [stem + ".wav"] * wav + [stem + ".png"] * png


def check_outputs(*paths: str) -> None:
    """Refuses, before any work (call it before `load_model`), what `write` would replace
    without --overwrite: each path, and the .wav and .png beside it that --wav and --png
    ask for. A two-hour song must not be played only to be refused."""
    check_flags()  # A folder or an impossible place as --output says so first.
    values = flags.FLAGS
    wav, png = (name in values and values[name].value for name in ("wav", "png"))
    check_writable([p for path in paths for p in outputs(path, wav, png)], values["overwrite"].value)


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

    from groove_vae.files import WriteError

    check_writable(outputs(path, wav, png), overwrite)
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
