"""course_lib: the tested implementations behind the course notebooks.

Layers (CONTRIBUTING.md draws the tree): ``validate``, ``numerics`` and ``protocols`` shared by all;
``sim`` (worlds, click models, the serving loop) shared by the lessons; one module or sub-package
per lesson topic (``online``, ``bandits``, ``contextual``, ``ope``, ``metrics``, ``abtest``); and
``notebook`` (records, exercises and their checkers, widgets, plots), which only notebooks import.
"""

__version__ = "0.1.0"
