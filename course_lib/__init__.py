"""course_lib: the tested implementations behind the course notebooks.

One module per lesson topic (``online`` for lesson 01, ...), plus shared helpers:
``record`` (figures the tests read back), ``exercises`` (checkers), ``plots`` and ``widgets``.
"""

__version__ = "0.1.0"
