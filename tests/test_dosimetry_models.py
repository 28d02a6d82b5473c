"""Dose factor, MIRD, liver peptide, partition, microspheres, organs and BED (issue 6 items 3-4)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from radiotrial.errors import RadiotrialError
from radiotrial.physics.dosimetry import bed as bedm
from radiotrial.physics.dosimetry import mird, organs
from radiotrial.physics.dosimetry.factors import dose_factor_k, tia_dose_factor
from radiotrial.physics.dosimetry.liver import liver_peptide_dose
from radiotrial.physics.dosimetry.microspheres import (
    bsa_activity,
    bsa_dubois,
    glass_activity,
    glass_dose,
    resin_lsf_reduction,
)
from radiotrial.physics.dosimetry.partition import (
    lung_shunt_fraction,
    partition_activity,
    partition_doses,
    tumour_to_normal_ratio,
)

# ------------------------------------------------------------------ K


def test_k_reproduced_from_data_sets_within_0_1_percent():
    # Spec 1.3: ICRP-107 (0.9329 MeV, 64.10 h) -> 49.76; ENSDF (0.93229 MeV, 64.05 h) -> 49.69.
    assert dose_factor_k("Y-90") == pytest.approx(49.76, rel=1e-3)
    assert dose_factor_k("Y-90", dataset="ENSDF") == pytest.approx(49.69, rel=1e-3)
    # Independent hand computation: E * 1e9 * T[s] / ln2 * J/MeV.
    hand = 0.9329 * 1.602176634e-13 * 1e9 * 64.10 * 3600 / math.log(2)
    assert dose_factor_k("Y-90") == pytest.approx(hand, rel=1e-12)


def test_k_overrides_honoured_and_validated():
    assert dose_factor_k("Y-90", override=49.67) == 49.67
    assert dose_factor_k("Y-90", override=50) == 50.0
    with pytest.raises(RadiotrialError, match="k_override"):
        dose_factor_k("Y-90", override=0)


def test_per_tia_factors_match_spec():
    assert tia_dose_factor("Y-90") == pytest.approx(0.538, abs=5e-4)
    assert tia_dose_factor("Lu-177") == pytest.approx(0.0853, abs=5e-5)
    assert tia_dose_factor("In-111") == pytest.approx(0.0201, abs=5e-5)
    with pytest.raises(RadiotrialError, match="holds no electron_np_mev"):
        tia_dose_factor("Lu-177", dataset="ENSDF")


# ------------------------------------------------------------------ liver peptide


def test_liver_peptide_spec_example():
    k = dose_factor_k("Y-90")
    # Spec 2.2: 1 GBq fully retained in 1.5 kg -> at most 33 Gy; T_eff = 40 h -> 21 Gy.
    assert float(liver_peptide_dose(1.0, 1.5, k, effective_half_life_h=64.1, physical_half_life_h=64.1)) == pytest.approx(33.2, abs=0.05)
    assert float(liver_peptide_dose(1.0, 1.5, k, effective_half_life_h=40, physical_half_life_h=64.1)) == pytest.approx(20.7, abs=0.05)
    assert float(liver_peptide_dose(1.0, 1.5, k, retained_fraction=0.5, effective_half_life_h=40,
                                    physical_half_life_h=64.1)) == pytest.approx(10.35, abs=0.03)
    with pytest.raises(RadiotrialError, match="effective_half_life_h"):
        liver_peptide_dose(1.0, 1.5, k, effective_half_life_h=70, physical_half_life_h=64.1)
    with pytest.raises(RadiotrialError, match="liver_mass_kg"):
        liver_peptide_dose(1.0, 0, k, effective_half_life_h=40, physical_half_life_h=64.1)


# ------------------------------------------------------------------ partition model


def test_partition_hand_example():
    # A = 2 GBq, K = 49.67, T/N = 4, M_T = 0.2 kg, M_N = 1.5 kg, LSF = 0.1, R = 0.05:
    # A_L = 2 * 0.9 * 0.95 = 1.71 GBq; D_N = 49.67 * 1.71 / (4 * 0.2 + 1.5) = 84.9357 / 2.3 = 36.92857
    # D_T = 4 * D_N = 147.7143; D_lung = 49.67 * 2 * 0.1 * 0.95 / 1 = 9.4373.
    d = partition_doses(2.0, 4.0, 0.2, 1.5, 49.67, lung_shunt_fraction=0.1, residual_fraction=0.05)
    assert float(d.liver_activity_gbq) == pytest.approx(1.71)
    assert float(d.normal_liver_gy) == pytest.approx(36.92857, abs=1e-4)
    assert float(d.tumour_gy) == pytest.approx(147.71426, abs=1e-4)
    assert float(d.lung_gy) == pytest.approx(9.4373, abs=1e-4)
    # Spec's prescription formula, R = 0: A = D_N (T/N M_T + M_N) / (K (1 - LSF)) = 40 * 2.3 / (49.67 * 0.9)
    assert float(partition_activity(4.0, 0.2, 1.5, 49.67, normal_liver_dose_gy=40, lung_shunt_fraction=0.1)) == \
        pytest.approx(92 / 44.703, rel=1e-9)


@settings(max_examples=60, deadline=None)
@given(
    dose=st.floats(1, 200), tn=st.floats(0.2, 20), mt=st.floats(0.01, 2), mn=st.floats(0.3, 3),
    lsf=st.floats(0, 0.5), res=st.floats(0, 0.3), tumour=st.booleans(),
)
def test_partition_round_trip(dose, tn, mt, mn, lsf, res, tumour):
    kw = {"tumour_dose_gy": dose} if tumour else {"normal_liver_dose_gy": dose}
    a = partition_activity(tn, mt, mn, 49.76, lung_shunt_fraction=lsf, residual_fraction=res, **kw)
    d = partition_doses(a, tn, mt, mn, 49.76, lung_shunt_fraction=lsf, residual_fraction=res)
    got = d.tumour_gy if tumour else d.normal_liver_gy
    assert float(got) == pytest.approx(dose, rel=1e-9)


def test_partition_inputs_validated():
    with pytest.raises(RadiotrialError, match="exactly one"):
        partition_activity(3, 0.2, 1.5, 49.76)
    with pytest.raises(RadiotrialError, match="lung_shunt_fraction"):
        partition_doses(1, 3, 0.2, 1.5, 49.76, lung_shunt_fraction=1.0)
    with pytest.raises(RadiotrialError, match="tumour_mass_kg"):
        partition_doses(1, 3, 0.0, 1.5, 49.76)


def test_tn_ratio_and_lsf_from_counts():
    # 6000 counts in 0.3 kg tumour, 5000 in 1.5 kg normal liver: (20000) / (3333.3) = 6.
    assert float(tumour_to_normal_ratio(6000, 5000, 0.3, 1.5)) == pytest.approx(6.0)
    assert float(tumour_to_normal_ratio(6.0, 2.0, counts="concentration")) == pytest.approx(3.0)
    # Geometric means: lung sqrt(100*400) = 200, liver sqrt(1800*1800) = 1800 -> 0.1.
    assert float(lung_shunt_fraction(100, 400, 1800, 1800)) == pytest.approx(0.1)


# ------------------------------------------------------------------ microspheres


def test_bsa_method_worked_example():
    # DuBois: 0.20247 * 1.75^0.725 * 70^0.425 = 1.848119 m^2.
    bsa = float(bsa_dubois(1.75, 70))
    assert bsa == pytest.approx(1.848119, abs=1e-6)
    # A = (1.848119 - 0.2) + 300/(300 + 1500) = 1.814786 GBq; LSF 12 % -> x 0.8 = 1.451829.
    assert float(bsa_activity(bsa, 300, 1500)) == pytest.approx(1.814786, abs=1e-6)
    assert float(bsa_activity(bsa, 300, 1500, lung_shunt_fraction=0.12)) == pytest.approx(1.451829, abs=1e-6)
    assert float(bsa_activity(bsa, 300, 1500, lobe_fraction=0.6)) == pytest.approx(0.6 * 1.814786, abs=1e-6)
    with pytest.raises(RadiotrialError, match="centimetres"):
        bsa_dubois(175, 70)


def test_resin_lsf_band_boundaries():
    got = resin_lsf_reduction([0.0999, 0.10, 0.1499, 0.15, 0.20, 0.2001])
    assert got[:5].tolist() == [0.0, 0.2, 0.2, 0.4, 0.4]
    assert np.isnan(got[5])  # > 20 %: do not treat


def test_glass_single_compartment_round_trip():
    a = float(glass_activity(120, 1.2, lung_shunt_fraction=0.05, residual_fraction=0.02))
    assert a == pytest.approx(120 * 1.2 / (50 * 0.95 * 0.98))
    assert float(glass_dose(a, 1.2, lung_shunt_fraction=0.05, residual_fraction=0.02)) == pytest.approx(120)


# ------------------------------------------------------------------ MIRD, kidney, marrow


def test_mono_exponential_fit_vectorised_and_tia():
    t = np.array([4.0, 24.0, 48.0, 96.0])
    lam = np.log(2) / np.array([[30.0], [50.0]])
    a = np.array([[2.0], [1.0]]) * np.exp(-lam * t)
    a0, lam_fit = mird.fit_mono_exponential(t, a)
    assert a0 == pytest.approx([2.0, 1.0]) and lam_fit == pytest.approx(lam.ravel())
    assert mird.tia_mono_exponential(t, a) == pytest.approx([2 * 30 / np.log(2), 50 / np.log(2)])
    # Rising data cannot clear: bounded by physical decay when given, else an error.
    rising = np.array([1.0, 1.1, 1.2, 1.3])
    assert float(mird.tia_mono_exponential(t, rising, physical_half_life_h=64.1)) > 0
    with pytest.raises(RadiotrialError, match="does not clear"):
        mird.tia_mono_exponential(t, rising)


def test_trapezoid_and_single_time_point_methods():
    teff = 40.0
    lam = np.log(2) / teff
    exact = 1.0 / lam
    t = np.linspace(0.5, 200, 400)
    a = np.exp(-lam * t)
    assert float(mird.tia_trapezoid(t, a, teff, start="first")) == pytest.approx(exact, rel=1e-4)
    # 'zero' loses half of the first interval's area, 'none' all of it.
    first = float(mird.tia_trapezoid(t, a, teff, start="first"))
    assert float(mird.tia_trapezoid(t, a, teff, start="zero")) == pytest.approx(first - a[0] * 0.5 / 2)
    assert float(mird.tia_trapezoid(t, a, teff, start="none")) == pytest.approx(first - a[0] * 0.5)
    head_first = float(mird.tia_trapezoid([2.0, 4.0], [1.0, 1.0], 10.0, start="first"))
    assert head_first == pytest.approx(2.0 + 2.0 + 10 / np.log(2))
    # Haenscheid exact at t = T_eff (not T_eff/ln 2 as the spec says: there it overestimates
    # by 2/(e ln 2)); Madsen exact for the true T_eff at any t.
    assert float(mird.tia_haenscheid(np.exp(-lam * teff), teff)) == pytest.approx(exact)
    t1 = teff / np.log(2)
    assert float(mird.tia_haenscheid(np.exp(-lam * t1), t1)) == pytest.approx(exact * 2 / (np.e * np.log(2)))
    assert float(mird.tia_madsen(np.exp(-lam * 24), 24, teff)) == pytest.approx(exact)


def test_fit_tac_chooses_by_aic():
    t = np.array([1.0, 4, 24, 48, 72, 120, 168])
    mono = 3.0 * np.exp(-np.log(2) / 40 * t)
    assert mird.fit_tac(t, mono).model == "mono"
    bi = 2.0 * np.exp(-np.log(2) / 2 * t) + 1.0 * np.exp(-np.log(2) / 60 * t)
    fit = mird.fit_tac(t, bi)
    assert fit.model == "bi"
    assert fit.tia == pytest.approx(2 * 2 / np.log(2) + 60 / np.log(2), rel=1e-3)


def test_mass_scaling_reference_masses_and_dose():
    assert float(mird.scale_s_value(1.0, 0.31, 0.62)) == pytest.approx(0.5)
    assert mird.reference_mass_kg("kidney", "M") == 0.310 and mird.reference_mass_kg("liver", "F") == 1.400
    assert float(mird.mass_from_volume(1000)) == pytest.approx(1.05)
    # Kidney: TIA 10 GBq.h in 0.3 kg with Y-90 self-dose 0.5382/0.3 Gy/(GBq.h).
    assert float(organs.kidney_dose(10, 0.3)) == pytest.approx(10 * tia_dose_factor("Y-90") / 0.3)
    assert float(mird.mird_dose([1, 2], [3, 4], axis=0)) == 11


def test_red_marrow_blood_method():
    assert float(organs.rmblr("peptide")) == 1.0
    assert float(organs.rmblr("antibody", hematocrit=0.4)) == pytest.approx(0.19 / 0.6)
    with pytest.raises(RadiotrialError, match="hematocrit"):
        organs.rmblr("antibody")
    m = float(organs.scale_marrow_mass(1.17, 80, 73))
    assert m == pytest.approx(1.17 * 80 / 73)
    tia = float(organs.red_marrow_tia_blood(0.5, m))
    assert float(organs.red_marrow_dose(tia, m)) == pytest.approx(0.5 * tia_dose_factor("Y-90"))
    assert float(organs.red_marrow_dose(tia, m, s_rm_rm=0.1, tia_rb_gbq_h=2, s_rm_rb=0.01)) == \
        pytest.approx(tia * 0.1 + 0.02)


# ------------------------------------------------------------------ BED


def test_bed_equals_dose_without_quadratic_term():
    assert float(bedm.bed(12.0, np.inf, t_rep_h=2.8, t_eff_h=40)) == 12.0
    assert float(bedm.bed(12.0, 2.6, g=0.0)) == 12.0


def test_two_cycle_kidney_bed_hand_example():
    p = bedm.radiobiology("kidney")
    assert (p.alpha_beta_gy, p.t_rep_h) == (2.6, 2.8)
    # G = 2.8 / (2.8 + 40) = 0.0654206; BED = 10 + 100 G/2.6 + 8 + 64 G/2.6 = 12.516175 + 9.610352.
    assert float(bedm.cumulative_bed([10.0, 8.0], 2.6, t_rep_h=2.8, t_eff_h=40)) == pytest.approx(22.126527, abs=1e-5)
    assert float(bedm.eqd2(22.126527, 2.6)) == pytest.approx(22.126527 / (1 + 2 / 2.6))


def test_max_dose_for_bed_inverts_bed():
    g = float(bedm.g_factor(2.8, 40))
    d = float(bedm.max_dose_for_bed(25.0, 2.6, g))
    assert float(bedm.bed(d, 2.6, g=g)) == pytest.approx(25.0)
