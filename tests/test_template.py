"""Template: documented, importable as is; the dictionary and the docs agree."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from radiotrial.cli.main import app
from radiotrial.store.dictionary import RECORD_TYPES
from radiotrial.study.importer import import_study
from radiotrial.study.template import dictionary_rows

DOC = Path(__file__).resolve().parents[1] / "docs" / "import-format.md"


def test_template_writes_csv_and_xlsx_and_imports(tmp_path):
    out = tmp_path / "tpl"
    res = CliRunner().invoke(app, ["template", str(out)])
    assert res.exit_code == 0, res.output
    for rt in RECORD_TYPES:
        assert (out / rt.file).read_text().strip() == ",".join(rt.names)
    assert (out / "xlsx" / "study.xlsx").is_file() and (out / "dictionary.csv").is_file()
    assert import_study(out, str(tmp_path / "a.db"), user="t").status == "imported"
    assert import_study(out / "xlsx", str(tmp_path / "b.db"), user="t").status == "imported"


def test_dictionary_rows_cover_every_column():
    rows = dictionary_rows()
    assert rows[0] == ["record_type", "column", "type", "unit", "required", "allowed",
                       "description"]
    assert len(rows) - 1 == sum(len(rt.columns) for rt in RECORD_TYPES)
    sex = next(r for r in rows if r[:2] == ["subject", "sex"])
    assert sex[4] == "yes" and sex[5] == "M, F"


def test_docs_name_every_record_type_and_column():
    doc = DOC.read_text()
    for rt in RECORD_TYPES:
        assert f"`{rt.file}`" in doc
        for c in rt.columns:
            assert f"`{c.name}" in doc, (rt.name, c.name)
