"""Dose models: dose factors, MIRD, liver peptide retention, partition model, microspheres,
kidney and red marrow, BED and limits (spec/dosimetry.md 2). Each is a small pure function."""
