"""`groove-vae extract_gmd`, run from a checkout: see groove_vae/commands/extract_gmd.py (`--help` lists the flags)."""

from groove_vae.commands import run

if __name__ == "__main__":
    run("extract_gmd")
