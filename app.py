"""Style Studio's entry point.

The browser studio (Gradio) arrives with its own issue; until then this prints how to use the engine
from the command line, and checks that the engine and its loss-network weights are ready.
"""

from __future__ import annotations

import sys

from studio import __version__
from studio.cli import main as cli_main
from studio.lossnet import prepare_weights


def main() -> int:
    print(f"Style Studio {__version__}: the web studio is not built yet; the engine is ready on the command line.")
    print(f"loss-network weights: {prepare_weights('hed')}\n")
    return cli_main(["--help"] if len(sys.argv) < 2 else sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
