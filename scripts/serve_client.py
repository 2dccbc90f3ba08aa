"""`groove-vae serve_client`, run from a checkout: see groove_vae/commands/serve_client.py (`--help` lists the flags)."""

from groove_vae.commands import run

if __name__ == "__main__":
    run("serve_client")
