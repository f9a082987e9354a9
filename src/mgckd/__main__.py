"""``python -m mgckd`` runs the command line."""

from mgckd.cli import main

main()
