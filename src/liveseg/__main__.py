"""`python -m liveseg` is the `liveseg` command."""

from liveseg.cli import main

main()
