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


def _flat(text: str) -> str:
    """The template's comments and keys as one whitespace-normalised line."""
    return " ".join(" ".join(line.strip().lstrip("#") for line in text.splitlines()).split())


def test_study_yaml_template_parses_back_to_the_defaults():
    import yaml

    from radiotrial.study.config import StudyConfig
    from radiotrial.study.template import study_yaml_template

    data = yaml.safe_load(study_yaml_template())
    default = StudyConfig(study_id="MY-STUDY", title="Title of the study")
    assert data == default.model_dump(mode="json")
    assert StudyConfig(**data) == default


def test_study_yaml_template_documents_every_field():
    from test_config_docs import reachable

    from radiotrial.study.config import StudyConfig
    from radiotrial.study.template import study_yaml_template

    text = study_yaml_template()
    assert text.startswith("# study.yaml")
    flat = _flat(text)
    for model in reachable(StudyConfig):
        for name, field in model.model_fields.items():
            if field.description and name != "kind":
                doc = " ".join(field.description.replace("``", "").split())
                assert doc in flat, (model.__name__, name)
    assert all(len(line) <= 95 for line in text.splitlines() if line.lstrip().startswith("#"))


def test_study_yaml_template_rule_items_start_with_kind_and_name_under_their_type():
    from radiotrial.protocol.config import EligibilityConfig, RetreatmentConfig
    from radiotrial.study.template import study_yaml_template

    lines = study_yaml_template().splitlines()
    summaries = {type(r).model_fields["kind"].default: type(r).__doc__.split("\n\n")[0]
                 for r in EligibilityConfig().rules}
    items = [i for i, line in enumerate(lines) if line.lstrip().startswith("- kind:")]
    assert len(items) == len(EligibilityConfig().rules)
    for i in items:
        kind = lines[i].split(":", 1)[1].strip()
        after = next(line for line in lines[i + 1:] if not line.lstrip().startswith("#"))
        assert after.lstrip().startswith("name:"), (kind, after)
        above = []
        j = i - 1
        while lines[j].lstrip().startswith("#"):
            above.insert(0, lines[j].strip().lstrip("# "))
            j -= 1
        expected = " ".join(summaries[kind].replace("``", "").split())
        assert " ".join(" ".join(above).split()).startswith(expected), (kind, above)
    # the rule kinds the defaults do not use are named with their fields
    assert "Also available (kind: recorded)" in study_yaml_template()
    # the retreatment labs (no kind): one item per default threshold, analyte first
    assert (sum(line.lstrip().startswith("- analyte:") for line in lines)
            == len(RetreatmentConfig().labs))
