r"""The `groove-vae` command (installed with the package): one entry for every job.

Usage:
  groove-vae --help                          # the commands
  groove-vae sample --num_output=5           # each command's --help lists its flags
  groove-vae train --config=groovae_4bar_cpu --run_dir=runs/x
  groove-vae serve                           # the web app on http://127.0.0.1:8000

Each command is a module here with absl flags and a `main(argv)`; `scripts/<command>.py`
in a checkout runs the same module. Only the chosen command's module is imported, so
commands can define flags of the same name (`--input`, `--output`). `call` runs one in
this process (a notebook, a test), with the flags of the command before it removed.
"""

from __future__ import annotations

import ast
import atexit
import gc
import importlib
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # Keep TensorFlow's C++ start-up chatter out.

from absl import app, flags  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
COMMANDS = ("sample", "steer", "humanize", "drumify", "infill", "continue", "reconstruct", "interpolate", "train",
            "distill", "evaluate", "fit_prior", "fit_constraints", "compute_styles", "calibrate_feel",
            "compare_splits", "package_model", "export", "serve", "serve_client", "extract_gmd")


MODULES = {"continue": "continue_"}  # A command's module, where its name is a Python keyword.


def module_name(command: str) -> str:
    return f"groove_vae.commands.{MODULES.get(command, command)}"


def summary(command: str) -> str:
    """A command's one-line purpose: its module docstring's first line, read without importing it."""
    if command == "serve":
        return "Serves the web app on this machine: a drum machine over the model, in the browser."
    with open(os.path.join(HERE, f"{MODULES.get(command, command)}.py")) as f:
        doc = ast.get_docstring(ast.parse(f.read())) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def run(command: str, argv: list[str] | None = None) -> None:
    """Parses the command's flags from `argv` (default: the process's, as a script) and runs it."""
    program = sys.argv[0] if argv is None else f"groove-vae {command}"
    argv = list(sys.argv[1:] if argv is None else argv)
    if command == "serve":
        from groove_vae.webapp import server as module

        module.define_flags()
        main = module.main
    else:
        module = importlib.import_module(module_name(command))
        main = module.main
    from groove_vae import cli

    # absl's --help lists the key flags of the module named sys.argv[0]: the command's own
    # and the shared ones (--run_dir, --seed, ...) that it defined through cli.
    for source in (module, cli):
        for flag in flags.FLAGS.get_key_flags_for_module(source):
            flags.FLAGS.register_key_flag_for_module(program, flag)
    main_module = sys.modules.get("__main__")
    if main_module is not None and module.__doc__:
        main_module.__doc__ = module.__doc__  # And the main module's docstring as the usage.
    sys.argv = [program] + argv
    # Python's last garbage collection, as the process ends, walks every object TensorFlow
    # and Keras made: a second of each command's exit. Frozen then, they are left to the OS.
    atexit.register(gc.freeze)
    app.run(main)


_loaded: dict[str, set[str]] = {}  # The command `call` last imported -> the flags it defined.


def call(command: str, argv: list[str] | None = None) -> None:
    """Runs a command in this process as `groove-vae COMMAND ARGV...` would, raising
    app.UsageError where the shell would print usage and exit; the flags return to
    their defaults afterwards. Cheaper than a new process: TensorFlow loads once."""
    if command not in COMMANDS or command == "serve":
        raise ValueError(f"call() runs one of {', '.join(c for c in COMMANDS if c != 'serve')}, not {command!r}.")
    for previous, names in _loaded.items():  # Each import defines its flags anew.
        for name in names:
            delattr(flags.FLAGS, name)
        sys.modules.pop(module_name(previous), None)
    _loaded.clear()
    from groove_vae import cli  # noqa: F401 (its own flags, such as --log_level, stay defined)

    before = set(flags.FLAGS)
    module = importlib.import_module(module_name(command))
    _loaded[command] = set(flags.FLAGS) - before
    try:
        rest = flags.FLAGS([f"groove-vae {command}", *(argv or [])])
    except flags.Error as e:
        flags.FLAGS.unparse_flags()
        raise app.UsageError(str(e)) from None
    try:
        module.main(rest)
    finally:
        flags.FLAGS.unparse_flags()


def main() -> None:
    command = sys.argv[1] if len(sys.argv) > 1 else None
    if command not in COMMANDS:
        listed = "\n".join(f"  {name:<15} {summary(name)}" for name in COMMANDS)
        print(f"Usage: groove-vae COMMAND [--flags]   (groove-vae COMMAND --help: its flags)\n\n"
              f"Commands:\n{listed}", file=sys.stderr if command not in ("-h", "--help") else sys.stdout)
        sys.exit(0 if command in ("-h", "--help") else 2)
    run(command, sys.argv[2:])


if __name__ == "__main__":
    main()
