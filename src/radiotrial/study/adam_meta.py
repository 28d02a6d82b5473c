"""Labels and units of the analysis-dataset variables (the data dictionary's source).

Names follow CDISC ADaM IG 1.3 / ADaM-OCCDS and the oncology conventions of admiralonco where a
standard name exists (ADSL TRTSDT, DTHFL, SAFFL; ADRS OVR/BOR/CBOR; ADTTE CNSR, EVNTDESC,
CNSDTDSC; ADLB ATOXGR/BTOXGR). Names without a standard are marked ``(radiotrial)`` in the label.
"""

from __future__ import annotations

import polars as pl

#: column -> (label, unit). Shared across datasets; a dataset-specific entry wins.
LABELS: dict[str, tuple[str, str]] = {
    "STUDYID": ("Study Identifier", ""),
    "USUBJID": ("Unique Subject Identifier (STUDYID-SUBJID)", ""),
    "SUBJID": ("Subject Identifier for the Study", ""),
    "SITEID": ("Study Site Identifier", ""),
    "AGE": ("Age at enrolment", "years"),
    "AGEU": ("Age Units", ""),
    "SEX": ("Sex", ""),
    "HISTOL": ("Histology (radiotrial)", ""),
    "PRIMSITE": ("Primary tumour site (radiotrial)", ""),
    "LIVMETFL": ("Liver metastases flag (radiotrial)", ""),
    "ECOGBL": ("Baseline ECOG performance status", ""),
    "KRENNGR": ("Krenning uptake grade at pre-treatment scintigraphy (radiotrial)", ""),
    "PROGDT": ("Date of radiologic progression before entry (radiotrial)", ""),
    "ENRLDT": ("Date of enrolment", ""),
    "ELIGFL": ("Eligible flag (all eligibility criteria met)", ""),
    "ELIGRSN": ("Eligibility criteria not met (radiotrial)", ""),
    "TRTSDT": ("Date of First Exposure to Treatment", ""),
    "TRTEDT": ("Date of Last Exposure to Treatment", ""),
    "NCYCLES": ("Number of treatment cycles (radiotrial)", ""),
    "CUMACT": ("Cumulative administered activity (radiotrial)", "GBq"),
    "EMBFL": ("Any administration with embolisation (radiotrial)", ""),
    "SAFFL": ("Safety Population Flag (treated at least once)", ""),
    "EFFFL": ("Response-Evaluable Population Flag", ""),
    "EFFRSN": ("Reason not response-evaluable (radiotrial)", ""),
    "BOR": ("Primary best overall response: confirmed (CBOR) when the criteria require confirmation, else UBOR", ""),
    "UBOR": ("Best overall response, unconfirmed (as ADRS PARAMCD BOR)", ""),
    "CBOR": ("Confirmed best overall response (copy of ADRS CBOR)", ""),
    "BASESUM": ("Baseline tumour sum (SPD for WHO, SDIAM for RECIST)", "mm2 or mm"),
    "BPCHG": ("Best (minimum) post-baseline percent change in tumour sum", "%"),
    "MKBLFL": ("Tumour marker elevated at baseline / marker-evaluable (radiotrial)", ""),
    "MKRSPFL": ("Biologic (marker) response flag (radiotrial)", ""),
    "MKRSN": ("Reason not marker-evaluable (radiotrial)", ""),
    "CLEVLFL": ("Clinically evaluable flag (radiotrial)", ""),
    "CLIMPFL": ("Clinical improvement flag (radiotrial)", ""),
    "DTHFL": ("Subject Death Flag", ""),
    "DTHDT": ("Date of Death", ""),
    "DTHCAUS": ("Cause of Death", ""),
    "LSTALVDT": ("Date Last Known Alive", ""),
    "NTHRDT": ("Start of new anti-cancer therapy (radiotrial)", ""),
    "EOTSTT": ("End of Treatment Status (COMPLETED / DISCONTINUED / ONGOING)", ""),
    "EOTDT": ("End of Treatment Date", ""),
    "DCTREAS": ("Reason for Discontinuation of Treatment", ""),
    "EOSSTT": ("End of Study Status (COMPLETED / DISCONTINUED / ONGOING)", ""),
    "EOSDT": ("End of Study Date", ""),
    "DCSREAS": ("Reason for Discontinuation from Study", ""),
    # ADEX
    "CYCLE": ("Treatment cycle", ""),
    "EXTRT": ("Name of Treatment (radiopharmaceutical)", ""),
    "NUCLIDE": ("Radionuclide (radiotrial)", ""),
    "EXROUTE": ("Route of Administration", ""),
    "ASTDTM": ("Analysis Start Datetime (UTC)", ""),
    "ASTDT": ("Analysis Start Date", ""),
    "ASTDY": ("Analysis Start Relative Day", "days"),
    "CALACT": ("Calibrated activity (radiotrial)", "GBq"),
    "RESACT": ("Residual activity (radiotrial)", "GBq"),
    "ADMACT": ("Administered activity, decay-corrected to injection, net of residual", "GBq"),
    "CUMACTC": ("Cumulative administered activity up to this cycle (radiotrial)", "GBq"),
    "INTVLD": ("Days since the previous cycle (radiotrial)", "days"),
    "EMBAGENT": ("Embolisation agent (radiotrial)", ""),
    "LIVMASS": ("Liver mass (radiotrial)", "kg"),
    "TUMMASS": ("Tumour mass (radiotrial)", "kg"),
    # BDS common
    "PARAMCD": ("Parameter Code", ""),
    "PARAM": ("Parameter", ""),
    "PARCAT1": ("Parameter Category 1 (criteria)", ""),
    "AVAL": ("Analysis Value", ""),
    "AVALC": ("Analysis Value (C)", ""),
    "AVALU": ("Analysis Value Unit", ""),
    "BASE": ("Baseline Value", ""),
    "CHG": ("Change from Baseline", ""),
    "PCHG": ("Percent Change from Baseline", "%"),
    "NADIR": ("Nadir (smallest earlier value, baseline included)", ""),
    "PCHGNAD": ("Percent Change from Nadir", "%"),
    "ABLFL": ("Baseline Record Flag", ""),
    "ADT": ("Analysis Date", ""),
    "ADTM": ("Analysis Datetime (UTC)", ""),
    "ADY": ("Analysis Relative Day (day 1 = first treatment, no day 0)", "days"),
    "AVISIT": ("Analysis Visit", ""),
    "AVISITN": ("Analysis Visit (N)", ""),
    "ANRLO": ("Analysis Normal Range Lower Limit", ""),
    "ANRHI": ("Analysis Normal Range Upper Limit", ""),
    "ATOXDSC": ("Analysis Toxicity Description", ""),
    "ATOXGR": ("Analysis Toxicity Grade (negative = low direction)", ""),
    "ATOXGRN": ("Analysis Toxicity Grade (N), absolute", ""),
    "BTOXGR": ("Baseline Toxicity Grade", ""),
    # ADTOX (radiotrial)
    "WORSTGR": ("Worst post-baseline toxicity grade (absolute) (radiotrial)", ""),
    "REVFL": ("Toxicity reversible (recovered during follow-up) (radiotrial)", ""),
    # ADTTE
    "STARTDT": ("Time-to-Event Origin Date (first treatment)", ""),
    "AVALM": ("Analysis Value in months (days / 30.4375)", "months"),
    "CNSR": ("Censor (0 = event, 1 = censored)", ""),
    "EVNTDESC": ("Event or Censoring Description", ""),
    "CNSDTDSC": ("Censor Date Description", ""),
}


def _kind(dtype: pl.DataType) -> str:
    if dtype == pl.Date:
        return "date"
    if isinstance(dtype, pl.Datetime):
        return "datetime"
    if dtype == pl.Boolean:
        return "boolean"
    if dtype.is_integer():
        return "integer"
    if dtype.is_numeric():
        return "float"
    return "text"


def dictionary(datasets: dict[str, pl.DataFrame], units: dict[str, dict[str, str]] | None = None
               ) -> pl.DataFrame:
    """One row per dataset column: dataset, name, label, type, unit."""
    rows = []
    units = units or {}
    for ds, df in datasets.items():
        for name, dtype in df.schema.items():
            label, unit = LABELS.get(name, (name.replace("_", " ").capitalize(), ""))
            if name.endswith("_GY"):
                label, unit = (f"Absorbed dose estimate: {name[:-3].lower().replace('_', ' ')}",
                               "Gy")
            unit = units.get(ds, {}).get(name, unit)
            rows.append({"dataset": ds, "name": name, "label": label, "type": _kind(dtype),
                         "unit": unit})
    return pl.DataFrame(rows, schema={"dataset": pl.String, "name": pl.String,
                                      "label": pl.String, "type": pl.String, "unit": pl.String})
