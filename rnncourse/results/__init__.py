"""Precomputed results that notebooks plot instead of training for minutes (no models:
those live in ``rnncourse.pretrained``). Each ``<name>.json`` records the command, seed
and settings that made it; the module that made it reads it back (e.g.
``rnncourse.long_range.load_curves``).
"""
