"""Diagrams of the course's models, drawn with matplotlib from the lecture's symbols.

One module per model family (``unrolled``, ``lstm``, ``seq2seq``, ``ctc``, ...), all
built on the primitives of ``_base``. Each function returns a matplotlib Figure
marked as a diagram (so the figure-hygiene test does not ask it for axis labels);
output is deterministic: the same arguments draw the same picture.
"""
