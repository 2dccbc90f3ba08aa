"""`groove-vae compute_styles`, run from a checkout: see groove_vae/commands/compute_styles.py (`--help` lists the flags)."""

from groove_vae.commands import run

if __name__ == "__main__":
    run("compute_styles")
