"""What the scripts share: reading a model, reporting bad input, writing outputs."""

from __future__ import annotations

import os

from absl import app

from groove_vae import api, converter, render


def load_model(run_dir: str | None) -> api.GrooveVAE:
    try:
        return api.load(run_dir)
    except FileNotFoundError as e:
        raise app.UsageError(str(e))


def check_writable(paths, overwrite: bool) -> None:
    """Refuses to replace existing files unless --overwrite says so."""
    existing = [p for p in paths if os.path.exists(p)]
    if existing and not overwrite:
        raise app.UsageError(f"{existing[0]} exists; pass --overwrite to replace it.")


def write(ns, path: str, wav: bool = False, png: bool = False, title: str = "", overwrite: bool = False) -> None:
    """Writes a .mid (and .wav / .png beside it) and prints one line about it."""
    stem = os.path.splitext(path)[0]
    check_writable([path] + [stem + ".wav"] * wav + [stem + ".png"] * png, overwrite)
    api.write_midi(ns, path)
    extras = []
    try:
        extras = render.save_extras(ns, path, wav=wav, png=png, title=title)
    except render.RenderError as e:
        print(f"No WAV for {path}: {e}")
    more = f" (+ {', '.join(os.path.basename(p) for p in extras)})" if extras else ""
    print(f"{path}: {converter.describe(ns)}{more}")


def usage_errors():
    """Turns bad input (a missing file, no drums, not 4/4) into a one-line usage error."""
    return _UsageErrors()


class _UsageErrors:
    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        if isinstance(error, (converter.ConversionError, ValueError, FileNotFoundError)):
            raise app.UsageError(str(error)) from None
        return False
