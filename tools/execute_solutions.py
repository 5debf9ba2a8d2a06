"""Re-execute every solution notebook in place with its default parameters: `make solutions`.

Runs each notebook in its own folder on the `python3` kernel, then strips run-specific
metadata so re-running an unchanged lesson leaves git clean.  Usage, from the repository root:
    python -m tools.execute_solutions [NN_topic.ipynb ...]
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
    if any(n in ("-h", "--help") for n in names):
        print(__doc__)
        sys.exit(0)
    paths = [root / "solutions" / n for n in names] if names else sorted((root / "solutions").glob("[0-9][0-9]_*.ipynb"))
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        sys.exit(f"no such solution notebook: {', '.join(missing)}; give names like 03_linucb_recommender.ipynb "
                 "from solutions/, or none to run them all")
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        start = time.perf_counter()
        NotebookClient(nb, kernel_name="python3", timeout=600,
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        write(clean_metadata(nb), path)
        print(f"executed {path.relative_to(root)} in {time.perf_counter() - start:.1f} s")
