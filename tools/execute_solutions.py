"""Re-execute every solution notebook in place with its default parameters: `make solutions`.

Runs each notebook in its own folder on the `python3` kernel, then strips run-specific
metadata so re-running an unchanged lesson leaves git clean.  Usage:
    python tools/execute_solutions.py [NN_topic.ipynb ...]
"""

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from tools.notebooks import clean_metadata, write

if __name__ == "__main__":
    root = Path(__file__).resolve().parents[1]
    names = sys.argv[1:]
    paths = [root / "solutions" / n for n in names] if names else sorted((root / "solutions").glob("[0-9][0-9]_*.ipynb"))
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        start = time.perf_counter()
        NotebookClient(nb, kernel_name="python3", timeout=600,
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        write(clean_metadata(nb), path)
        print(f"executed {path.relative_to(root)} in {time.perf_counter() - start:.1f} s")
