"""`groove-vae steer`, run from a checkout: see groove_vae/commands/steer.py (`--help` lists the flags)."""

from groove_vae.commands import run

if __name__ == "__main__":
    run("steer")
