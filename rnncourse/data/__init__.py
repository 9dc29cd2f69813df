"""Data for the course: toy tasks, corpora, vocabularies and batchers, generated task data.

Every generator is seeded and works offline. Import from the submodules.
"""
