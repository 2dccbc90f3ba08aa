"""`groove-vae calibrate_feel`, run from a checkout: see groove_vae/commands/calibrate_feel.py (`--help` lists the flags)."""

from groove_vae.commands import run

if __name__ == "__main__":
    run("calibrate_feel")
