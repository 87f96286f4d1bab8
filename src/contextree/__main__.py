"""`python -m contextree` runs the `ctree` command line."""

from contextree.cli.app import main

main()
