"""`groove-vae compare_splits`, run from a checkout: see groove_vae/commands/compare_splits.py (`--help` lists the flags)."""

from groove_vae.commands import run

if __name__ == "__main__":
    run("compare_splits")
