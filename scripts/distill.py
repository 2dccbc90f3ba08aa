"""`groove-vae distill`, run from a checkout: see groove_vae/commands/distill.py (`--help` lists the flags)."""

from groove_vae.commands import run

if __name__ == "__main__":
    run("distill")
