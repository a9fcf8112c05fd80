"""Figures of the spec chapters, generated from the reference (make_figures.py)."""
