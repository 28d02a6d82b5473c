"""radiotrial — run and analyse radionuclide-therapy studies, from the patient record to the published result.

Layers (dependencies point down only; see ARCHITECTURE.md):
    cli/ → study/ → report/ → store/ → engines (stats/, criteria/, physics/, protocol/)
Engines are pure: frames and arrays in, results out; no files, database or printing.
"""

__version__ = "0.1.0"
