"""The study report: one self-contained HTML file with tables, figures and the results paragraph.

``build_report(datasets, loaded)`` returns a :class:`Report` (``.html``, ``.paragraph`` and the
data of every table and figure as Polars frames); ``write_report(report, path)`` writes it.
"""

from radiotrial.report.build import Report, build_report, write_report
from radiotrial.report.narrative import NarrativeNumbers, results_paragraph

__all__ = ["NarrativeNumbers", "Report", "build_report", "results_paragraph", "write_report"]
