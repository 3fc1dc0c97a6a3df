"""The `lake` console command: `main` builds the parser, one module per group of subcommands."""
