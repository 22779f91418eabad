"""The ``integrad`` command: one module per subcommand, dispatched by :mod:`integrad.cli.main`."""
