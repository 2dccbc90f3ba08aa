"""`groove-vae package_model`, run from a checkout: see groove_vae/commands/package_model.py (`--help` lists the flags)."""

from groove_vae.commands import run

if __name__ == "__main__":
    run("package_model")
