"""The model study's results sentences (../shared/study/abstract.txt, 'I-year' OCR fixed to
'1-year'), which radiotrial's results paragraph must reproduce on the example study."""

ABSTRACT_RESULTS = (
    "Partial response to treatment was achieved in three (16%) of 19 patients, and stable "
    "disease was achieved in 12 (63%). Four (21%) of 19 patients had continued disease "
    "progression. Clinical improvement was reported by 14 (61%) of the 23 patients, and a "
    "reduction in biologic marker levels was observed in nine (60%) of 15 patients. Reversible "
    "hematologic toxicity (National Cancer Institute common toxicity criteria grade > 2) "
    "occurred in three patients. The 1-year survival rate was 63% (median survival time, 15 "
    "months)."
)
