"""rnncourse: helper package for the recurrent neural networks course.

Import what you need from the submodules, for example
``from rnncourse.device import get_device``. Importing the package has no side
effects: seeding, device choice and plot style are explicit calls.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
