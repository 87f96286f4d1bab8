"""The `ctree` command line: thin click adapters over the engine and the progress core."""
