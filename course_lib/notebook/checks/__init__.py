"""Exercise checkers, one module per lesson (``lesson01`` ...): each ``check_<exercise>(candidate)``
tests a student's function against the lesson's reference implementation with ``run_check``."""
