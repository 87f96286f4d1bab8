"""`python -m contextree` runs the `ctree` command line."""

from contextree.cli.main import main

main()
