"""Style Studio's entry point: serves the browser studio on GRADIO_SERVER_NAME:GRADIO_SERVER_PORT
(default 0.0.0.0:7860). The same engine is on the command line: ``studio --help``."""

from __future__ import annotations

from ui.app import launch

if __name__ == "__main__":
    launch()
