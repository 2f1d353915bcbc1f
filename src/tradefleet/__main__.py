"""``python -m tradefleet`` runs the CLI."""

from tradefleet.cli import main

main()
