"""Root pytest hooks, for every test path (tests/ and the nbval run over solutions/)."""

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Keep every nbval cell of one notebook on one xdist worker, in order: they share one kernel."""
    for item in items:
        if ".ipynb::Cell" in item.nodeid:
            item.add_marker(pytest.mark.xdist_group(f"nbval-{item.path.stem}"))
