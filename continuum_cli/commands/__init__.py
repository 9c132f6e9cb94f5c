"""One module per `continuum` subcommand; each exposes `register(subparsers)`."""
