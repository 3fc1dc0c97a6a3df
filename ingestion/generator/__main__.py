"""``python -m ingestion.generator OUT_DIR [--rows N] [--seed S]``: deliveries and MANIFEST.json.

``python -m ingestion.generator samples --rows 60`` rebuilds the bundled samples.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ingestion.generator.api import generate_all, manifest


def main(argv: list[str]) -> int:
    """Write both deliveries of every source under ``argv[0]`` and their ``MANIFEST.json``.

    Args:
        argv: Command-line arguments (without the program name).

    Returns:
        The exit status (0).
    """

    parser = argparse.ArgumentParser(
        prog="python -m ingestion.generator",
        description="Write both deliveries of every silo extract and MANIFEST.json.",
    )
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--rows", type=int, default=100)
    parser.add_argument("--seed", type=int, default=2021)
    args = parser.parse_args(argv)
    written = generate_all(args.out_dir, rows=args.rows, seed=args.seed)
    document = json.dumps(manifest(args.rows, args.seed), ensure_ascii=False, indent=2)
    (args.out_dir / "MANIFEST.json").write_text(document + "\n", encoding="utf-8")
    for paths in written.values():
        for path in paths:
            print(f"{path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
