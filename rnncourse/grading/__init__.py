"""Instructor grading on nbval: ``rnncourse grade`` and its parts.

``prepare`` makes the graded copy of a submission, ``run`` runs the copies under
pytest + nbval, ``plugin`` is the pytest plugin that reports each cell,
``gradebook`` writes the CSV files, ``cli`` wires them into the command.
"""
