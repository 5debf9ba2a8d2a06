"""Notebook machinery, kept apart from the algorithms: records the tests read back (``record``),
exercise checking (``exercises`` and the per-lesson ``checks``), sliders (``widgets``) and
figures (``plots``).  It may import the algorithm modules; they never import it."""
