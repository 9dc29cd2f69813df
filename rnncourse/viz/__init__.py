"""Plots and widgets. Each widget is a plain object with the logic (drivable from code,
so tests can set a control and read what it shows) and an ipywidgets view on top.
Import from the submodules.
"""
