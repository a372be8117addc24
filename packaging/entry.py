"""The frozen app's entry point: no arguments opens Outpost, `outpost <command>` runs the CLI."""

import sys

from app.cli import main

if __name__ == "__main__":
    # Finder on old macOS versions passes a process serial number; it is not a command.
    sys.exit(main([arg for arg in sys.argv[1:] if not arg.startswith("-psn_")]))
