"""Subcommands of the spikevec command line, one module each."""
