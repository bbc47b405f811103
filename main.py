"""Start the Hall Desk window: `python main.py [--db URL] [--role desk]`."""

from desk.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
