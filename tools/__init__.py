"""Build tooling of the course (student notebook generator, solution execution); not installed with course_lib."""
