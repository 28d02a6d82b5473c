"""The protocol worklist of the example study (examples/lanreotide-2005), derived by hand.

``radiotrial schedule --db DB --as-of DATE --json`` (engine ``radiotrial.protocol.build_schedule``)
is checked on the imported example at two dates against rows worked out BY HAND from the raw CSV
dates (administration.csv ``admin_instant`` = local morning, same UTC date; tumour_assessment.csv,
clinical.csv, lab.csv, marker.csv, follow_up.csv). The protocol is study.yaml + the defaults of
``ProtocolConfig``: cycles every 56 ± 7 days after the previous cycle, at most 4; the assessment
of cycle k is a tumour assessment 56..84 days after it (tumour imaging only counts); a next cycle
more than 56 days past its window means "cycles stopped" unless disposition.csv records the
end of treatment (then "off: <reason>" from its date; an end of study closes everything); after treatment ends a follow-up visit
is due 90 ± 14 days after the last contact (any dated record, last_known_alive_date included).
Status: planned before the window, due inside it, overdue after it (days counted from the
window's last day). Only records dated on or before the as-of date exist for the worklist.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from radiotrial.cli.main import app
from radiotrial.study.importer import import_study

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "lanreotide-2005"


@pytest.fixture(scope="module")
def example_db(tmp_path_factory) -> str:
    """The example study imported into a fresh SQLite database."""
    db = tmp_path_factory.mktemp("example-protocol") / "study.db"
    import_study(EXAMPLE, str(db), user="test")
    return str(db)


def run_json(*args: str) -> dict:
    r = CliRunner(env={"COLUMNS": "250"}).invoke(app, list(args))
    assert r.exit_code == 0, r.output
    return json.loads(r.output)


def schedule(db: str, as_of: str | None = None) -> dict:
    return run_json("schedule", "--db", db, "--json", *(["--as-of", as_of] if as_of else []))


def worklist_rows(data: dict) -> list[tuple]:
    return sorted((w["subject_id"], w["event"], w["planned"], w["window_start"], w["window_end"],
                   w["status"], w["days_overdue"]) for w in data["worklist"])


# Subjects not on a worklist below: those dead by then (001 2002-04-16, 003 2001-11-19,
# 004 2002-07-18, 005 2001-09-13, 009 2002-06-17) and those not yet treated.

# As of 2002-10-01 (mid-accrual; 14 subjects treated, LAN-01-014 the latest on 2002-09-23).
WORKLIST_2002_10_01 = [
    # 002: off after 2 cycles (cycle 3 planned 2001-07-20 never came); last contact = follow-up
    # visit 2002-08-01 -> follow-up 2002-10-30 (+-14) -> planned
    ("LAN-01-002", "follow-up", "2002-10-30", "2002-10-16", "2002-11-13", "planned", None),
    # 006: off after 2 cycles; last contact visit 2002-07-29 -> 2002-10-27 (+-14) -> planned
    ("LAN-01-006", "follow-up", "2002-10-27", "2002-10-13", "2002-11-10", "planned", None),
    # 007: off after 3 cycles; last contact visit 2002-08-14 -> 2002-11-12 (+-14) -> planned
    ("LAN-01-007", "follow-up", "2002-11-12", "2002-10-29", "2002-11-26", "planned", None),
    # 008: off (new therapy 2002-06-17); last contact visit 2002-08-19 -> 2002-11-17 -> planned
    ("LAN-01-008", "follow-up", "2002-11-17", "2002-11-03", "2002-12-01", "planned", None),
    # 010: cycle 3 on 2002-08-01 -> assessment window 2002-09-26..2002-10-24 -> due
    ("LAN-01-010", "assessment after cycle 3", "2002-09-26", "2002-09-26", "2002-10-24", "due",
     None),
    # 010: cycle 3 on 2002-08-01 -> cycle 4 planned 2002-09-26 (+-7: 09-19..10-03) -> due
    ("LAN-01-010", "cycle 4", "2002-09-26", "2002-09-19", "2002-10-03", "due", None),
    # 011 withdrew consent: disposition.csv records end of treatment AND end of study on
    # 2002-06-26 ("withdrawal by subject"), so nothing is open for 011 any more. (Before the
    # disposition record type: "assessment after cycle 1" overdue 49 days and a follow-up planned
    # 2002-11-11, derived from the stale-cycle heuristic.)
    # 012: cycle 2 on 2002-08-29 -> assessment window from 2002-10-24 -> planned
    ("LAN-01-012", "assessment after cycle 2", "2002-10-24", "2002-10-24", "2002-11-21",
     "planned", None),
    # 012: cycle 2 on 2002-08-29 -> cycle 3 planned 2002-10-24 (10-17..10-31) -> planned
    ("LAN-01-012", "cycle 3", "2002-10-24", "2002-10-17", "2002-10-31", "planned", None),
    # 013: cycle 1 on 2002-08-12 -> assessment window from 2002-10-07 -> planned
    ("LAN-01-013", "assessment after cycle 1", "2002-10-07", "2002-10-07", "2002-11-04",
     "planned", None),
    # 013: cycle 1 on 2002-08-12 -> cycle 2 planned 2002-10-07 (09-30..10-14) -> due
    ("LAN-01-013", "cycle 2", "2002-10-07", "2002-09-30", "2002-10-14", "due", None),
    # 014: cycle 1 on 2002-09-23 -> assessment window from 2002-11-18 -> planned
    ("LAN-01-014", "assessment after cycle 1", "2002-11-18", "2002-11-18", "2002-12-16",
     "planned", None),
    # 014: cycle 1 on 2002-09-23 -> cycle 2 planned 2002-11-18 (11-11..11-25) -> planned
    ("LAN-01-014", "cycle 2", "2002-11-18", "2002-11-11", "2002-11-25", "planned", None),
]

# As of 2003-03-01 (17 subjects treated, LAN-01-017 the latest on 2003-02-24).
WORKLIST_2003_03_01 = [
    # 002: last contact = follow-up visit 2003-01-30 -> 2003-04-30 (+-14) -> planned
    ("LAN-01-002", "follow-up", "2003-04-30", "2003-04-16", "2003-05-14", "planned", None),
    # 006: visit 2003-01-14 -> 2003-04-14 -> planned
    ("LAN-01-006", "follow-up", "2003-04-14", "2003-03-31", "2003-04-28", "planned", None),
    # 007: visit 2003-01-29 -> 2003-04-29 -> planned
    ("LAN-01-007", "follow-up", "2003-04-29", "2003-04-15", "2003-05-13", "planned", None),
    # 008: visit 2003-02-14 -> 2003-05-15 -> planned (alive until 2003-04-16)
    ("LAN-01-008", "follow-up", "2003-05-15", "2003-05-01", "2003-05-29", "planned", None),
    # 010: 3 cycles, cycle 4 (planned 2002-09-26) never came -> cycles stopped; visit 2003-01-06
    # -> 2003-04-06 (03-23..04-20) -> planned
    ("LAN-01-010", "follow-up", "2003-04-06", "2003-03-23", "2003-04-20", "planned", None),
    # 011: end of study 2002-06-26 (withdrawal by subject, disposition.csv) -> nothing open.
    # (Before the disposition record type a follow-up planned 2002-11-11 stayed overdue forever,
    # 96 days on this date.)
    # 012: cycles stopped; last contact = the (late) scan 2002-12-03 (next visit 2003-03-06 not
    # yet recorded) -> 2003-03-03 (02-17..03-17) -> due
    ("LAN-01-012", "follow-up", "2003-03-03", "2003-02-17", "2003-03-17", "due", None),
    # 013: cycle 2 on 2002-10-11, cycle 3 (planned 2002-12-06) not given by 2003-01-31 -> cycles
    # stopped; last contact scan/visit 2002-12-16 -> 2003-03-16 (03-02..03-30) -> planned
    ("LAN-01-013", "follow-up", "2003-03-16", "2003-03-02", "2003-03-30", "planned", None),
    # 014: cycle 2 (planned 2002-11-18) never came -> cycles stopped; its missing scan
    # (window closed 2002-12-16) left the worklist 56 days later; last contact = follow-up visit
    # 2003-02-08 -> 2003-05-09 (04-25..05-23) -> planned (death 2003-03-12 not yet recorded)
    ("LAN-01-014", "follow-up", "2003-05-09", "2003-04-25", "2003-05-23", "planned", None),
    # 015: cycle 2 on 2002-12-31 -> assessment window 2003-02-25..2003-03-25 -> due
    ("LAN-01-015", "assessment after cycle 2", "2003-02-25", "2003-02-25", "2003-03-25", "due",
     None),
    # 015: cycle 2 on 2002-12-31 -> cycle 3 planned 2003-02-25 (02-18..03-04) -> due
    ("LAN-01-015", "cycle 3", "2003-02-25", "2003-02-18", "2003-03-04", "due", None),
    # 016: cycle 1 on 2003-01-13 -> assessment window from 2003-03-10 -> planned
    ("LAN-01-016", "assessment after cycle 1", "2003-03-10", "2003-03-10", "2003-04-07",
     "planned", None),
    # 016: cycle 1 on 2003-01-13 -> cycle 2 planned 2003-03-10 (03-03..03-17) -> planned
    ("LAN-01-016", "cycle 2", "2003-03-10", "2003-03-03", "2003-03-17", "planned", None),
    # 017: cycle 1 on 2003-02-24 -> assessment window from 2003-04-21 -> planned
    ("LAN-01-017", "assessment after cycle 1", "2003-04-21", "2003-04-21", "2003-05-19",
     "planned", None),
    # 017: cycle 1 on 2003-02-24 -> cycle 2 planned 2003-04-21 (04-14..04-28) -> planned
    ("LAN-01-017", "cycle 2", "2003-04-21", "2003-04-14", "2003-04-28", "planned", None),
]


@pytest.mark.parametrize(("as_of", "expected"), [
    ("2002-10-01", WORKLIST_2002_10_01),
    ("2003-03-01", WORKLIST_2003_03_01),
])
def test_worklist_matches_the_hand_derivation(example_db, as_of, expected):
    data = schedule(example_db, as_of)
    assert data["as_of"] == as_of
    assert worklist_rows(data) == sorted(expected)


def test_follow_up_visits_keep_the_worklist_current(example_db):
    """With the recorded follow-up visits, the only overdue follow-up in 2003 is the subject who
    withdrew consent (LAN-01-011); before, 2002-2003 worklists showed visits overdue by months."""
    for as_of in ("2002-10-01", "2003-03-01", "2003-06-01", "2003-09-01", "2003-12-01"):
        data = schedule(example_db, as_of)
        late = {w["subject_id"] for w in data["worklist"]
                if w["kind"] == "follow-up" and w["status"] == "overdue"}
        assert late <= {"LAN-01-011"}, (as_of, late)
        # with its end-of-study record, not even the subject who withdrew (disposition)
        assert late == set(), (as_of, late)


def test_treatment_status_2003_03_01(example_db):
    status = {s["subject_id"]: s["treatment_status"]
              for s in schedule(example_db, "2003-03-01")["subjects"]}
    died = {"LAN-01-001", "LAN-01-003", "LAN-01-004", "LAN-01-005", "LAN-01-009"}
    stopped = {"LAN-01-002", "LAN-01-006", "LAN-01-007", "LAN-01-010", "LAN-01-011",
               "LAN-01-012", "LAN-01-013", "LAN-01-014"}
    on = {"LAN-01-015", "LAN-01-016", "LAN-01-017"}
    assert set(status) == died | stopped | on | {"LAN-01-008"}
    assert {s for s, v in status.items() if v == "off: died"} == died
    # disposition.csv records why each "stopped" subject stopped, so the recorded reason replaces
    # the stale-cycle heuristic's "off: cycles stopped" (end of treatment on or before 2003-03-01):
    # 2-3 cycles then "completed"; 014 one cycle then "physician decision" (2002-11-20); 011
    # "withdrawal by subject" (2002-06-26)
    recorded = {s: "off: completed" for s in stopped} | {
        "LAN-01-014": "off: physician decision", "LAN-01-011": "off: withdrawal by subject"}
    assert {s: status[s] for s in stopped} == recorded
    assert not {s for s, v in status.items() if v == "off: cycles stopped"}
    assert {s for s, v in status.items() if v == "on treatment"} == on
    # 008 is off treatment either way (PD, then a new therapy from 2002-06-17)
    assert status["LAN-01-008"] in ("off: progression", "off: new therapy")


def test_progression_by_lesion_growth_ends_treatment(example_db):
    """WHO PD by SPD growth alone (no new lesion) ends treatment in the worklist."""
    data = schedule(example_db, "2002-06-01")
    sub = {s["subject_id"]: s for s in data["subjects"]}
    # LAN-01-009: 1 cycle (2002-02-25); SPD +50 % at the 2002-04-24 scan = WHO PD -> off
    # treatment, follow-up 2002-04-24 + 90 = 2002-07-23 (was "cycle 2 overdue 33 days" before
    # the CLI passed the response engine's PD time points to the schedule)
    # LAN-01-008: SPD +52 % over baseline at the 2002-05-23 scan = WHO PD -> off treatment,
    # follow-up 2002-08-21 (was "cycle 3 overdue 15 days", until its new therapy 2002-06-17)
    assert (sub["LAN-01-009"]["progression_date"], sub["LAN-01-008"]["progression_date"]) == (
        "2002-04-24", "2002-05-23")
    assert {sub[s]["treatment_status"] for s in ("LAN-01-008", "LAN-01-009")} == {
        "off: progression"}
    rows = {(w["subject_id"], w["event"], w["planned"], w["status"]) for w in data["worklist"]
            if w["subject_id"] in ("LAN-01-008", "LAN-01-009")}
    assert rows == {("LAN-01-008", "follow-up", "2002-08-21", "planned"),
                    ("LAN-01-009", "follow-up", "2002-07-23", "planned")}


def test_all_23_subjects_eligible(example_db):
    data = run_json("eligibility", "--db", example_db, "--json")
    assert len(data["subjects"]) == 23
    assert {s["status"] for s in data["subjects"]} == {"eligible"}


def test_deviations_at_the_data_cut_off_are_the_designed_ones(example_db):
    data = schedule(example_db)  # as of the data cut-off = the latest record date:
    assert data["as_of"] == "2004-12-30"  # LAN-01-021's last_known_alive_date
    rows = sorted((d["subject_id"], d["kind"], d["event"], d["planned"], d["actual"],
                   d["days_off"]) for d in data["deviations"])
    assert rows == [
        # designed late cycle: cycle 1 on 2001-09-17 -> cycle 2 planned 2001-11-12, given
        # 2001-11-26 (70 days after cycle 1): 14 days late, beyond +-7
        ("LAN-01-006", "cycle late", "cycle 2", "2001-11-12", "2001-11-26", 14),
        # (LAN-01-011 withdrew consent after the day-28 blood count; its end of study
        # 2002-06-26 in disposition.csv precedes the window 2002-07-16..2002-08-13, so the scan is
        # "not expected" -- a withdrawal is disposition, not a protocol deviation (ICH E3 10.1 /
        # 10.2). Before the disposition record type it read "assessment missing".)
        # designed out-of-window scan: cycle 2 on 2002-08-29 -> window 2002-10-24..2002-11-21;
        # scanned 2002-12-03 (day 96), 12 days after the window's end
        ("LAN-01-012", "assessment outside window", "assessment after cycle 2", "2002-10-24",
         "2002-12-03", 12),
        # designed consequence: clinical/lab/marker follow-up but no imaging after cycle 1
        # (2002-09-23); alive when the window 2002-11-18..2002-12-16 closed (died 2003-03-12)
        ("LAN-01-014", "assessment missing", "assessment after cycle 1", "2002-11-18", None, None),
    ]
    # LAN-01-005 (died day 38) and LAN-01-018 (died day 47) died before their assessment window
    # closed: "not expected", no deviation; follow-up visits are not a deviation kind
