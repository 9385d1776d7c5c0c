"""`python -m mhp.idp [--port N] [--state-dir DIR]`: the demo provider in the foreground, when
`MHP_EMBEDDED_IDP=enabled`."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from mhp.idp.app import ProviderNotEnabled
from mhp.idp.server import DEFAULT_PORT, ProviderStartError, serve

DEFAULT_STATE_DIR = Path(__file__).resolve().parents[2] / "var" / "idp"


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m mhp.idp", description=__doc__)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--state-dir", type=Path, default=Path(os.environ.get("MHP_IDP_STATE_DIR") or DEFAULT_STATE_DIR)
    )
    parser.add_argument("--audience", default=None)
    args = parser.parse_args()
    try:
        serve(args.state_dir, host=args.host, port=args.port, audience=args.audience)
    except (ProviderNotEnabled, ProviderStartError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
