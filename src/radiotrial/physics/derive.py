"""Study-level dosimetry: per administration and per subject (issue 6, item 7).

``derive_dosimetry(frames, config)`` takes the ``administration`` and ``scintigraphy`` record types
(docs/import-format.md; activities already in GBq, instants tz-aware UTC) and returns
:class:`DosimetryResult`. Everything is Polars expressions over all rows at once (no per-row
Python), so it runs on 10^6 administrations. Pure: no files, database or printing.

Per administration: activity at injection, residual decayed to injection, administered activity
(physics.decay), then the configured estimates (DosimetryConfig): liver peptide model and its
upper bound (dosimetry.liver), partition model with T/N and LSF from the latest scintigraphy on or
before the administration date (dosimetry.partition), lung, kidney/red-marrow coefficients; BED
per organ (dosimetry.bed). Per subject: cycles, cumulative activity, cumulative dose and BED per
organ, limits, headroom and exceedance (dosimetry.limits). A dose is null where an input is
missing; a cumulative value is null if any cycle's value is null (a limit cannot be verified on
incomplete data).

Row numbers in errors count the frame's rows as a file would (first data row = row 2).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import polars as pl

from radiotrial.errors import InputError, Problem, RadiotrialError
from radiotrial.physics.config import DosimetryConfig
from radiotrial.physics.dosimetry.bed import radiobiology
from radiotrial.physics.dosimetry.factors import dose_factor_k
from radiotrial.physics.dosimetry.limits import REL_TOL, evaluate_limits, limits_table
from radiotrial.physics.nuclides import get_nuclide, nuclide_names

LN2 = math.log(2)
ORGANS = ("normal_liver", "tumour", "lung", "kidney", "red_marrow")
_INSTANTS = ("admin_instant", "calibration_instant", "residual_instant")
_FILE = "administration"


@dataclass
class DosimetryResult:
    """Derived dosimetry tables (Polars) plus warnings and the options used."""

    administrations: pl.DataFrame
    cycles: pl.DataFrame
    limits: pl.DataFrame
    subjects: pl.DataFrame
    warnings: list[str] = field(default_factory=list)
    options: dict = field(default_factory=dict)


def nuclide_table(config: DosimetryConfig) -> pl.DataFrame:
    """nuclide, half_life_h, k_gy_kg_per_gbq (null where the data set lacks the energy)."""
    rows = []
    for name in nuclide_names():
        nuc = get_nuclide(name, config.dataset)
        try:
            k = dose_factor_k(name, dataset=config.dataset, energy=config.k_energy,
                              override=config.k_override)
        except RadiotrialError:
            k = None
        rows.append({"nuclide": name, "half_life_h": nuc.half_life_h, "k_gy_kg_per_gbq": k})
    return pl.DataFrame(rows, schema={"nuclide": pl.String, "half_life_h": pl.Float64,
                                      "k_gy_kg_per_gbq": pl.Float64})


def _hours(end: str, start: str) -> pl.Expr:
    return (pl.col(end) - pl.col(start)).dt.total_microseconds() / 3.6e9


def _problems(df: pl.DataFrame, mask: pl.Expr, fld: str, reason: str) -> list[Problem]:
    bad = df.filter(mask).head(50)
    return [Problem(_FILE, r["_row"], fld, r.get(fld), reason) for r in bad.iter_rows(named=True)]


def _check_inputs(adm: pl.DataFrame, nuclides: pl.DataFrame) -> None:
    for col in ("subject_id", "cycle", "admin_instant", "nuclide", "calibrated_activity", "calibration_instant"):
        if col not in adm.columns:
            raise InputError(Problem(_FILE, None, col, None, "required column is missing"))
    for col in _INSTANTS:
        if col in adm.columns:
            dtype = adm.schema[col]
            if not isinstance(dtype, pl.Datetime) or dtype.time_zone is None:
                raise InputError(Problem(_FILE, None, col, str(dtype),
                                         "instants must be timezone-aware date-times (naive or text given)"))
    problems = _problems(adm, ~pl.col("nuclide").is_in(nuclides["nuclide"].implode()), "nuclide",
                         f"unknown nuclide; known: {', '.join(nuclides['nuclide'])}")
    problems += _problems(adm, pl.col("calibrated_activity") < 0, "calibrated_activity", "activity must be >= 0")
    problems += _problems(adm, pl.col("residual_activity") < 0, "residual_activity", "activity must be >= 0")
    problems += _problems(adm, pl.col("residual_activity").is_not_null() & pl.col("residual_instant").is_null(),
                          "residual_instant", "required with residual_activity (decay needs its time)")
    problems += _problems(adm, pl.col("liver_mass_kg") <= 0, "liver_mass_kg", "mass must be > 0")
    problems += _problems(adm, pl.col("tumour_mass_kg") <= 0, "tumour_mass_kg", "mass must be > 0")
    if problems:
        raise InputError(problems, "administration records cannot be used for dosimetry")


def _with_defaults(adm: pl.DataFrame) -> pl.DataFrame:
    missing = {
        "residual_activity": pl.Float64, "residual_instant": pl.Datetime("us", "UTC"),
        "liver_mass_kg": pl.Float64, "tumour_mass_kg": pl.Float64, "embolisation": pl.Boolean,
        "radiopharmaceutical": pl.String, "route": pl.String,
    }
    return adm.with_columns([pl.lit(None, dtype=t).alias(c) for c, t in missing.items() if c not in adm.columns])


def _scintigraphy(frames: Mapping[str, pl.DataFrame], config: DosimetryConfig) -> pl.DataFrame | None:
    scan = frames.get("scintigraphy")
    if scan is None or scan.height == 0 or "scan_date" not in scan.columns:
        return None
    if config.scintigraphy_tracers is not None and "tracer" in scan.columns:
        scan = scan.filter(pl.col("tracer").is_in(config.scintigraphy_tracers))
    cols = {"tumour_counts": pl.Float64, "normal_liver_counts": pl.Float64, "lung_shunt_fraction": pl.Float64}
    scan = scan.with_columns([pl.lit(None, dtype=t).alias(c) for c, t in cols.items() if c not in scan.columns])
    return scan.select(
        "subject_id", pl.col("scan_date").alias("scintigraphy_date"),
        pl.col("tumour_counts").cast(pl.Float64), pl.col("normal_liver_counts").cast(pl.Float64),
        pl.col("lung_shunt_fraction").cast(pl.Float64).alias("_lsf"),
    ).sort("scintigraphy_date")


def _administrations(frames: Mapping[str, pl.DataFrame], config: DosimetryConfig,
                     nuclides: pl.DataFrame) -> pl.DataFrame:
    adm = _with_defaults(frames["administration"]).with_row_index("_row", offset=2)
    _check_inputs(adm, nuclides)
    adm = adm.join(nuclides, on="nuclide", how="left")
    a_inj = pl.col("calibrated_activity") * (-LN2 * _hours("admin_instant", "calibration_instant") / pl.col("half_life_h")).exp()
    r_inj = (pl.col("residual_activity") * (-LN2 * _hours("admin_instant", "residual_instant") / pl.col("half_life_h")).exp()).fill_null(0.0)
    adm = adm.with_columns(
        calibrated_activity_gbq=pl.col("calibrated_activity").cast(pl.Float64),
        activity_at_injection_gbq=a_inj,
        residual_activity_gbq=r_inj,
    ).with_columns(administered_activity_gbq=pl.col("activity_at_injection_gbq") - pl.col("residual_activity_gbq"))
    bad = _problems(adm, pl.col("administered_activity_gbq") < 0, "residual_activity",
                    "residual decayed to the injection instant exceeds the dispensed activity")
    if bad:
        raise InputError(bad, "residual activity above the dispensed activity")
    # Masses and the normal liver.
    mn = (pl.col("liver_mass_kg") - pl.col("tumour_mass_kg")) if config.liver_mass_includes_tumour else pl.col("liver_mass_kg")
    adm = adm.with_columns(normal_liver_mass_kg=mn)
    bad = _problems(adm, pl.col("normal_liver_mass_kg") <= 0, "tumour_mass_kg",
                    "tumour mass not below the liver mass (liver_mass_kg includes the tumour; see "
                    "dosimetry.liver_mass_includes_tumour)")
    if bad:
        raise InputError(bad, "tumour and liver masses are inconsistent")
    # Latest scintigraphy on or before the administration date.
    adm = adm.with_columns(_admin_date=pl.col("admin_instant").dt.date())
    scan = _scintigraphy(frames, config)
    if scan is not None:
        adm = adm.sort("_admin_date").join_asof(
            scan, left_on="_admin_date", right_on="scintigraphy_date", by="subject_id", strategy="backward",
            check_sortedness=False,  # both sides are sorted on the date key just above
        ).sort("_row")
    else:
        adm = adm.with_columns(
            scintigraphy_date=pl.lit(None, dtype=pl.Date), tumour_counts=pl.lit(None, dtype=pl.Float64),
            normal_liver_counts=pl.lit(None, dtype=pl.Float64), _lsf=pl.lit(None, dtype=pl.Float64),
        )
    tc, nc = pl.col("tumour_counts"), pl.col("normal_liver_counts")
    tn = (tc / nc) if config.scintigraphy_counts == "concentration" else (
        (tc / pl.col("tumour_mass_kg")) / (nc / pl.col("normal_liver_mass_kg")))
    adm = adm.with_columns(
        tn_ratio=pl.when((tc > 0) & (nc > 0)).then(tn),
        lung_shunt_fraction=pl.col("_lsf").fill_null(config.lsf_when_missing),
    )
    # Retention: f * T_eff / T_p (liver peptide model, spec 2.2).
    t_eff = pl.lit(config.liver_effective_half_life_h, dtype=pl.Float64).fill_null(pl.col("half_life_h"))
    if config.liver_effective_half_life_h is not None:
        bad = _problems(adm, pl.lit(config.liver_effective_half_life_h) > pl.col("half_life_h") * (1 + 1e-12),
                        "nuclide", f"dosimetry.liver_effective_half_life_h {config.liver_effective_half_life_h} h "
                        "is longer than this nuclide's physical half-life")
        if bad:
            raise InputError(bad, "effective half-life longer than the physical half-life")
    adm = adm.with_columns(liver_effective_half_life_h=t_eff).with_columns(
        retention_factor=config.retained_fraction * pl.col("liver_effective_half_life_h") / pl.col("half_life_h"))
    k, a, ml = pl.col("k_gy_kg_per_gbq"), pl.col("administered_activity_gbq"), pl.col("liver_mass_kg")
    ret = pl.col("retention_factor") if config.partition_retention == "peptide" else pl.lit(1.0)
    lsf = pl.col("lung_shunt_fraction")
    est = []
    if "liver_peptide" in config.estimates:
        est.append((k * pl.col("retention_factor") * a / ml).alias("liver_dose_gy"))
    if "liver_upper_bound" in config.estimates:
        est.append((k * a / ml).alias("liver_dose_upper_gy"))
    if "partition" in config.estimates:
        d_n = k * a * (1 - lsf) * ret / (pl.col("tn_ratio") * pl.col("tumour_mass_kg") + pl.col("normal_liver_mass_kg"))
        est += [d_n.alias("normal_liver_dose_gy"), (pl.col("tn_ratio") * d_n).alias("tumour_dose_gy")]
    if "lung" in config.estimates:
        est.append((k * a * lsf * ret / config.lung_mass_kg).alias("lung_dose_gy"))
    for organ, coef in config.dose_per_gbq.items():
        est.append((pl.lit(coef) * a).alias(f"{organ}_dose_gy"))
    adm = adm.with_columns(est)
    keep = ["subject_id", "cycle", "admin_instant", "radiopharmaceutical", "nuclide", "route", "embolisation",
            "calibrated_activity_gbq", "activity_at_injection_gbq", "residual_activity_gbq",
            "administered_activity_gbq", "liver_mass_kg", "tumour_mass_kg", "normal_liver_mass_kg",
            "scintigraphy_date", "tn_ratio", "lung_shunt_fraction", "half_life_h", "k_gy_kg_per_gbq",
            "liver_effective_half_life_h", "retention_factor"]
    return adm.select(keep + [e.meta.output_name() for e in est])


def _organ_dose_expr(adm: pl.DataFrame, organ: str) -> pl.Expr | None:
    cols = set(adm.columns)
    if organ == "normal_liver":
        # Partition normal-liver dose; the whole-liver mean is a conservative fallback (T/N >= 1).
        have = [c for c in ("normal_liver_dose_gy", "liver_dose_gy", "liver_dose_upper_gy") if c in cols]
        return pl.coalesce(have) if have else None
    name = f"{organ}_dose_gy"
    return pl.col(name) if name in cols else None


def _cycles(adm: pl.DataFrame, config: DosimetryConfig) -> pl.DataFrame:
    """Long table: one row per administration and organ with dose, G factor and BED."""
    parts = []
    for organ in ORGANS:
        dose = _organ_dose_expr(adm, organ)
        if dose is None:
            continue
        if organ in config.effective_half_life_h:
            t_eff = pl.lit(config.effective_half_life_h[organ])
        elif organ in ("normal_liver", "tumour"):
            t_eff = pl.col("liver_effective_half_life_h")
        else:
            t_eff = pl.lit(None, dtype=pl.Float64)
        rb = config.radiobiology.get(organ)
        try:
            ab, t_rep = (rb.alpha_beta_gy, rb.t_rep_h) if rb else (radiobiology(organ).alpha_beta_gy, radiobiology(organ).t_rep_h)
        except RadiotrialError:
            ab, t_rep = None, None
        g = pl.lit(t_rep, dtype=pl.Float64) / (pl.lit(t_rep, dtype=pl.Float64) + t_eff)
        parts.append(adm.select(
            "subject_id", "cycle", "admin_instant", "administered_activity_gbq",
            pl.lit(organ).alias("organ"), dose.cast(pl.Float64).alias("dose_gy"),
            pl.lit(ab, dtype=pl.Float64).alias("alpha_beta_gy"), g.cast(pl.Float64).alias("g_factor"),
        ))
    schema = {"subject_id": pl.String, "cycle": pl.Int64, "admin_instant": pl.Datetime("us", "UTC"),
              "administered_activity_gbq": pl.Float64, "organ": pl.String, "dose_gy": pl.Float64,
              "alpha_beta_gy": pl.Float64, "g_factor": pl.Float64}
    if not parts:
        return pl.DataFrame(schema=schema | {"bed_gy": pl.Float64})
    long = pl.concat(parts, how="vertical_relaxed")
    d = pl.col("dose_gy")
    return long.with_columns(bed_gy=d + pl.col("g_factor") * d * d / pl.col("alpha_beta_gy"))


def _strict(expr: pl.Expr, how: str) -> pl.Expr:
    """Sum or max that is null when any value is null (incomplete data cannot pass a limit)."""
    return pl.when(expr.null_count() == 0).then(getattr(expr, how)())


def _subjects_wide(adm: pl.DataFrame, cycles: pl.DataFrame) -> pl.DataFrame:
    """One group-by: cycles, activity, and per organ cumulative dose, BED and largest cycle dose."""
    organs = cycles["organ"].unique(maintain_order=True).to_list() if cycles.height else []
    base = adm.group_by("subject_id").agg(
        n_cycles=pl.len(), first_admin_instant=pl.col("admin_instant").min(),
        cumulative_activity_gbq=pl.col("administered_activity_gbq").sum(),
    )
    if not organs:
        return base
    aggs = []
    for o in organs:
        sel = pl.col("organ") == o
        aggs += [_strict(pl.col("dose_gy").filter(sel), "sum").alias(f"{o}_dose_gy"),
                 _strict(pl.col("bed_gy").filter(sel), "sum").alias(f"{o}_bed_gy"),
                 _strict(pl.col("dose_gy").filter(sel), "max").alias(f"{o}_max_cycle_dose_gy")]
    return base.join(cycles.group_by("subject_id").agg(aggs), on="subject_id", how="left")


_VALUE = {("absorbed", "cumulative"): "dose_gy", ("bed", "cumulative"): "bed_gy",
          ("absorbed", "per_treatment"): "max_cycle_dose_gy"}


def _limits_long(wide: pl.DataFrame, table: pl.DataFrame) -> pl.DataFrame:
    """One row per subject and applicable limit, built column-wise (a handful of limits)."""
    parts = []
    for lim in table.iter_rows(named=True):
        col = f"{lim['organ']}_{_VALUE[(lim['quantity'], lim['scope'])]}"
        if col not in wide.columns or (lim["quantity"], lim["scope"]) not in _VALUE:
            continue
        parts.append(wide.select(
            "subject_id", pl.lit(lim["organ"]).alias("organ"), pl.lit(lim["quantity"]).alias("quantity"),
            pl.lit(lim["scope"]).alias("scope"), pl.col(col).cast(pl.Float64).alias("value_gy")))
    if not parts:
        return pl.DataFrame(schema={"subject_id": pl.String, "organ": pl.String, "quantity": pl.String,
                                    "scope": pl.String, "value_gy": pl.Float64})
    return pl.concat(parts)


def _subjects(wide: pl.DataFrame, limits: pl.DataFrame, table: pl.DataFrame) -> pl.DataFrame:
    """Add limit, headroom and exceeded columns per applicable limit to the wide subject table."""
    cols = []
    flags = []
    for lim in table.iter_rows(named=True):
        col = f"{lim['organ']}_{_VALUE[(lim['quantity'], lim['scope'])]}"
        if col not in wide.columns:
            continue
        key = f"{lim['organ']}_{lim['quantity']}_{lim['scope']}"
        value, limit = pl.col(col), pl.lit(lim["limit_gy"])
        on = (value - limit).abs() <= REL_TOL * abs(lim["limit_gy"])
        exceeded = pl.when(value.is_null()).then(None).when(on).then(pl.lit(lim["comparison"] == "<")).otherwise(value > limit)
        cols += [limit.alias(f"{key}_limit_gy"), (limit - value).alias(f"{key}_headroom_gy"),
                 exceeded.alias(f"{key}_exceeded")]
        flags.append(f"{key}_exceeded")
    wide = wide.with_columns(cols)
    anyx = pl.any_horizontal([pl.col(f) for f in flags]) if flags else pl.lit(False)
    return wide.with_columns(any_limit_exceeded=anyx).sort("subject_id")


def derive_dosimetry(frames: Mapping[str, pl.DataFrame], config: DosimetryConfig | None = None) -> DosimetryResult:
    """Per-administration and per-subject dosimetry of a study (module docstring)."""
    config = config or DosimetryConfig()
    nuclides = nuclide_table(config)
    adm_in = frames.get("administration")
    if adm_in is None or adm_in.height == 0:
        empty = pl.DataFrame(schema={"subject_id": pl.String})
        return DosimetryResult(empty, empty, empty, empty, [], config.model_dump())
    adm = _administrations(frames, config, nuclides)
    warnings = [f"nuclide {n}: data set {config.dataset} holds no mean {config.k_energy} energy, "
                "so its doses are null (set dosimetry.k_override)"
                for n in adm.filter(pl.col("k_gy_kg_per_gbq").is_null())["nuclide"].unique().sort()]
    cycles = _cycles(adm, config)
    table = limits_table(config)
    wide = _subjects_wide(adm, cycles)
    limits = evaluate_limits(_limits_long(wide, table), table)
    over = limits.filter(pl.col("exceeded").fill_null(False)).head(1000)
    warnings += [f"subject {s}: {w}" for s, w in over.select("subject_id", "warning").iter_rows()]
    return DosimetryResult(adm, cycles, limits, _subjects(wide, limits, table), warnings, config.model_dump())
