"""Root pytest hooks, for every test path (tests/ and the nbval run over solutions/).

Test tiers (markers registered in pyproject.toml; Makefile targets test-fast, test-lessons, ...):
``lesson`` notebook runs (papermill, nbval), ``slow`` longer checks such as the non-editable install,
``services`` tests that need Redis/Kafka/Flink, ``gpu`` tests that need CUDA (skipped without one),
``browser`` tests that drive JupyterLab in a browser.  Unmarked tests are the fast unit tests.
"""

import pytest


def _has_cuda() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """nbval cells: one xdist worker per notebook, in order (they share one kernel), marked ``lesson``.
    ``gpu`` tests are skipped on a machine without CUDA, so ``make test`` runs what can run."""
    cuda = None
    for item in items:
        if ".ipynb::Cell" in item.nodeid:
            item.add_marker(pytest.mark.xdist_group(f"nbval-{item.path.stem}"))
            item.add_marker(pytest.mark.lesson)
        if item.get_closest_marker("gpu"):
            cuda = _has_cuda() if cuda is None else cuda
            if not cuda:
                item.add_marker(pytest.mark.skip(reason="needs a CUDA GPU"))
