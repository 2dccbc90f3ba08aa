"""`python -m groove_vae.commands COMMAND`: the same as the installed `groove-vae COMMAND`."""

from groove_vae.commands import main

main()
