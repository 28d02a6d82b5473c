"""An empty, documented study folder: headers, column dictionary, study.yaml, and a workbook.

``OUT/`` gets the CSV layout (``study.yaml``, one header-only CSV per record type,
``dictionary.csv``); ``OUT/xlsx/`` gets the workbook layout (``study.yaml``, ``study.xlsx`` with
one sheet per record type and a ``dictionary`` sheet). The dictionary comes from
``dictionary.py``: record type, column, type, unit, required, allowed values, description.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from radiotrial.store.dictionary import KIND_TEXT, RECORD_TYPES, allowed_text
from radiotrial.study.exporter import _check_target, write_workbook

DICTIONARY_HEADER = ["record_type", "column", "type", "unit", "required", "allowed",
                     "description"]


def dictionary_rows() -> list[list[str]]:
    """The column dictionary as rows (header first)."""
    rows = [DICTIONARY_HEADER]
    for rt in RECORD_TYPES:
        for c in rt.columns:
            unit = {"activity_unit": "activity_unit (GBq, MBq) → GBq",
                    "unit": "unit column → canonical"}.get(c.unit or "", c.unit or "")
            rows.append([rt.name, c.name, KIND_TEXT[c.kind], unit,
                         "yes" if c.required else "no", allowed_text(c), c.description])
    return rows


def study_yaml_template() -> str:
    """A documented ``study.yaml`` with every section at its default."""
    import yaml

    from radiotrial.study.config import StudyConfig

    cfg = StudyConfig(study_id="MY-STUDY", title="Title of the study")
    body = yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False, allow_unicode=True)
    head = (
        "# study.yaml: the study's identity and protocol (radiotrial.study.config.StudyConfig).\n"
        "# study_id: letters, digits, _ . - (max 40). Sections not given take their defaults.\n"
        "# protocol: cycle interval and windows; response: WHO | RECIST1.1 | RECIST1.0;\n"
        "# toxicity: ctc-v2 | ctcae-v5 | ctcae-v4.03; markers: marker response rule;\n"
        "# dosimetry: dose model. See docs/import-format.md.\n"
    )
    return head + body


def write_template(out: Path | str, *, overwrite: bool = False) -> list[Path]:
    """Write the template to ``out``; returns the files written."""
    from radiotrial.store.dictionary import empty_frame

    out = Path(out)
    _check_target(out, overwrite)
    (out / "xlsx").mkdir(parents=True, exist_ok=True)
    written = []
    yaml_text = study_yaml_template()
    for folder in (out, out / "xlsx"):
        (folder / "study.yaml").write_text(yaml_text, encoding="utf-8")
        written.append(folder / "study.yaml")
    for rt in RECORD_TYPES:
        path = out / rt.file
        path.write_text(",".join(rt.names) + "\n", encoding="utf-8")
        written.append(path)
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(dictionary_rows())
    (out / "dictionary.csv").write_text(buf.getvalue(), encoding="utf-8")
    written.append(out / "dictionary.csv")
    write_workbook(out / "xlsx" / "study.xlsx", {rt.name: empty_frame(rt) for rt in RECORD_TYPES},
                   dictionary=dictionary_rows())
    written.append(out / "xlsx" / "study.xlsx")
    return written
