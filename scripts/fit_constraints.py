"""`groove-vae fit_constraints`, run from a checkout: see groove_vae/commands/fit_constraints.py (`--help` lists the flags)."""

from groove_vae.commands import run

if __name__ == "__main__":
    run("fit_constraints")
