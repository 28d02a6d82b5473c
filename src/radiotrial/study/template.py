"""An empty, documented study folder: headers, column dictionary, study.yaml, and a workbook.

``OUT/`` gets the CSV layout (``study.yaml``, one header-only CSV per record type,
``dictionary.csv``); ``OUT/xlsx/`` gets the workbook layout (``study.yaml``, ``study.xlsx`` with
one sheet per record type and a ``dictionary`` sheet). The dictionary comes from
``dictionary.py``: record type, column, type, unit, required, allowed values, description.
"""

from __future__ import annotations

import csv
import inspect
import io
import textwrap
import typing
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

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


_WIDTH = 95  # comment lines are wrapped at this column

_HEADER = """\
# study.yaml: the study's identity and protocol as data (radiotrial.study.config.StudyConfig).
# Every option below is at its default and documented in the comment above it; delete what you
# do not change (a section or option not given takes its default) and edit the rest.
# Lists of rules start each item with its kind. See docs/import-format.md for the data files.
"""


def _plain(text: str) -> str:
    """Docstring/description text as one plain line (reST ``literals`` unquoted)."""
    return " ".join(text.replace("``", "").split())


def _summary(model: type[BaseModel]) -> str:
    """First paragraph of a model's docstring, plain."""
    return _plain(inspect.cleandoc(model.__doc__ or "").split("\n\n")[0])


def _comment(text: str, indent: int, hang: int = 0) -> list[str]:
    """``text`` as ``#`` comment lines at ``indent``, wrapped at :data:`_WIDTH`; continuation
    lines indented by ``hang`` more."""
    pad = " " * indent + "# "
    return textwrap.wrap(text, _WIDTH, initial_indent=pad, subsequent_indent=pad + " " * hang,
                         break_long_words=False, break_on_hyphens=False)


def _scalar(value: Any) -> str:
    """A JSON-mode value as a one-line YAML flow node."""
    flow = yaml.safe_dump([value], default_flow_style=True, allow_unicode=True, width=10**9)
    return flow.strip()[1:-1]


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models inside an annotation (``list[A | B]``, ``dict[K, M] | None``, ...)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def _field_doc(model: type[BaseModel], name: str) -> str:
    """A field's description; for an undocumented section, its model's summary."""
    info = model.model_fields[name]
    if info.description:
        return _plain(info.description)
    inner = _models_in(info.annotation)
    return _summary(inner[0]) if len(inner) == 1 else ""


def _fields_doc(model: type[BaseModel], indent: int, skip: Collection[str] = ()) -> list[str]:
    """Comment lines naming a model's fields with their descriptions (for models not shown)."""
    out: list[str] = []
    for name in model.model_fields:
        if name not in skip:
            out += _comment(f"  {name}: {_field_doc(model, name)}", indent, hang=4)
    return out


def _yaml_model(model: BaseModel, indent: int, *, documented: set[tuple[str, str]] | None = None,
                first: Sequence[str] = ()) -> list[str]:
    """``model`` as commented YAML mapping lines at ``indent``.

    Fields in ``first`` come first; with ``documented`` (list items), a field's comment is
    written only the first time that (name, description) appears in the list.
    """
    cls = type(model)
    data = model.model_dump(mode="json")
    names = [n for n in first if n in cls.model_fields]
    names += [n for n in cls.model_fields if n not in names]
    pad = " " * indent
    out: list[str] = []
    for name in names:
        doc = _field_doc(cls, name)
        if indent == 0:
            out.append("")  # a blank line between top-level sections
        if name != "kind" and (documented is None or (name, doc) not in documented):
            out += _comment(doc, indent)
            if documented is not None:
                documented.add((name, doc))
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            out.append(f"{pad}{name}:")
            out += _yaml_model(value, indent + 2)
        elif isinstance(value, list) and value and all(isinstance(v, BaseModel) for v in value):
            out.append(f"{pad}{name}:")
            out += _yaml_items(value, cls.model_fields[name].annotation, indent + 2)
        else:  # a value; entry models of an empty list/dict are documented above it
            for inner in _models_in(cls.model_fields[name].annotation):
                out += _comment(f"Each entry: {_summary(inner)} Fields:", indent)
                out += _fields_doc(inner, indent)
            out.append(f"{pad}{name}: {_scalar(data[name])}")
    return out


def _yaml_items(items: list[BaseModel], annotation: Any, indent: int) -> list[str]:
    """A list of models as YAML items, kind/name first, each under a comment naming its type;
    then the item types of ``annotation`` that the list does not use, with their fields."""
    documented: set[tuple[str, str]] = set()
    out: list[str] = []
    for item in items:
        out += _comment(_summary(type(item)), indent)
        lines = _yaml_model(item, indent + 2, documented=documented, first=["kind", "name"])
        first = next(i for i, line in enumerate(lines) if not line.lstrip().startswith("#"))
        lines[first] = " " * indent + "- " + lines[first].lstrip()
        out += [line[2:] for line in lines[:first]] + lines[first:]  # comments above the "-"
    used = {type(i) for i in items}
    for other in _models_in(annotation):
        if other not in used:
            kind = other.model_fields.get("kind")
            label = f"kind: {kind.default}" if kind is not None else other.__name__
            out += _comment(f"Also available ({label}). {_summary(other)} Fields:", indent)
            out += _fields_doc(other, indent, skip={"kind", *(n for n, _ in documented)})
    return out


def study_yaml_template() -> str:
    """A documented ``study.yaml`` with every section at its default.

    Each key has a comment with its description, generated from the models' ``Field``
    descriptions (so the template and the validation never disagree); lists of rules give each
    item's type. It parses back to ``StudyConfig(study_id="MY-STUDY", title=...)``.
    """
    from radiotrial.study.config import StudyConfig

    cfg = StudyConfig(study_id="MY-STUDY", title="Title of the study")
    return _HEADER + "\n".join(_yaml_model(cfg, 0)) + "\n"


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
