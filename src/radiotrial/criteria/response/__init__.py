"""Tumour response: WHO (Miller 1981) and RECIST 1.1 / 1.0 time-point and best overall response.

Public entry point :func:`derive_response`; lower-level, frame-in/frame-out pieces for tests and
large data: :func:`target_sums`, :func:`target_response_expr`, :func:`overall_response_expr`,
:func:`best_overall_response`.
"""

from radiotrial.criteria.response.bor import best_overall_response
from radiotrial.criteria.response.derive import ResponseResult, derive_response, treatment_start
from radiotrial.criteria.response.measures import lesion_value_expr, target_sums
from radiotrial.criteria.response.options import ResponseConfig
from radiotrial.criteria.response.timepoint import (
    RESPONSES,
    overall_response_expr,
    target_response_expr,
)

__all__ = [
    "RESPONSES",
    "ResponseConfig",
    "ResponseResult",
    "best_overall_response",
    "derive_response",
    "lesion_value_expr",
    "overall_response_expr",
    "target_response_expr",
    "target_sums",
    "treatment_start",
]
