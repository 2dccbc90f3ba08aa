"""`groove-vae serve`, run from a checkout: the web app (`--help` lists the flags)."""

from groove_vae.commands import run

if __name__ == "__main__":
    run("serve")
