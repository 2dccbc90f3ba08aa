r"""The `groove-vae` command (installed with the package).

Usage:
  groove-vae serve                          # the web app on http://127.0.0.1:8000
  groove-vae serve --port=8080 --tap_run_dir=runs/tap2drum
  groove-vae serve --help                   # every flag
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # Keep TensorFlow's C++ start-up chatter out.

from absl import app, flags  # noqa: E402

COMMANDS = {"serve": "the web app: sample, blend, humanize and drumify beats in the browser"}


def main() -> None:
    command = sys.argv[1] if len(sys.argv) > 1 else None
    if command not in COMMANDS:
        listed = "\n".join(f"  {name:<8} {about}" for name, about in COMMANDS.items())
        print(f"Usage: groove-vae COMMAND [--flags]\n\nCommands:\n{listed}", file=sys.stderr)
        sys.exit(0 if command in ("-h", "--help") else 2)
    from groove_vae.webapp import server

    server.define_flags()
    flags.adopt_module_key_flags(server)  # So --help lists them.
    sys.argv = [f"groove-vae {command}"] + sys.argv[2:]
    app.run(server.main)


if __name__ == "__main__":
    main()
