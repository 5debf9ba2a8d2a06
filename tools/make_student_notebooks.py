"""Regenerate notebooks/ (student versions) from solutions/: `make students`."""

from pathlib import Path

from tools.notebooks import generate_all

if __name__ == "__main__":
    root = Path(__file__).resolve().parents[1]
    for path in generate_all(root):
        print("wrote", path.relative_to(root))
