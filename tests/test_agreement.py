"""Tests for tuiqa.agreement.

1. Published / synthetic cases from tests/data/agreement-examples.json (a copy
   of shared/notes/agreement-examples.json), compared at their published
   precision.  Every expected value in the file is listed either in CHECKS or
   in NOT_IMPLEMENTED; an unlisted one fails.
2. Reference implementations (krippendorff, scikit-learn) on seeded random
   data, to 1e-9.
3. Undefined cases, character mode, report shape.
"""

from __future__ import annotations

import csv
import fnmatch
import io
import json
import math
import random
import re
import warnings
from decimal import Decimal
from pathlib import Path

import pytest

from tuiqa.agreement import (
    KAPPA_NEEDS_TWO,
    NO_PAIRABLE,
    NO_UNITS,
    Stat,
    cohen_kappa,
    cohen_kappa_from_table,
    compute_agreement,
    krippendorff_alpha_nominal,
    percent_agreement,
    to_csv_rows,
)
from tuiqa.coefficients import (
    Interval,
    MultiRater,
    alpha_details,
    bangdiwala_b,
    brennan_prediger,
    cohen_kappa_ase,
    conger_kappa,
    fleiss_kappa,
    gwet_ac1,
    krippendorff_alpha,
    masi_distance,
    mean_pairwise_agreement,
    scott_pi,
    weighted_kappa,
)
from tuiqa.overlap import check_segments, merge

DATA = Path(__file__).parent / "data" / "agreement-examples.json"
# Decimal keeps how each number is written, which gives its precision.
CASES = {c["name"]: c for c in json.loads(DATA.read_text(encoding="utf-8"), parse_float=Decimal)}
CHECKED = object()  # a checker that asserted by itself returns this


# --------------------------------------------------------------------------
# Helpers to turn the example shapes into module inputs
# --------------------------------------------------------------------------


def flatten(value, prefix=""):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from flatten(v, f"{prefix}.{k}" if prefix else k)
    else:
        yield prefix, value


def matrix(case):
    return case["data"]["values"]


def expanded(case):
    return case["data"]["expanded"]["values"]


def slots_from_counts(case):
    """counts_per_unit -> coders x units matrix (raters are interchangeable slots)."""
    counts = case["data"]["counts_per_unit"]
    cats = case["data"]["categories"]
    per_unit = [[cats[k] for k, n in enumerate(row) for _ in range(n)] for row in counts]
    width = max(len(v) for v in per_unit)
    return [[v[s] if s < len(v) else None for v in per_unit] for s in range(width)]


def sets_report(case):
    """Response-mode report for a sets_matrix case."""
    data = case["data"]
    units = {
        u: {coder: [(code, 0, 0) for code in data["values"][ci][ui]] for ci, coder in enumerate(data["coders"])}
        for ui, u in enumerate(data["units"])
    }
    return compute_agreement(units, data["coders"])


def presence(case, codes):
    """coders x (code, unit) presence matrix of a sets_matrix case, codes pooled."""
    data = case["data"]
    return [[int(code in s) for code in codes for s in row] for row in data["values"]]


def spans_units(sources):
    units, lengths = {}, {}
    for src in sources:
        units[src["id"]] = {
            coder: [(s["code"], s["start"], s["end"]) for s in spans] for coder, spans in src["coders"].items()
        }
        lengths[src["id"]] = src["text_length"]
    return units, lengths


def char_report(case, source_ids=None):
    data = case["data"]
    sources = data.get("sources") or [{"id": "S", "text_length": data["text_length"], "coders": data["coders"]}]
    sources = [s for s in sources if source_ids is None or s["id"] in source_ids]
    units, lengths = spans_units(sources)
    coders = sorted({c for s in sources for c in s["coders"]})
    return compute_agreement(units, coders, unit="character", lengths=lengths)


def code_entry(report, code):
    (entry,) = [c for c in report.codes if c.code == code]
    return entry


def implied_p_e(p_o: float, kappa: float) -> float:
    """Chance agreement implied by kappa: kappa = (p_o - p_e)/(1 - p_e)."""
    return (p_o - kappa) / (1 - kappa)


def kappa_both_ways(case):
    """Kappa from the table, asserting the value-based primitive agrees."""
    k = cohen_kappa_from_table(case["data"]["table"], case["data"]["categories"])
    y1, y2 = expanded(case)
    assert cohen_kappa(y1, y2) == k
    return k


# --------------------------------------------------------------------------
# Which expected value is checked how
# --------------------------------------------------------------------------

CONTINGENCY = [n for n, c in CASES.items() if c["data"].get("shape") == "contingency"]
CHECKS = {
    ("krippendorff2011_4coders_12units", "alpha_nominal"): lambda c: krippendorff_alpha_nominal(matrix(c)),
    ("krippendorff2011_4coders_12units", "alpha_nominal_irrCAC"): lambda c: krippendorff_alpha_nominal(matrix(c)),
    ("krippendorff2011_4coders_12units", "derived_nominal.percent_agreement_all_coders_identical"):
        lambda c: percent_agreement(matrix(c)),
    ("wikipedia_krippendorff_3coders_15units", "alpha_nominal"): lambda c: krippendorff_alpha_nominal(matrix(c)),
    ("krippendorff2004_binary_two_observers", "alpha_nominal"): lambda c: krippendorff_alpha_nominal(matrix(c)),
    ("irrcac_distrib_6raters_15subjects", "krippendorff_alpha_nominal"):
        lambda c: krippendorff_alpha_nominal(slots_from_counts(c)),
    # NVivo character kappa
    ("nvivo_style_character_kappa_single_source", "percent_agreement"):
        lambda c: code_entry(char_report(c), "X").percent_agreement,
    ("nvivo_style_character_kappa_single_source", "cohen_kappa"): lambda c: code_entry(char_report(c), "X").cohen_kappa,
    ("nvivo_style_character_kappa_single_source", "EF_sum"): lambda c: (lambda e: e.units * implied_p_e(
        e.percent_agreement.value, e.cohen_kappa.value))(code_entry(char_report(c), "X")),
    ("nvivo_style_kappa_aggregation_two_sources", "per_source.S1.kappa"):
        lambda c: code_entry(char_report(c, {"S1"}), "X").cohen_kappa,
    ("nvivo_style_kappa_aggregation_two_sources", "per_source.S1.percent_agreement"):
        lambda c: code_entry(char_report(c, {"S1"}), "X").percent_agreement,
    ("nvivo_style_kappa_aggregation_two_sources", "per_source.S2.kappa"):
        lambda c: code_entry(char_report(c, {"S2"}), "X").cohen_kappa,
    ("nvivo_style_kappa_aggregation_two_sources", "per_source.S2.percent_agreement"):
        lambda c: code_entry(char_report(c, {"S2"}), "X").percent_agreement,
    ("nvivo_style_kappa_aggregation_two_sources", "pooled_characters_kappa"): lambda c: char_report(c).overall.cohen_kappa,
    ("nvivo_style_kappa_aggregation_two_sources", "pooled_percent_agreement"):
        lambda c: char_report(c).overall.percent_agreement,
    # edge cases
    ("edge_missing_units_three_coders", "krippendorff_alpha_nominal"): lambda c: krippendorff_alpha_nominal(matrix(c)),
    ("edge_missing_units_three_coders", "pairwise_cohen_kappa_listwise.c1-c2"): lambda c: cohen_kappa(*matrix(c)[:2]),
    ("edge_missing_units_three_coders", "pairwise_cohen_kappa_listwise.c1-c3"):
        lambda c: cohen_kappa(matrix(c)[0], matrix(c)[2]),
    ("edge_missing_units_three_coders", "pairwise_cohen_kappa_listwise.c2-c3"): lambda c: cohen_kappa(*matrix(c)[1:]),
    ("edge_no_pairable_units", "krippendorff_alpha"): lambda c: krippendorff_alpha_nominal(matrix(c)),
    ("edge_no_pairable_units", "cohen_kappa"): lambda c: cohen_kappa(*matrix(c)),
    ("edge_no_pairable_units", "reason"): lambda c: {krippendorff_alpha_nominal(matrix(c)).reason,
                                                     cohen_kappa(*matrix(c)).reason, percent_agreement(matrix(c)).reason},
    ("edge_empty_input", "reason"): lambda c: {s.reason for s in empty_input_stats(c)},
    ("edge_empty_input", "all"): lambda c: empty_input_stats(c),
    ("edge_all_units_same_single_category", "recommended_report"): lambda c: check_no_variation(c),
}
for _name in CONTINGENCY:  # only the keys each case has
    CHECKS.update({(_name, key): fn for key, fn in {
        "p_o": lambda c: percent_agreement(expanded(c)),
        "p_e": lambda c: implied_p_e(percent_agreement(expanded(c)).value, kappa_both_ways(c).value),
        "cohen_kappa": kappa_both_ways,
        "percent_agreement": lambda c: percent_agreement(expanded(c)),
        "krippendorff_alpha_nominal": lambda c: krippendorff_alpha_nominal(expanded(c)),
    }.items() if key in CASES[_name]["expected"]})
for _name in ("edge_perfect_agreement_multicategory", "edge_all_units_same_single_category",
              "edge_code_used_by_only_one_coder", "edge_complete_disagreement_binary"):
    CHECKS[(_name, "percent_agreement")] = lambda c: percent_agreement(matrix(c))
    CHECKS[(_name, "cohen_kappa")] = lambda c: cohen_kappa(*matrix(c))
    CHECKS[(_name, "krippendorff_alpha")] = lambda c: krippendorff_alpha_nominal(matrix(c))

SURVEY = "synthetic_survey_multicode_2coders"
for _code in ("cost", "quality", "service", "delivery"):
    for _stat in ("percent_agreement", "cohen_kappa", "krippendorff_alpha"):
        CHECKS[(SURVEY, f"per_code.{_code}.{_stat}")] = (
            lambda c, code=_code, stat=_stat: getattr(code_entry(sets_report(c), code), stat))


def refund_check(primitive):
    """'refund' is used by nobody: it is not listed; the primitives on its
    all-absent vectors give the expected (undefined) values."""
    def check(c):
        assert "refund" not in [e.code for e in sets_report(c).codes]
        return primitive(presence(c, ["refund"]))
    return check


def check_refund_reason(c):
    for stat in (krippendorff_alpha_nominal(presence(c, ["refund"])), cohen_kappa(*presence(c, ["refund"]))):
        assert stat.value is None and stat.reason.startswith("no variation") and "0" in stat.reason
    return CHECKED


def pooled_table(report, extra_neither=0):
    o = report.overall
    a, b = report.coders
    return [[o.both, o.only[a]], [o.only[b], o.neither + extra_neither]]


ALL5 = CASES[SURVEY]["data"]["codebook"]
ALL5_UNITS = len(CASES[SURVEY]["data"]["units"])
CHECKS.update({
    (SURVEY, "per_code.refund.percent_agreement"): refund_check(percent_agreement),
    (SURVEY, "per_code.refund.cohen_kappa"): refund_check(lambda v: cohen_kappa(*v)),
    (SURVEY, "per_code.refund.krippendorff_alpha"): refund_check(krippendorff_alpha_nominal),
    (SURVEY, "per_code.refund.undefined_reason"): check_refund_reason,
    (SURVEY, "mean_kappa_over_defined_codes"): lambda c: sets_report(c).overall.mean_cohen_kappa,
    # the report pools the used codes only; the 5-code figures via the primitives
    (SURVEY, "pooled_over_4_used_codes.cohen_kappa"): lambda c: sets_report(c).overall.cohen_kappa,
    (SURVEY, "pooled_over_4_used_codes.percent_agreement"): lambda c: sets_report(c).overall.percent_agreement,
    (SURVEY, "pooled_over_4_used_codes.krippendorff_alpha"): lambda c: sets_report(c).overall.krippendorff_alpha,
    (SURVEY, "pooled_over_4_used_codes.table"): lambda c: pooled_table(sets_report(c)),
    (SURVEY, "pooled_over_5_codes.cohen_kappa"): lambda c: cohen_kappa(*presence(c, ALL5)),
    (SURVEY, "pooled_over_5_codes.percent_agreement"): lambda c: percent_agreement(presence(c, ALL5)),
    (SURVEY, "pooled_over_5_codes.krippendorff_alpha"): lambda c: krippendorff_alpha_nominal(presence(c, ALL5)),
    (SURVEY, "pooled_over_5_codes.table"): lambda c: pooled_table(sets_report(c), extra_neither=ALL5_UNITS),
    # set-valued units with exact-set (nominal) comparison: frozensets as categories
    (SURVEY, "exact_set_agreement"): lambda c: percent_agreement(
        [[frozenset(s) for s in row] for row in matrix(c)]),
    (SURVEY, "krippendorff_alpha_exact_set_nominal"): lambda c: krippendorff_alpha_nominal(
        [[frozenset(s) for s in row] for row in matrix(c)]),
})


def empty_input_stats(case):
    values = matrix(case)
    report = compute_agreement({}, case["data"]["coders"])
    o = report.overall
    stats = [percent_agreement(values), cohen_kappa(*values), krippendorff_alpha_nominal(values),
             o.percent_agreement, o.cohen_kappa, o.krippendorff_alpha, o.mean_cohen_kappa, o.mean_krippendorff_alpha]
    assert report.codes == ()
    return stats


def check_no_variation(case):
    values = matrix(case)
    for stat in (cohen_kappa(*values), krippendorff_alpha_nominal(values)):
        assert stat.value is None and stat.reason.startswith("no variation"), stat
    assert percent_agreement(values).value == 1.0
    return CHECKED


# --------------------------------------------------------------------------
# The statistics added for issue 17 (more coders, chance-robust coefficients, levels of alpha,
# character units aggregated per answer, segments, MASI)
# --------------------------------------------------------------------------


def expanded_table(case):
    return expanded(case)


def irrcac_raw4raters(case):
    """irrCAC's transcription of Krippendorff (2011) (cac.raw4raters, printed in its README):
    the one value of unit 12 (a 3) belongs to rater 3 there, to coder B in the JSON. Only
    Conger's kappa (each coder's own marginals) can tell the difference; alpha, AC1, Fleiss and
    Brennan-Prediger pool the coders."""
    rows = [list(row) for row in matrix(case)]
    assert rows[1][11] == 3 and rows[2][11] is None
    rows[1][11], rows[2][11] = None, 3
    return rows


def counts_of(case):
    return MultiRater.from_counts(case["data"]["counts_per_unit"])


def raw_slots(case):
    """Fleiss (1971): rows are patients, columns rating slots (not the same psychiatrists)."""
    raw = case["data"]["raw_ratings_rows_are_units"]
    return [[row[s] for row in raw] for s in range(len(raw[0]))]


def check_masi_pairs(case):
    expected = case["expected"]["masi_distance"]
    for (a, b), want in zip(case["data"]["pairs"], expected):
        assert abs(masi_distance(a, b) - float(want)) <= 5e-7, (a, b, want)
        assert masi_distance(b, a) == masi_distance(a, b)
    return CHECKED


def check_derivation(case):
    """NVivo's derivation, rebuilt from the report's counts: EF1 = coded by A x coded by B /
    total, EF2 = not coded by A x not coded by B / total, K = (agreements - EF) / (total - EF)."""
    e = code_entry(char_report(case), "X")
    n, a, b = e.units, e.both + e.only["A"], e.both + e.only["B"]
    ef1, ef2 = a * b / n, (n - a) * (n - b) / n
    agree = e.both + e.neither
    ef = ef1 + ef2
    text = (f"EF1={a}*{b}/{n}={ef1:g}, EF2={n - a}*{n - b}/{n}={ef2:g}; "
            f"K=({agree}-{ef:g})/({n}-{ef:g})={agree - ef:g}/{n - ef:g}")
    assert text == case["expected"]["derivation"]
    assert e.cohen_kappa.value == pytest.approx((agree - ef) / (n - ef), abs=1e-15)
    return CHECKED


def maxqda_report(case):
    units, lengths = spans_units([{"id": "S", "text_length": case["data"]["text_length"],
                                   "coders": case["data"]["coders"]}])
    return compute_agreement(units, ["A", "B"], unit="character", lengths=lengths,
                             overlap_threshold=float(case["data"]["overlap_threshold"]))


def check_segment_list(case):
    data = case["data"]
    extracts = {coder: {} for coder in data["coders"]}
    for coder, spans in data["coders"].items():
        for code in {s["code"] for s in spans}:
            extracts[coder][code] = merge((s["start"], s["end"]) for s in spans if s["code"] == code)
    checks = check_segments(extracts, ["A", "B"], float(data["overlap_threshold"]))
    expected = case["expected"]["segment_checks"]
    assert len(checks) == len(expected)
    for got, want in zip(checks, expected):
        assert (got.coder, got.code, list(got.span), got.match) == (want["coder"], want["code"], want["span"], want["match"])
        assert abs(got.best_jaccard - float(want["overlap_jaccard"])) <= 5e-7
    return CHECKED


def segment_counts(key):
    """per_code.X.agreements and the like, from the report's overlap figures."""
    def check(case):
        report = maxqda_report(case)
        parts = key.split(".")
        o = (code_entry(report, parts[1]) if parts[0] == "per_code" else report.overall.pooled).overlap
        return {"agreements": o.segments_matched, "non_agreements": o.segments_checked - o.segments_matched,
                "percent": o.segment_agreement}[parts[-1]]
    return check


K2011 = "krippendorff2011_4coders_12units"
CHECKS.update({
    # levels of Krippendorff's alpha
    (K2011, "alpha_ordinal"): lambda c: krippendorff_alpha(matrix(c), "ordinal"),
    (K2011, "alpha_interval"): lambda c: krippendorff_alpha(matrix(c), "interval"),
    (K2011, "alpha_ratio"): lambda c: krippendorff_alpha(matrix(c), "ratio"),
    ("wikipedia_krippendorff_3coders_15units", "alpha_interval"): lambda c: krippendorff_alpha(matrix(c), "interval"),
    ("hayes_krippendorff_2007_news_tone", "alpha_ordinal"): lambda c: krippendorff_alpha(matrix(c), "ordinal"),
    # Gwet's framework on Krippendorff (2011), missing values and all
    (K2011, "percent_agreement_gwet"): lambda c: mean_pairwise_agreement(matrix(c)),
    (K2011, "gwet_ac1"): lambda c: gwet_ac1(matrix(c)),
    (K2011, "fleiss_kappa_gwet_generalized"): lambda c: fleiss_kappa(matrix(c)),
    (K2011, "conger_kappa"): lambda c: conger_kappa(irrcac_raw4raters(c)),
    (K2011, "brennan_prediger"): lambda c: brennan_prediger(matrix(c)),
    (K2011, "derived_nominal.n_pairable_values"): lambda c: alpha_details(matrix(c)).n,
    (K2011, "derived_nominal.pairable_units"): lambda c: alpha_details(matrix(c)).pairable_units,
    (K2011, "derived_nominal.D_o"): lambda c: alpha_details(matrix(c)).observed_disagreement,
    (K2011, "derived_nominal.D_e"): lambda c: alpha_details(matrix(c)).expected_disagreement,
    (K2011, "derived_nominal.A_o_krippendorff(1-D_o)"): lambda c: alpha_details(matrix(c)).observed_agreement,
    (K2011, "derived_nominal.percent_agreement_unit_mean_pairwise"): lambda c: mean_pairwise_agreement(matrix(c)),
    # two-coder tables
    ("irrcac_cont3x3abstractors", "scott_pi"): lambda c: scott_pi(*expanded(c)),
    ("irrcac_cont3x3abstractors", "gwet_ac1"): lambda c: gwet_ac1(expanded(c)),
    ("irrcac_cont3x3abstractors", "brennan_prediger"): lambda c: brennan_prediger(expanded(c)),
    ("irrcac_cont3x3abstractors", "bangdiwala_b"): lambda c: bangdiwala_b(c["data"]["table"]),
    ("sas_proc_freq_kappa_3x3", "cohen_kappa_ase"): lambda c: cohen_kappa_ase(c["data"]["table"]),
    ("sas_proc_freq_kappa_3x3", "weighted_kappa_linear"): lambda c: weighted_kappa(c["data"]["table"], "linear"),
    ("artstein_poesio_2008_dialogue_acts", "scott_pi"): lambda c: scott_pi(*expanded(c)),
    ("artstein_poesio_2008_dialogue_acts", "bennett_S"): lambda c: brennan_prediger(expanded(c)),
    # Fleiss' form (rating slots, not coders)
    ("fleiss1971_psychiatric_diagnoses", "fleiss_kappa"): lambda c: counts_of(c).fleiss_kappa(),
    ("fleiss1971_psychiatric_diagnoses", "fleiss_kappa_irr"): lambda c: fleiss_kappa(raw_slots(c)),
    ("wikipedia_fleiss_kappa_10x14", "fleiss_kappa"): lambda c: counts_of(c).fleiss_kappa(),
    ("wikipedia_fleiss_kappa_10x14", "P_bar"): lambda c: counts_of(c).p_a,
    ("wikipedia_fleiss_kappa_10x14", "P_e"): lambda c: counts_of(c).pe_fleiss,
    ("irrcac_distrib_6raters_15subjects", "fleiss_kappa"): lambda c: counts_of(c).fleiss_kappa(),
    ("irrcac_distrib_6raters_15subjects", "gwet_ac1"): lambda c: counts_of(c).gwet_ac1(),
    ("irrcac_distrib_6raters_15subjects", "brennan_prediger"): lambda c: counts_of(c).brennan_prediger(),
    ("irrcac_distrib_6raters_15subjects", "percent_agreement"): lambda c: counts_of(c).mean_pairwise_agreement(),
    ("irrcac_distrib_6raters_15subjects", "pe_fleiss"): lambda c: counts_of(c).pe_fleiss,
    ("irrcac_distrib_6raters_15subjects", "pe_ac1"): lambda c: counts_of(c).pe_ac1,
    # the survey: AC1 per code through the report (q = 2: present or absent); MASI alpha on sets
    (SURVEY, "per_code.refund.gwet_ac1_binary_q2"): refund_check(lambda v: gwet_ac1(v, categories=[0, 1])),
    (SURVEY, "krippendorff_alpha_masi"): lambda c: krippendorff_alpha(
        [[frozenset(s) for s in row] for row in matrix(c)], distance=masi_distance),
    # NVivo: the per-source averages a user would work out, from the report
    ("nvivo_style_character_kappa_single_source", "derivation"): check_derivation,
    ("nvivo_style_kappa_aggregation_two_sources", "simple_mean_kappa"):
        lambda c: code_entry(char_report(c), "X").cohen_kappa_mean_over_answers,
    ("nvivo_style_kappa_aggregation_two_sources", "size_weighted_mean_kappa"):
        lambda c: code_entry(char_report(c), "X").cohen_kappa_length_weighted_over_answers,
    # MAXQDA-style segments, through the report
    ("maxqda_style_segment_overlap", "segment_checks"): check_segment_list,
    ("maxqda_style_segment_overlap", "kappa_brennan_prediger_k_codes_2"):
        lambda c: maxqda_report(c).overall.segment_kappa,
    # edge cases
    ("edge_perfect_agreement_multicategory", "gwet_ac1"): lambda c: gwet_ac1(matrix(c)),
    ("edge_perfect_agreement_multicategory", "fleiss_kappa"): lambda c: fleiss_kappa(matrix(c)),
    ("edge_all_units_same_single_category", "gwet_ac1.categories_fixed_to_[0,1]"):
        lambda c: gwet_ac1(matrix(c), categories=[0, 1]),
    ("edge_all_units_same_single_category", "gwet_ac1.categories_observed_only_(q=1)"): lambda c: gwet_ac1(matrix(c)),
    ("edge_all_units_same_single_category", "brennan_prediger.categories_fixed_to_[0,1]"):
        lambda c: brennan_prediger(matrix(c), categories=[0, 1]),
    ("edge_all_units_same_single_category", "brennan_prediger.categories_observed_only_(q=1)"):
        lambda c: brennan_prediger(matrix(c)),
    ("edge_code_used_by_only_one_coder", "scott_pi"): lambda c: scott_pi(*matrix(c)),
    ("edge_code_used_by_only_one_coder", "gwet_ac1"): lambda c: gwet_ac1(matrix(c)),
    ("edge_missing_units_three_coders", "gwet_ac1_irrCAC_formula"): lambda c: gwet_ac1(matrix(c)),
    ("edge_missing_units_three_coders", "percent_agreement_irrCAC_formula"): lambda c: mean_pairwise_agreement(matrix(c)),
    ("edge_masi_both_empty_sets", "masi_distance"): check_masi_pairs,
})
for _code in ("cost", "quality", "service", "delivery"):
    CHECKS[(SURVEY, f"per_code.{_code}.gwet_ac1_binary_q2")] = (
        lambda c, code=_code: code_entry(sets_report(c), code).gwet_ac1)
for _key in ("per_code.X.agreements", "per_code.X.non_agreements", "per_code.X.percent", "per_code.Y.agreements",
             "per_code.Y.non_agreements", "per_code.Y.percent", "total.agreements", "total.non_agreements",
             "total.percent"):
    CHECKS[("maxqda_style_segment_overlap", _key)] = segment_counts(_key)

# Expected values the module does not check (none left: every published value is checked).
NOT_IMPLEMENTED: dict[tuple[str, str], str] = {}


def not_implemented(name, key):
    for (case_pat, key_pat), what in NOT_IMPLEMENTED.items():
        if fnmatch.fnmatchcase(name, case_pat) and fnmatch.fnmatchcase(key, key_pat):
            return what
    return None


def precision_note(case, key):
    notes = case.get("expected_precision") or {}
    for pattern in (key, key.split(".")[0]):
        for note_key, note in notes.items():
            if fnmatch.fnmatchcase(pattern, note_key):
                return note
    return notes.get("all", "")


def decimals(case, key, expected) -> int:
    """Printed decimals of an expected value: 'N decimals' from the precision
    note, else as written; a value marked exact (or a synthetic edge case) that
    is written with fewer than 6 decimals is exact and checked at 6."""
    written = max(0, -expected.as_tuple().exponent) if isinstance(expected, Decimal) else 0
    note = precision_note(case, key)
    m = re.match(r"\s*(\d+) decimals", note)
    if m:
        return int(m.group(1))
    if note.startswith("exact") or case["name"].startswith("edge_"):
        return max(written, 6)
    return written


def assert_matches(expected, actual, digits):
    if actual is CHECKED:
        return
    if isinstance(actual, Stat):
        if expected is None:
            assert actual.value is None and actual.reason, actual
            return
        assert actual.value is not None, f"undefined: {actual.reason}"
        actual = actual.value
    if expected is None:
        assert all(s.value is None and s.reason for s in actual), actual
    elif isinstance(expected, str):
        assert actual == {expected}, actual
    elif isinstance(expected, list):
        assert actual == expected
    else:
        assert abs(actual - float(expected)) <= 0.5 * 10 ** -digits, (actual, expected, digits)


EXAMPLES = [(name, key) for name, case in CASES.items() for key, _ in flatten(case["expected"])]


def test_examples_file_is_a_copy_of_the_shared_notes():
    here = Path(__file__).resolve()
    found = [p / "shared" / "notes" / "agreement-examples.json" for p in here.parents]
    shared = next((p for p in found if p.exists()), None)
    if shared is None:
        pytest.skip("shared/notes not beside the repository (nor above it)")
    assert shared.read_bytes() == DATA.read_bytes()


def test_every_expected_value_is_either_checked_or_explicitly_skipped():
    assert len(CASES) == 28
    for name, key in EXAMPLES:
        assert ((name, key) in CHECKS) != bool(not_implemented(name, key)), (name, key)
    assert set(CHECKS) <= set(EXAMPLES)


@pytest.mark.parametrize("name,key", EXAMPLES, ids=[f"{n}:{k}" for n, k in EXAMPLES])
def test_published_example(name, key):
    case = CASES[name]
    expected = dict(flatten(case["expected"]))[key]
    what = not_implemented(name, key)
    if what:
        pytest.skip(f"{name}: {key}: not implemented: {what}")
    actual = CHECKS[(name, key)](case)
    assert_matches(expected, actual, decimals(case, key, expected))


@pytest.mark.parametrize("name", [
    "krippendorff2004_binary_two_observers", "edge_code_used_by_only_one_coder",
    "edge_complete_disagreement_binary", "edge_perfect_agreement_multicategory",
])
def test_binary_and_multicategory_matrices_through_compute_agreement(name):
    """The count-based path of compute_agreement (one code per category value)
    gives the primitives' values on the example matrices."""
    values = matrix(CASES[name])
    coders = ["c1", "c2"]
    categories = sorted({v for row in values for v in row if v not in (None, 0)}, key=str)
    units = {str(u): {coders[c]: [(str(row[u]), 0, 0)] for c, row in enumerate(values) if row[u] not in (None, 0)}
             for u in range(len(values[0]))}
    report = compute_agreement(units, coders)
    assert [e.code for e in report.codes] == [str(v) for v in categories]
    for e in report.codes:
        pres = [[int(str(v) == e.code) for v in row] for row in values]
        assert e.percent_agreement == percent_agreement(pres)
        assert e.cohen_kappa.value == pytest.approx(cohen_kappa(*pres).value, abs=1e-12)
        assert e.krippendorff_alpha.value == pytest.approx(krippendorff_alpha_nominal(pres).value, abs=1e-12)


def test_code_used_by_one_coder_only_is_defined():
    units = {str(u): {"A": [("X", 0, 0)] if u < 3 else []} for u in range(10)}
    (e,) = compute_agreement(units, ["A", "B"]).codes
    assert (e.both, e.only, e.neither) == (0, {"A": 3, "B": 0}, 7)
    assert e.percent_agreement.value == pytest.approx(0.7)
    assert e.cohen_kappa == Stat(0.0)
    assert e.krippendorff_alpha.value == pytest.approx(-0.117647, abs=5e-7)
    assert e.undefined_reason is None


# --------------------------------------------------------------------------
# Reference implementations on random data
# --------------------------------------------------------------------------


def ref_alpha(rows):
    """krippendorff package on coders x units (None = missing); None if it refuses."""
    np = pytest.importorskip("numpy")
    krippendorff = pytest.importorskip("krippendorff")
    cats = {v: i for i, v in enumerate(dict.fromkeys(v for row in rows for v in row if v is not None))}
    data = np.array([[np.nan if v is None else cats[v] for v in row] for row in rows], dtype=float)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    except ValueError:
        return None
    return None if math.isnan(value) else float(value)


def ref_kappa(y1, y2):
    metrics = pytest.importorskip("sklearn.metrics")
    pairs = [(a, b) for a, b in zip(y1, y2) if a is not None and b is not None]
    if not pairs:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = metrics.cohen_kappa_score([str(a) for a, _ in pairs], [str(b) for _, b in pairs])
    return None if math.isnan(value) else float(value)


def assert_close(stat: Stat, reference):
    if reference is None:
        assert stat.value is None and stat.reason, stat
    else:
        assert stat.value is not None, stat.reason
        assert abs(stat.value - reference) <= 1e-9, (stat.value, reference)


def random_units(rng, coders, n_units, n_codes):
    """Random response-mode data; returns (units, presence[code] = coders x units)."""
    units, presence_of = {}, {}
    rates = {f"code{k}": rng.choice([0.0, 0.05, 0.3, 0.6, 1.0]) for k in range(n_codes)}
    agreement = rng.random()
    for u in range(n_units):
        uid = f"u{u}"
        units[uid] = {}
        for code, rate in rates.items():
            base = rng.random() < rate
            for coder in coders:
                present = base if rng.random() < agreement else rng.random() < rate
                if present:
                    units[uid].setdefault(coder, []).append((code, 0, 0))
                    units[uid][coder].append((code, 0, 0))  # repeated coding: still one decision
                    presence_of.setdefault(code, {c: [0] * n_units for c in coders})[coder][u] = 1
        if rng.random() < 0.2:
            units[uid]["someone-else"] = [("other", 0, 0)]  # not compared: ignored
    return units, {code: [p[c] for c in coders] for code, p in presence_of.items()}


@pytest.mark.parametrize("n_coders", [2, 3])
@pytest.mark.parametrize("seed", range(8))
def test_compute_agreement_against_reference_libraries(n_coders, seed):
    rng = random.Random(seed * 10 + n_coders)
    coders = [f"coder{i}" for i in range(n_coders)]
    for _ in range(6):
        n_units = rng.randint(1, 40)
        units, pres = random_units(rng, coders, n_units, rng.randint(1, 6))
        report = compute_agreement(units, coders)
        assert [e.code for e in report.codes] == sorted(pres)
        for e in report.codes:
            rows = pres[e.code]
            assert_close(e.krippendorff_alpha, ref_alpha(rows))
            if n_coders == 2:
                assert_close(e.cohen_kappa, ref_kappa(*rows))
            else:
                assert e.cohen_kappa == Stat(None, KAPPA_NEEDS_TWO)
            agree = sum(len({row[u] for row in rows}) == 1 for u in range(n_units))
            assert e.percent_agreement.value == agree / n_units
            assert e.both + e.neither + sum(e.only.values()) <= e.units == n_units
            assert e.only == {c: sum(row[u] and sum(r[u] for r in rows) == 1 for u in range(n_units))
                              for c, row in zip(coders, rows)}
        if pres:
            pooled = [sum((pres[code][i] for code in sorted(pres)), []) for i in range(n_coders)]
            assert_close(report.overall.krippendorff_alpha, ref_alpha(pooled))
            if n_coders == 2:
                assert_close(report.overall.cohen_kappa, ref_kappa(*pooled))
            assert report.overall.percent_agreement == percent_agreement(pooled)
            for stat in ("cohen_kappa", "krippendorff_alpha"):
                defined = [getattr(e, stat).value for e in report.codes if getattr(e, stat).value is not None]
                mean = getattr(report.overall, f"mean_{stat}")
                assert mean.value == (pytest.approx(sum(defined) / len(defined)) if defined else None)
                assert getattr(report.overall, f"codes_undefined_{stat}") == len(report.codes) - len(defined)


@pytest.mark.parametrize("seed", range(10))
def test_primitives_with_missing_values_against_reference_libraries(seed):
    rng = random.Random(seed)
    for _ in range(20):
        n_coders, n_units = rng.randint(2, 5), rng.randint(0, 30)
        cats = rng.choice([[0, 1], ["a", "b", "c"], [1, 2, 3, 4, 5], ["x"]])
        missing = rng.choice([0.0, 0.2, 0.6, 0.95])
        skew = rng.random()
        rows = [[None if rng.random() < missing else (cats[0] if rng.random() < skew else rng.choice(cats))
                 for _ in range(n_units)] for _ in range(n_coders)]
        assert_close(krippendorff_alpha_nominal(rows), ref_alpha(rows))
        assert_close(cohen_kappa(rows[0], rows[1]), ref_kappa(rows[0], rows[1]))


@pytest.mark.parametrize("seed", range(5))
def test_kappa_from_table_against_sklearn(seed):
    rng = random.Random(seed)
    for _ in range(30):
        k = rng.randint(1, 5)
        table = [[rng.choice([0, 0, 1, 3, 10]) for _ in range(k)] for _ in range(k)]
        y1 = [i for i in range(k) for j in range(k) for _ in range(table[i][j])]
        y2 = [j for i in range(k) for j in range(k) for _ in range(table[i][j])]
        assert_close(cohen_kappa_from_table(table), ref_kappa(y1, y2))


# --------------------------------------------------------------------------
# Undefined values
# --------------------------------------------------------------------------


def test_all_present_is_undefined_with_reason():
    units = {f"u{i}": {"A": [("X", 0, 1)], "B": [("X", 2, 3)]} for i in range(5)}
    (e,) = compute_agreement(units, ["A", "B"]).codes
    assert e.percent_agreement == Stat(1.0)
    reason = "no variation: every decision was 'present'"
    assert e.cohen_kappa == Stat(None, reason)
    assert e.krippendorff_alpha == Stat(None, reason)
    assert e.undefined_reason == reason
    assert e.to_dict()["cohen_kappa"] is None


def test_code_nobody_compared_used_is_not_listed():
    units = {"u1": {"A": [("X", 0, 1)], "C": [("Y", 0, 1)]}, "u2": {"B": [("X", 0, 1)]}, "u3": {}}
    report = compute_agreement(units, ["A", "B"])
    assert [e.code for e in report.codes] == ["X"]
    assert report.units_compared == 3


def test_all_absent_characters_are_undefined():
    units = {"u1": {"A": [("X", 3, 3)], "B": []}}
    (e,) = compute_agreement(units, ["A", "B"], unit="character", lengths={"u1": 10}).codes
    assert (e.units, e.neither) == (10, 10)
    assert e.cohen_kappa == Stat(None, "no variation: every decision was 'absent'")
    assert e.krippendorff_alpha.value is None and e.percent_agreement == Stat(1.0)


def test_three_coders_kappa_undefined():
    units = {"u1": {"A": [("X", 0, 1)], "B": [("X", 0, 1)]}, "u2": {"C": [("X", 0, 1)]}, "u3": {"A": [("Y", 0, 1)]}}
    report = compute_agreement(units, ["A", "B", "C"])
    assert all(e.cohen_kappa == Stat(None, KAPPA_NEEDS_TWO) for e in report.codes)
    assert report.overall.cohen_kappa == Stat(None, KAPPA_NEEDS_TWO)
    assert report.overall.mean_cohen_kappa == Stat(None, KAPPA_NEEDS_TWO)
    assert report.overall.codes_undefined_cohen_kappa == 2
    assert all(e.krippendorff_alpha.value is not None for e in report.codes)
    x = code_entry(report, "X")
    # u1: A and B (not all three: in no count), u2: C alone, u3: nobody
    assert (x.both, x.only, x.neither) == (0, {"A": 0, "B": 0, "C": 1}, 1)
    assert x.percent_agreement.value == pytest.approx(1 / 3)
    assert x.undefined_reason == KAPPA_NEEDS_TWO
    d = report.to_dict()
    assert d["overall"]["cohen_kappa"] is None
    assert d["overall"]["undefined_reasons"]["cohen_kappa"] == KAPPA_NEEDS_TWO


def test_no_units():
    report = compute_agreement({}, ["A", "B"], units_excluded=4)
    o = report.to_dict()["overall"]
    for key in ("percent_agreement", "cohen_kappa", "krippendorff_alpha", "mean_cohen_kappa", "mean_krippendorff_alpha"):
        assert o[key] is None
        assert o["undefined_reasons"][key] == NO_UNITS
    assert report.units_excluded == 4 and report.codes == ()


def test_units_but_no_codes():
    report = compute_agreement({"u1": {"A": []}, "u2": {}}, ["A", "B"])
    assert report.codes == ()
    assert report.overall.cohen_kappa.value is None and report.overall.cohen_kappa.reason


def test_mean_over_defined_codes_only():
    units = {"u1": {"A": [("all", 0, 0), ("q", 0, 0)], "B": [("all", 0, 0), ("q", 0, 0)]},
             "u2": {"A": [("all", 0, 0)], "B": [("all", 0, 0), ("r", 0, 0)]}}
    report = compute_agreement(units, ["A", "B"])
    assert code_entry(report, "all").cohen_kappa.value is None
    assert code_entry(report, "q").cohen_kappa == Stat(1.0)
    assert code_entry(report, "r").cohen_kappa == Stat(0.0)
    assert report.overall.mean_cohen_kappa == Stat(0.5)
    assert report.overall.codes_undefined_cohen_kappa == 1


def test_primitive_reasons():
    assert krippendorff_alpha_nominal([[1, None], [None, 2]]) == Stat(None, NO_PAIRABLE)
    assert krippendorff_alpha_nominal([[], []]) == Stat(None, NO_UNITS)
    assert cohen_kappa_from_table([[0, 0], [0, 0]]) == Stat(None, NO_UNITS)
    assert cohen_kappa_from_table([[0, 0], [0, 7]], ["yes", "no"]) == Stat(None, "no variation: every decision was 'no'")
    assert krippendorff_alpha_nominal([["a", "a"], ["a", "a"]]) == Stat(None, "no variation: every decision was 'a'")


def test_invalid_input():
    with pytest.raises(ValueError):
        compute_agreement({}, ["A"])
    with pytest.raises(ValueError):
        compute_agreement({}, ["A", "A"])
    with pytest.raises(ValueError):
        compute_agreement({}, ["A", "B"], unit="word")
    with pytest.raises(ValueError):
        compute_agreement({"u": {}}, ["A", "B"], unit="character")
    with pytest.raises(ValueError):
        compute_agreement({"u": {}}, ["A", "B"], unit="character", lengths={})
    with pytest.raises(ValueError):
        compute_agreement({"u": {"A": [("X", 5, 11)]}}, ["A", "B"], unit="character", lengths={"u": 10})
    with pytest.raises(ValueError):
        cohen_kappa_from_table([[1, 2]])


# --------------------------------------------------------------------------
# Character mode
# --------------------------------------------------------------------------

HAND_UNITS = {
    # r1 (10 chars): A codes X on 0-5 (two overlapping spans), B on 4-7; A codes Y on 8-9.
    "r1": {"A": [("X", 2, 6), ("X", 0, 4), ("Y", 8, 10)], "B": [("X", 4, 8)]},
    # r2 (5 chars): only B codes X, on all of it (touching spans merge).
    "r2": {"B": [("X", 0, 2), ("X", 2, 5)]},
}
HAND_LENGTHS = {"r1": 10, "r2": 5}


def test_character_mode_hand_example():
    report = compute_agreement(HAND_UNITS, ["A", "B"], unit="character", lengths=HAND_LENGTHS)
    x, y = report.codes
    # X over 15 characters: both {4,5}; A only {0..3}; B only {6,7} + r2's 5; neither {8,9}.
    assert (x.units, x.both, x.only, x.neither) == (15, 2, {"A": 4, "B": 7}, 2)
    assert x.percent_agreement.value == pytest.approx(4 / 15, abs=1e-15)
    # n=15, A present 6, B present 9: S = 6*9 + 9*6 = 108; kappa = (15*4 - 108)/(225 - 108)
    assert x.cohen_kappa.value == pytest.approx(-48 / 117, abs=1e-15)
    # 30 values, 15 present; disagreement 2*11; D_e sum = 900 - 225 - 225
    assert x.krippendorff_alpha.value == pytest.approx(1 - 29 * 22 / 450, abs=1e-15)
    # Y: A alone on 2 of 15 characters -> kappa 0, alpha = 1 - 29*4/112
    assert (y.both, y.only, y.neither) == (0, {"A": 2, "B": 0}, 13)
    assert y.cohen_kappa == Stat(0.0)
    assert y.krippendorff_alpha.value == pytest.approx(-1 / 28, abs=1e-15)
    # pooled: 30 items, both 2, A only 6, B only 7, neither 15
    o = report.overall
    assert (o.items, o.both, o.only, o.neither) == (30, 2, {"A": 6, "B": 7}, 15)
    assert o.percent_agreement.value == pytest.approx(17 / 30, abs=1e-15)
    assert o.cohen_kappa.value == pytest.approx((30 * 17 - 534) / (900 - 534), abs=1e-15)
    assert o.krippendorff_alpha.value == pytest.approx(1 - 59 * 26 / 1462, abs=1e-15)
    assert o.mean_cohen_kappa.value == pytest.approx(-24 / 117, abs=1e-15)
    assert report.units_compared == 2 and report.unit == "character"


def test_response_mode_ignores_offsets():
    report = compute_agreement(HAND_UNITS, ["A", "B"])
    x, y = report.codes
    assert (x.units, x.both, x.only, x.neither) == (2, 1, {"A": 0, "B": 1}, 0)
    assert (y.both, y.only, y.neither) == (0, {"A": 1, "B": 0}, 1)


@pytest.mark.parametrize("seed", range(6))
def test_character_mode_matches_per_character_expansion(seed):
    rng = random.Random(seed)
    coders = ["A", "B", "C"][: rng.randint(2, 3)]
    units, lengths = {}, {}
    per_char = {}  # code -> coders x characters (all units concatenated)
    offset = 0
    for u in range(rng.randint(1, 6)):
        length = rng.randint(0, 60)
        uid = f"u{u}"
        lengths[uid] = length
        units[uid] = {}
        for coder in coders:
            for _ in range(rng.randint(0, 5)):
                code = rng.choice(["X", "Y", "Z"])
                start = rng.randint(0, length)
                end = rng.randint(start, min(length, start + rng.randint(0, 30)))
                units[uid].setdefault(coder, []).append((code, start, end))
                rows = per_char.setdefault(code, {c: {} for c in coders})
                for ch in range(offset + start, offset + end):
                    rows[coder][ch] = 1
        offset += length
    report = compute_agreement(units, coders, unit="character", lengths=lengths)
    assert [e.code for e in report.codes] == sorted(per_char)
    for e in report.codes:
        rows = [[per_char[e.code][c].get(i, 0) for i in range(offset)] for c in coders]
        assert e.units == offset
        assert e.percent_agreement == percent_agreement(rows)
        assert_close(e.krippendorff_alpha, krippendorff_alpha_nominal(rows).value)
        if len(coders) == 2:
            assert_close(e.cohen_kappa, cohen_kappa(*rows).value)


# --------------------------------------------------------------------------
# Output shape
# --------------------------------------------------------------------------


TODAYS_CODE_KEYS = {"code", "units", "both", "only", "neither", "percent_agreement", "cohen_kappa",
                    "krippendorff_alpha", "undefined_reason"}
NEW_CODE_KEYS = {"units_pairable", "prevalence", "fleiss_kappa", "scott_pi", "gwet_ac1", "brennan_prediger",
                 "mean_pairwise_cohen_kappa", "pairwise_cohen_kappa", "kappa_paradox", "intervals", "overlap",
                 "cohen_kappa_mean_over_answers", "cohen_kappa_length_weighted_over_answers", "undefined_reasons"}


def test_report_to_dict_shape():
    report = compute_agreement(HAND_UNITS, ["A", "B"], units_excluded=3)
    d = report.to_dict()
    # today's keys, unchanged, and the new ones
    assert set(d) == {"unit", "coders", "units_compared", "units_excluded", "overall", "codes",
                      "units_pairable", "units_by_pair", "bootstrap", "overlap_threshold", "kappa_paradox_rule"}
    assert set(d["overall"]) >= {"percent_agreement", "cohen_kappa", "krippendorff_alpha",
                                 "mean_cohen_kappa", "mean_krippendorff_alpha", "undefined_reasons",
                                 "codes_undefined", "items", "both", "only", "neither"}
    assert set(d["overall"]) >= NEW_CODE_KEYS - {"undefined_reasons", "cohen_kappa_mean_over_answers",
                                                 "cohen_kappa_length_weighted_over_answers"} | {"means", "segment_kappa"}
    for code in d["codes"]:
        assert set(code) == TODAYS_CODE_KEYS | NEW_CODE_KEYS
        assert set(code["only"]) == {"A", "B"}
        assert set(code["intervals"]) == {"krippendorff_alpha", "cohen_kappa"}
    assert [c["code"] for c in d["codes"]] == ["X", "Y"]
    assert (d["unit"], d["coders"], d["units_compared"], d["units_excluded"]) == ("answer", ["A", "B"], 2, 3)
    assert d["bootstrap"] == {"resamples": 1000, "seed": 17, "level": 0.95,
                              "method": "percentile; answers resampled with replacement"}
    assert json.loads(json.dumps(d)) == d


def test_csv_rows():
    report = compute_agreement(HAND_UNITS, ["A", "B"], unit="character", lengths=HAND_LENGTHS)
    rows = to_csv_rows(report)
    header = rows[0]
    assert header[:6] == ["code", "units", "both", "only_A", "only_B", "neither"]
    assert {"percent_agreement", "cohen_kappa", "krippendorff_alpha", "undefined_reason"} <= set(header)
    assert [r[0] for r in rows[1:]] == ["X", "Y", "(overall)"]
    assert all(len(r) == len(header) for r in rows)
    last = dict(zip(header, rows[-1]))
    assert last["units"] == 30 and last["cohen_kappa"] == report.overall.cohen_kappa.value
    assert last["mean_cohen_kappa"] == report.overall.mean_cohen_kappa.value
    first = dict(zip(header, rows[1]))
    assert (first["units"], first["only_B"], first["krippendorff_alpha"]) == (15, 7, report.codes[0].krippendorff_alpha.value)


# --------------------------------------------------------------------------
# Several coders, missing data (issue 17, item 1)
# --------------------------------------------------------------------------


def random_missing(rng, coders, n_units, n_codes):
    """Random answers where each coder finished some: (units, done, values[code] = coders x
    units with None where that coder did not finish the unit)."""
    units, done = {}, {}
    values: dict[str, list[list]] = {}
    rates = {f"code{k}": rng.choice([0.02, 0.1, 0.4, 0.8]) for k in range(n_codes)}
    agreement = rng.random()
    finish = rng.choice([0.5, 0.8, 1.0])
    for u in range(n_units):
        uid = f"u{u}"
        who = [c for c in coders if rng.random() < finish]
        done[uid] = who
        units[uid] = {}
        for code, rate in rates.items():
            base = rng.random() < rate
            rows = values.setdefault(code, [[None] * n_units for _ in coders])
            for ci, coder in enumerate(coders):
                present = base if rng.random() < agreement else rng.random() < rate
                if present:  # codings of an unfinished answer are there, and must not count
                    units[uid].setdefault(coder, []).append((code, 0, 3))
                if coder in who:
                    rows[ci][u] = int(present)
    return units, done, values


@pytest.mark.parametrize("seed", range(10))
def test_many_coders_with_missing_data_against_reference_libraries(seed):
    """Alpha against `krippendorff` (missing values as NaN), each pair's kappa against
    scikit-learn on the units both finished, the rest against the general coefficients on the
    units every coder finished."""
    rng = random.Random(1000 + seed)
    coders = [f"c{i}" for i in range(rng.choice([2, 3, 3, 4, 5]))]
    m = len(coders)
    units, done, values = random_missing(rng, coders, rng.randint(5, 60), rng.randint(1, 5))
    report = compute_agreement(units, coders, done=done, intervals=False)
    pairable = [u for u in range(len(units)) if len(done[f"u{u}"]) >= 2]
    complete = [u for u in range(len(units)) if len(done[f"u{u}"]) == m]
    assert (report.units_pairable, report.units_compared) == (len(pairable), len(complete))
    for (a, b), n in report.units_by_pair.items():
        assert n == sum(a in done[f"u{u}"] and b in done[f"u{u}"] for u in pairable)
    for e in report.codes:
        rows = values[e.code]
        used = [[row[u] for u in pairable] for row in rows]
        assert_close(e.krippendorff_alpha, ref_alpha(used))
        assert e.units_pairable == len(pairable)
        assert len(e.pairwise) == m * (m - 1) // 2
        for pair in e.pairwise:
            i, j = coders.index(pair.coders[0]), coders.index(pair.coders[1])
            assert_close(pair.cohen_kappa, ref_kappa(used[i], used[j]))
            assert pair.units == sum(x is not None and y is not None for x, y in zip(used[i], used[j]))
        full = [[row[u] for u in complete] for row in rows]
        assert e.units == len(complete)
        if not complete:
            assert e.fleiss_kappa.reason == "no unit finished by every compared coder"
            assert e.percent_agreement.value is None and e.gwet_ac1.value is None
            continue
        assert e.percent_agreement == percent_agreement(full)
        for mine, general in ((e.fleiss_kappa, fleiss_kappa(full, categories=[0, 1])),
                              (e.gwet_ac1, gwet_ac1(full, categories=[0, 1])),
                              (e.brennan_prediger, brennan_prediger(full, categories=[0, 1]))):
            assert (mine.value is None) == (general.value is None), (mine, general)
            if mine.value is not None:
                assert mine.value == pytest.approx(general.value, abs=1e-12)
        assert e.prevalence.value == pytest.approx(sum(v for row in full for v in row) / (m * len(complete)))
        defined = [p.cohen_kappa.value for p in e.pairwise if p.cohen_kappa.value is not None]
        assert e.mean_pairwise_cohen_kappa.value == (pytest.approx(sum(defined) / len(defined)) if defined else None)
        if m == 2:
            assert e.scott_pi == e.fleiss_kappa and e.cohen_kappa == e.pairwise[0].cohen_kappa
        else:
            assert e.cohen_kappa.reason == KAPPA_NEEDS_TWO
            assert e.scott_pi.reason.startswith("Scott's pi is for two coders")


def test_unfinished_answers_are_missing_not_absent():
    """cy did not finish u2: there cy's coding is not read, and u2 still counts for ann and bea
    (alpha, their pair), but not for what needs every coder."""
    units = {"u1": {"ann": [("X", 0, 1)], "bea": [("X", 0, 1)], "cy": [("X", 0, 1)]},
             "u2": {"ann": [("X", 0, 1)], "bea": [], "cy": [("X", 0, 1)]},
             "u3": {"ann": [], "bea": [], "cy": []},
             "u4": {"cy": [("X", 0, 1)]}}
    done = {"u1": ["ann", "bea", "cy"], "u2": ["ann", "bea"], "u3": ["ann", "bea", "cy"], "u4": ["cy"]}
    report = compute_agreement(units, ["ann", "bea", "cy"], done=done, intervals=False)
    (x,) = report.codes
    assert (report.units_compared, report.units_pairable) == (2, 3)  # u4: one coder only
    assert (x.units, x.both, x.neither, x.units_pairable) == (2, 1, 1, 3)
    assert x.only == {"ann": 0, "bea": 0, "cy": 0}
    pairs = {p.coders: p for p in x.pairwise}
    assert (pairs[("ann", "bea")].units, pairs[("ann", "bea")].only) == (3, (1, 0))
    assert pairs[("ann", "cy")].units == 2  # u2 not finished by cy
    assert x.percent_agreement == Stat(1.0)  # u1 and u3, both unanimous
    assert_close(x.krippendorff_alpha, ref_alpha([[1, 1, 0], [1, 0, 0], [1, None, 0]]))


# --------------------------------------------------------------------------
# Hand-worked fixtures: AC1, Brennan-Prediger, Scott's pi (issue 17, item 2)
# --------------------------------------------------------------------------


def code_units(present: dict[str, set[int]], n: int, code: str = "X") -> dict:
    return {f"u{u}": {coder: [(code, 0, 1)] for coder, us in present.items() if u in us} for u in range(1, n + 1)}


def test_two_coders_hand_worked():
    """Ten answers. A applies the code to u1-u4, B to u1-u3, u5, u6:
    both 3 (u1-u3), only A 1 (u4), only B 2 (u5, u6), neither 4.

    p_o = (3 + 4) / 10 = 0.7
    Cohen: p_e = (4/10)(5/10) + (6/10)(5/10) = 0.5        -> kappa = (0.7 - 0.5) / 0.5 = 0.4
    prevalence pi = (4 + 5) / 20 = 0.45
    Scott: p_e = 0.45^2 + 0.55^2 = 0.505                 -> pi = 0.195 / 0.495 = 13/33
    AC1:  p_e = 2 (0.45)(0.55) = 0.495                   -> AC1 = 0.205 / 0.505 = 41/101
    Brennan-Prediger: p_e = 1/2                          -> (0.7 - 0.5) / 0.5 = 0.4
    alpha: 20 values, 9 present, 11 absent; 3 mixed units, each o[p][a] = o[a][p] = 1:
           1 - 19 * 6 / (2 * 9 * 11) = 14/33
    """
    report = compute_agreement(code_units({"A": {1, 2, 3, 4}, "B": {1, 2, 3, 5, 6}}, 10), ["A", "B"],
                               intervals=False)
    (x,) = report.codes
    assert (x.both, x.only, x.neither) == (3, {"A": 1, "B": 2}, 4)
    assert x.percent_agreement.value == pytest.approx(0.7, abs=1e-15)
    assert x.cohen_kappa.value == pytest.approx(0.4, abs=1e-15)
    assert x.prevalence.value == pytest.approx(0.45, abs=1e-15)
    assert x.scott_pi.value == pytest.approx(13 / 33, abs=1e-15)
    assert x.fleiss_kappa == x.scott_pi
    assert x.gwet_ac1.value == pytest.approx(41 / 101, abs=1e-15)
    assert x.brennan_prediger.value == pytest.approx(0.4, abs=1e-15)
    assert x.krippendorff_alpha.value == pytest.approx(14 / 33, abs=1e-15)
    assert x.mean_pairwise_cohen_kappa == x.cohen_kappa
    assert not x.kappa_paradox


def three_coder_units(cy_done_u6: bool) -> tuple[dict, dict]:
    present = {"A": {1, 2, 3}, "B": {1, 2, 3}, "C": {1, 2}}
    units = code_units(present, 6)
    done = {u: ["A", "B", "C"] for u in units}
    if not cy_done_u6:
        done["u6"] = ["A", "B"]
    return units, done


def test_three_coders_hand_worked():
    """Six answers, every coder finished each. Coders present per answer: u1 ABC, u2 ABC,
    u3 AB, u4-u6 none.

    agreeing pairs per answer [k(k-1) + (3-k)(2-k)] / 6: 1, 1, 1/3, 1, 1, 1 -> P = 16/18 = 8/9
    prevalence pi = (3 + 3 + 2) / 18 = 4/9
    Fleiss: p_e = (4/9)^2 + (5/9)^2 = 41/81         -> (72/81 - 41/81) / (40/81) = 31/40
    AC1:  p_e = 2 (4/9)(5/9) = 40/81                -> (72/81 - 40/81) / (41/81) = 32/41
    Brennan-Prediger: (8/9 - 1/2) / (1/2)           = 7/9
    percent agreement (all three the same): u1, u2, u4, u5, u6 = 5/6
    alpha: 18 values, 8 present, 10 absent; u3 adds k(r-k)/(r-1) = 2*1/2 = 1 to o[p][a]:
           1 - 17 * 2 / (2 * 8 * 10) = 126/160
    pairs: A-B agree everywhere: 1; A-C: p_o 5/6, p_e (3/6)(2/6) + (3/6)(4/6) = 1/2 -> 2/3;
           B-C the same: mean (1 + 2/3 + 2/3) / 3 = 7/9
    """
    units, done = three_coder_units(cy_done_u6=True)
    (x,) = compute_agreement(units, ["A", "B", "C"], done=done, intervals=False).codes
    assert x.percent_agreement.value == pytest.approx(5 / 6, abs=1e-15)
    assert x.prevalence.value == pytest.approx(4 / 9, abs=1e-15)
    assert x.fleiss_kappa.value == pytest.approx(31 / 40, abs=1e-15)
    assert x.gwet_ac1.value == pytest.approx(32 / 41, abs=1e-15)
    assert x.brennan_prediger.value == pytest.approx(7 / 9, abs=1e-15)
    assert x.krippendorff_alpha.value == pytest.approx(126 / 160, abs=1e-15)
    assert [p.cohen_kappa.value for p in x.pairwise] == pytest.approx([1, 2 / 3, 2 / 3], abs=1e-15)
    assert x.mean_pairwise_cohen_kappa.value == pytest.approx(7 / 9, abs=1e-15)
    assert x.cohen_kappa.reason == KAPPA_NEEDS_TWO and x.scott_pi.value is None


def test_three_coders_hand_worked_with_missing_answer():
    """The same, but C did not finish u6. Finished by all: u1-u5.

    P = (1 + 1 + 1/3 + 1 + 1) / 5 = 13/15; prevalence 8/15; percent agreement 4/5
    Fleiss: p_e = (8/15)^2 + (7/15)^2 = 113/225    -> (195 - 113) / (225 - 113) = 41/56
    alpha: u6 adds two absent values: 17 values, 8 present, 9 absent, o[p][a] = 1:
           1 - 16 * 2 / (2 * 8 * 9) = 7/9
    pairs: A-B on all six answers: 1; A-C on u1-u5: p_o 4/5, p_e (3/5)(2/5) + (2/5)(3/5) =
           12/25 -> 8/13; B-C the same; mean (1 + 16/13) / 3 = 29/39
    """
    units, done = three_coder_units(cy_done_u6=False)
    report = compute_agreement(units, ["A", "B", "C"], done=done, intervals=False)
    (x,) = report.codes
    assert (report.units_compared, report.units_pairable, x.units, x.units_pairable) == (5, 6, 5, 6)
    assert x.percent_agreement.value == pytest.approx(4 / 5, abs=1e-15)
    assert x.fleiss_kappa.value == pytest.approx(41 / 56, abs=1e-15)
    assert x.krippendorff_alpha.value == pytest.approx(7 / 9, abs=1e-15)
    assert [p.units for p in x.pairwise] == [6, 5, 5]
    assert x.mean_pairwise_cohen_kappa.value == pytest.approx(29 / 39, abs=1e-15)


# --------------------------------------------------------------------------
# The kappa paradox flag
# --------------------------------------------------------------------------


def table_units(both, only_a, only_b, neither, code="X"):
    units, u = {}, 0
    for count, who in ((both, ("A", "B")), (only_a, ("A",)), (only_b, ("B",)), (neither, ())):
        for _ in range(count):
            units[f"u{u}"] = {c: [(code, 0, 1)] for c in who}
            u += 1
    return units


@pytest.mark.parametrize("name,flagged", [("feinstein_cicchetti_1990_paradox_skewed", True),
                                          ("feinstein_cicchetti_1990_paradox_balanced", False)])
def test_kappa_paradox_flag_on_feinstein_and_cicchetti(name, flagged):
    """The same 85% agreement: kappa .32 when 'yes' is 87.5% of decisions (flagged, AC1 .81
    beside it), .70 when balanced."""
    (a, b), (c, d) = CASES[name]["data"]["table"]
    (x,) = compute_agreement(table_units(a, b, c, d), ["A", "B"], intervals=False).codes
    assert x.percent_agreement.value == pytest.approx(0.85)
    assert x.kappa_paradox is flagged
    if flagged:
        assert x.prevalence.value == pytest.approx(0.875)
        assert x.gwet_ac1.value == pytest.approx(0.808, abs=5e-4)
        assert x.to_dict()["kappa_paradox"] is True


@pytest.mark.parametrize("both,only_a,only_b,neither,flagged", [
    # 100 answers each. kappa = (p_o - p_e) / (1 - p_e); prevalence = (2 both + only) / 200
    (0, 3, 2, 95, True),     # p_o .95, p_e .9512, kappa -0.025, prevalence .025: rare
    (95, 2, 3, 0, True),     # the mirror image: prevalence .975, nearly everywhere
    (1, 9, 11, 79, True),    # p_o .80 (the threshold is inclusive), kappa -0.020, prevalence .11
    (3, 8, 8, 81, True),     # p_o .84, p_e .8042, kappa 0.183, prevalence .11
    (0, 10, 11, 79, False),  # p_o .79: below 80% agreement
    (6, 10, 10, 74, False),  # p_o .80, kappa 0.256, but prevalence .16 is not extreme
    (5, 5, 5, 85, False),    # p_o .90, p_e .82, kappa 0.444: not low
])
def test_kappa_paradox_thresholds(both, only_a, only_b, neither, flagged):
    (x,) = compute_agreement(table_units(both, only_a, only_b, neither), ["A", "B"], intervals=False).codes
    assert x.kappa_paradox is flagged, (x.cohen_kappa, x.percent_agreement, x.prevalence)


def test_kappa_paradox_uses_fleiss_with_three_coders():
    units = {f"u{u}": ({"A": [("X", 0, 1)]} if u == 0 else {}) for u in range(40)}
    (x,) = compute_agreement(units, ["A", "B", "C"], intervals=False).codes
    assert x.kappa is x.fleiss_kappa and x.kappa_paradox  # -0.01 with 39 of 40 unanimous


# --------------------------------------------------------------------------
# Extract overlap and segments (issue 17, item 3)
# --------------------------------------------------------------------------


def test_extract_overlap_hand_worked():
    """u1: A codes X on [0, 10), B on [5, 15): J = 5/15, MASI = J * 1/3 (they overlap);
    u2: A on [0, 10), B on [0, 5): J = 5/10, MASI = J * 2/3 (B's inside A's);
    u3: only A: no pair (presence, not overlap). Means: J 5/12, MASI (1/9 + 1/3)/2 = 2/9.
    Segments at 90%: A's u1 and u2 and u3 segments, B's u1 and u2: none matches -> 0 of 5."""
    units = {"u1": {"A": [("X", 0, 10)], "B": [("X", 5, 15)]},
             "u2": {"A": [("X", 0, 10)], "B": [("X", 0, 5)]},
             "u3": {"A": [("X", 2, 4)]}}
    for unit in ("answer", "character"):
        report = compute_agreement(units, ["A", "B"], unit=unit, lengths={u: 20 for u in units}, intervals=False)
        o = report.codes[0].overlap
        assert o.pairs == 2
        assert o.jaccard.value == pytest.approx(5 / 12, abs=1e-15)
        assert o.masi.value == pytest.approx(2 / 9, abs=1e-15)
        assert (o.segments_checked, o.segments_matched) == (5, 0)
        assert o.segment_agreement == Stat(0.0)
    lower = compute_agreement(units, ["A", "B"], overlap_threshold=1 / 3, intervals=False).codes[0].overlap
    assert (lower.segments_checked, lower.segments_matched) == (5, 4)  # u1 and u2 both ways


def test_overlap_undefined_without_shared_extracts():
    (x,) = compute_agreement({"u1": {"A": [("X", 0, 3)]}, "u2": {"B": [("X", 1, 2)]}}, ["A", "B"],
                             intervals=False).codes
    assert x.overlap.jaccard == Stat(None, "no answer where two coders both applied the code")
    assert x.undefined_reasons["overlap.jaccard"] == "no answer where two coders both applied the code"
    assert x.to_dict()["overlap"]["jaccard"] is None


@pytest.mark.parametrize("seed", range(6))
def test_segment_counts_match_a_check_of_every_segment(seed):
    """Answers as units derive most segment checks from the counts; characters check every
    segment; both must agree with checking every segment by hand (missing coders included)."""
    rng = random.Random(seed)
    coders = ["A", "B", "C"][: rng.randint(2, 3)]
    units, lengths, done = {}, {}, {}
    for u in range(rng.randint(1, 25)):
        uid = f"u{u}"
        lengths[uid] = length = rng.randint(0, 40)
        done[uid] = [c for c in coders if rng.random() < 0.85]
        units[uid] = {}
        for coder in coders:
            for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
                start = rng.randint(0, length)
                end = rng.choice([start, rng.randint(start, length)])
                units[uid].setdefault(coder, []).append((rng.choice("XYZ"), start, end))
    expected: dict[str, list[int]] = {}
    for uid, by_coder in units.items():
        who = [c for c in coders if c in done[uid]]
        if len(who) < 2:
            continue
        extracts = {c: {} for c in who}
        for c in who:
            for code in {k for k, _, _ in by_coder.get(c, [])}:
                extracts[c][code] = merge((s, e) for k, s, e in by_coder[c] if k == code)
        for check in check_segments(extracts, who):
            counts = expected.setdefault(check.code, [0, 0])
            counts[0] += 1
            counts[1] += check.match
    for unit in ("answer", "character"):
        report = compute_agreement(units, coders, unit=unit, lengths=lengths, done=done, intervals=False)
        for e in report.codes:
            assert [e.overlap.segments_checked, e.overlap.segments_matched] == expected.get(e.code, [0, 0]), unit


# --------------------------------------------------------------------------
# Bootstrap intervals (issue 17, item 4)
# --------------------------------------------------------------------------


def brute_force_interval(units, coders, stat, resamples, seed, **kw):
    """Resample the answers themselves and recompute the report: the slow way."""
    np = pytest.importorskip("numpy")
    rng = np.random.default_rng(seed)
    ids = list(units)
    values = []
    for _ in range(resamples):
        pick = rng.integers(0, len(ids), len(ids))
        sample = {f"r{k}": units[ids[i]] for k, i in enumerate(pick)}
        extra = {}
        if "lengths" in kw:
            extra["lengths"] = {f"r{k}": kw["lengths"][ids[i]] for k, i in enumerate(pick)}
        if "done" in kw:
            extra["done"] = {f"r{k}": kw["done"][ids[i]] for k, i in enumerate(pick)}
        report = compute_agreement(sample, coders, unit=kw.get("unit", "answer"), intervals=False, **extra)
        entry = report.codes[0] if kw.get("code") else report.overall.pooled
        values.append(getattr(entry, stat).value)
    return np.quantile(values, [0.025, 0.975])


@pytest.mark.parametrize("case", ["two coders", "three coders, missing", "characters", "pooled"])
def test_bootstrap_intervals_match_resampling_the_answers(case):
    """The fast sampler gives the intervals of really resampling answers (within Monte Carlo
    error: 4000 resamples both ways)."""
    rng = random.Random(7)
    kw: dict = {}
    if case == "two coders":
        units, coders, stat, kw["code"] = table_units(25, 10, 8, 77), ["A", "B"], "cohen_kappa", True
    elif case == "three coders, missing":
        coders, stat, kw["code"] = ["A", "B", "C"], "fleiss_kappa", True
        units, kw["done"] = {}, {}
        for u in range(150):
            base = rng.random() < 0.3
            units[f"u{u}"] = {c: [("X", 0, 1)] for c in coders if (base if rng.random() < 0.8 else rng.random() < 0.3)}
            kw["done"][f"u{u}"] = ["A", "B", "C"] if u % 3 else ["A", "B"]
    elif case == "characters":
        coders, stat, kw["code"], kw["unit"] = ["A", "B"], "cohen_kappa", True, "character"
        units, kw["lengths"] = {}, {}
        for u in range(80):
            length = rng.randint(5, 60)
            kw["lengths"][f"u{u}"] = length
            s = rng.randint(0, length - 1)
            e = rng.randint(s + 1, length)
            units[f"u{u}"] = {"A": [("X", s, e)], "B": [("X", max(0, s - rng.randint(0, 5)), e)]} \
                if rng.random() < 0.5 else {"A": [("X", 0, rng.randint(0, length))]}
    else:
        coders, stat = ["A", "B"], "krippendorff_alpha"
        units = {}
        for u in range(120):
            units[f"u{u}"] = {c: [(code, 0, 1) for code in "XYZ" if rng.random() < (0.5 if code == "X" else 0.2)]
                              for c in coders}
    report = compute_agreement(units, coders, unit=kw.get("unit", "answer"), lengths=kw.get("lengths"),
                               done=kw.get("done"), resamples=4000)
    entry = report.codes[0] if kw.get("code") else report.overall.pooled
    interval = entry.intervals[stat]
    low, high = brute_force_interval(units, coders, stat, 4000, 99, **kw)
    assert interval.low == pytest.approx(low, abs=0.02) and interval.high == pytest.approx(high, abs=0.02)
    assert interval.low < getattr(entry, stat).value < interval.high


def test_intervals_are_seeded():
    units = table_units(25, 10, 8, 77)
    a = compute_agreement(units, ["A", "B"]).to_dict()
    assert a == compute_agreement(dict(reversed(units.items())), ["A", "B"]).to_dict()  # order does not matter
    other = compute_agreement(units, ["A", "B"], seed=18).to_dict()
    assert a["codes"][0]["intervals"] != other["codes"][0]["intervals"]
    assert a["codes"][0]["cohen_kappa"] == other["codes"][0]["cohen_kappa"]


def test_character_intervals_resample_answers_not_characters():
    """One answer: every resample is that answer, so the interval is the figure itself (drawing
    characters would give a spread that is not there)."""
    units = {"u1": {"A": [("X", 0, 50)], "B": [("X", 20, 80)]}}
    (x,) = compute_agreement(units, ["A", "B"], unit="character", lengths={"u1": 100}).codes
    for name in ("cohen_kappa", "krippendorff_alpha"):
        assert x.intervals[name].low == pytest.approx(x.stat(name).value, abs=1e-12)
        assert x.intervals[name].high == pytest.approx(x.stat(name).value, abs=1e-12)


def test_intervals_of_a_rare_code_are_undefined_with_the_reason():
    (x,) = compute_agreement(table_units(1, 1, 0, 98), ["A", "B"]).codes
    assert x.cohen_kappa.value is not None
    iv = x.intervals["cohen_kappa"]
    assert iv.low is None and iv.high is None
    assert re.fullmatch(r"undefined in \d+ of 1000 resamples \(too few answers where the decisions vary\)", iv.reason)
    d = x.to_dict()
    assert d["intervals"]["cohen_kappa"] == {"low": None, "high": None, "reason": iv.reason}
    assert d["undefined_reasons"]["cohen_kappa_interval"] == iv.reason


def test_intervals_follow_the_figure_and_can_be_left_out():
    units = {f"u{i}": {"A": [("X", 0, 1)], "B": [("X", 0, 1)]} for i in range(5)}
    (x,) = compute_agreement(units, ["A", "B"]).codes
    assert x.intervals["cohen_kappa"].reason == "no variation: every decision was 'present'"
    (y,) = compute_agreement(table_units(25, 10, 8, 77), ["A", "B"], intervals=False).codes
    assert y.intervals["cohen_kappa"] == Interval(None, None, "intervals were not asked for")
    assert compute_agreement(table_units(25, 10, 8, 77), ["A", "B"], intervals=False).to_dict()["bootstrap"] is None
    three = compute_agreement(three_coder_units(True)[0], ["A", "B", "C"]).codes[0]
    assert set(three.intervals) == {"krippendorff_alpha", "fleiss_kappa"}


def test_code_resamples_are_exact_multinomial_draws():
    """Each code's resampled counts keep the number of answers (and, with missing data, the
    answers finished by each number of coders), and average to the observed counts."""
    np = pytest.importorskip("numpy")
    from tuiqa import bootstrap as B

    space = B.TypeSpace(3)
    # types (3,0..3) then (2,0..2): 40 answers finished by all three, 20 by two
    counts = np.array([[30, 5, 3, 2, 15, 4, 1], [36, 0, 0, 4, 19, 0, 1], [10, 10, 10, 10, 20, 0, 0]])
    draws = []

    def spy(space_, chunks, width, resamples):
        for x in chunks:
            draws.append(x.copy())
        return [{} for _ in range(width)]

    original = B._collect
    B._collect = spy
    try:
        B.code_intervals(counts, space, resamples=6000, seed=3)
    finally:
        B._collect = original
    x = np.concatenate(draws, axis=2)  # (codes, types, resamples)
    assert (x.sum(axis=1) == 60).all()
    by_all = x[:, :4, :].sum(axis=1)
    assert (by_all == by_all[0]).all()  # the same group sizes for every code in a resample
    mean = x.mean(axis=2)
    assert np.abs(mean - counts).max() < 0.35
    p = counts / 60
    var = x.var(axis=2)
    assert np.allclose(var, 60 * p * (1 - p), rtol=0.1, atol=0.05)


# --------------------------------------------------------------------------
# A project: several coders, groups, the view's rows, the command line (items 1, 5, 6)
# --------------------------------------------------------------------------


def three_coders(project) -> list[str]:
    """ann, bea and cy code the first 12 answers; cy finishes only the first 8."""
    from tuiqa.session import Session

    rids = sorted(project.responses)[:12]
    hope, stigma = project.code_by_name("hope").id, project.code_by_name("stigma").id
    for k, who in enumerate(("ann", "bea", "cy")):
        s = Session(project, who)
        for i, rid in enumerate(rids):
            text = project.responses[rid].text
            if (i + k) % 3:
                s.apply_codes(rid, 0, len(text), [hope])
            if i % 4 == 0 or (who == "cy" and i == 5):
                s.apply_codes(rid, 0, max(1, len(text) // 2), [stigma])
            if who != "cy" or i < 8:
                s.set_done(rid, True)
    return rids


def test_project_agreement_with_three_coders_and_missing_answers(project):
    from tuiqa import coders as C

    rids = three_coders(project)
    report = C.project_agreement(project, ["ann", "bea", "cy"], "answer")
    assert (report.units_compared, report.units_pairable) == (8, 12)
    assert report.units_excluded == len(project.responses) - 8
    assert report.units_by_pair == {("ann", "bea"): 12, ("ann", "cy"): 8, ("bea", "cy"): 8}
    hope = code_entry(report, "hope")
    assert hope.units == 8 and hope.units_pairable == 12
    assert hope.krippendorff_alpha.value is not None and hope.fleiss_kappa.value is not None
    assert hope.cohen_kappa.reason == KAPPA_NEEDS_TWO
    # the same as the general coefficients on the same decisions
    rows = [[int(any(c.code_id == project.code_by_name("hope").id for c in project.codings_for(r, who)))
             if r in project.done.get(who, ()) else None for r in rids] for who in ("ann", "bea", "cy")]
    assert_close(hope.krippendorff_alpha, ref_alpha(rows))
    assert hope.fleiss_kappa.value == pytest.approx(fleiss_kappa([row[:8] for row in rows]).value, abs=1e-12)
    two = C.project_agreement(project, ["ann", "bea"])
    assert two.unit == "response" and two.units_compared == 12  # the older name, kept for the screen


def test_agreement_by_question_and_by_attribute(project):
    from tuiqa import coders as C
    from tuiqa.project import ChangeError

    three_coders(project)
    whole = C.project_agreement(project, ["ann", "bea", "cy"], "answer", intervals=False)
    by_q = C.agreement_by(project, ["ann", "bea", "cy"], "question", "answer", intervals=False)
    keys = [q.key for q in project.questions_in_order()]
    assert [v for v, _, _ in by_q] == [k for k in keys if k in {v for v, _, _ in by_q}]
    assert all(label.startswith(f"{v}: ") for v, label, _ in by_q)
    assert sum(r.units_pairable for _, _, r in by_q) == whole.units_pairable
    for name in ("hope", "stigma"):
        parts = [c for _, _, r in by_q for c in r.codes if c.code == name]
        assert sum(c.both for c in parts) == code_entry(whole, name).both
        # a group where nobody used the code does not list it: count what was not "neither"
        assert sum(c.units - c.neither for c in parts) == code_entry(whole, name).units - code_entry(whole, name).neither
    assert sum(r.units_compared for _, _, r in by_q) == whole.units_compared
    by_setting = C.agreement_by(project, ["ann", "bea", "cy"], "Setting", "answer", intervals=False)
    values = [v for v, _, _ in by_setting]
    assert values == sorted(values, key=lambda v: (v == "(blank)", v.casefold()))
    assert sum(r.units_compared for _, _, r in by_setting) == whole.units_compared
    with pytest.raises(ChangeError, match="no attribute 'Nope' to group by; choose one of: question, "):
        C.agreement_by(project, ["ann", "bea"], "Nope")


def test_agreement_table_gives_the_view_every_figure(project):
    from tuiqa import coders as C

    three_coders(project)
    table = C.agreement_table(project, ["ann", "bea", "cy"], "answer", by="Setting", resamples=200)
    assert [c.key for c in table.columns][:4] == ["percent_agreement", "fleiss_kappa",
                                                 "mean_pairwise_cohen_kappa", "krippendorff_alpha"]
    assert "cohen_kappa" not in {c.key for c in table.columns}
    assert table.whole.value is None and len(table.groups) >= 2
    row = next(r for r in table.whole.rows if r.code == "hope")
    assert row.stats["fleiss_kappa"] == code_entry(table.whole.report, "hope").fleiss_kappa
    assert set(row.intervals) == {"krippendorff_alpha", "fleiss_kappa"}
    assert row.intervals["krippendorff_alpha"].low is not None
    assert row.units_pairable == 12 and set(row.only) == {"ann", "bea", "cy"}
    assert len(row.pairwise) == 3
    pooled = table.whole.pooled
    assert pooled.pooled and pooled.code == "(overall)"
    assert pooled.means["krippendorff_alpha"] == table.whole.report.overall.mean_krippendorff_alpha
    assert pooled.stats["segment_agreement"].value is not None
    for k in ("code", "fleiss_kappa", "gwet_ac1"):
        ordered = sorted(table.whole.rows, key=lambda r: r.sort_key(k))
        assert len(ordered) == len(table.whole.rows)
    two = C.agreement_table(project, ["ann", "bea"], intervals=False)
    assert {"cohen_kappa", "scott_pi"} <= {c.key for c in two.columns}
    assert two.whole.rows[0].intervals["cohen_kappa"].reason in ("intervals were not asked for",
                                                                 two.whole.rows[0].stats["cohen_kappa"].reason)
    flagged = [r for g in table.groups for r in g.rows if r.kappa_paradox]
    assert all(r.flags and r.flags[0].startswith("kappa paradox: Fleiss' kappa") for r in flagged)


def test_view_rows_flag_the_paradox_with_ac1_beside_it(tmp_path):
    """A code one coder used once in 40 answers: flagged, with the sentence a view shows."""
    from tuiqa import coders as C
    from tuiqa.importers.survey import import_survey
    from tuiqa.project import Project
    from tuiqa.session import Session

    survey = tmp_path / "s.csv"
    survey.write_text("id,Setting,What helps recovery?\n" + "".join(
        f"P{i},Community,\"Being listened to, {i} times over, and time to think it through.\"\n" for i in range(40)),
        encoding="utf-8")
    import_survey(tmp_path / "p", survey)
    with Project.open(tmp_path / "p") as p:
        for who in ("ann", "bea"):
            s = Session(p, who)
            for k, rid in enumerate(sorted(p.responses)):
                if who == "ann" and k == 0:
                    s.create_and_apply(rid, 0, 3, "rare", "semantic")
                s.set_done(rid, True)
        table = C.agreement_table(p, ["ann", "bea"])
    (row,) = table.whole.rows
    assert row.kappa_paradox
    assert row.flags == ("kappa paradox: Cohen's kappa 0.00 although 98% of decisions agree: the code is rare "
                         "(prevalence 0.01); AC1 0.97, Brennan-Prediger 0.95",)


def test_cli_agreement_json_keeps_todays_keys_and_adds_the_new(demo, capsys):
    from .helpers import cli

    code, out, err = cli(capsys, "agreement", demo, "--coders", "lead", "kit", "--format", "json")
    assert code == 0, err
    d = json.loads(out)
    assert {"unit", "coders", "units_compared", "units_excluded", "overall", "codes",
            "units_excluded_done_by_some"} <= set(d)
    assert d["unit"] == "answer"
    for c in d["codes"]:
        assert TODAYS_CODE_KEYS | NEW_CODE_KEYS == set(c)
        for key, value in c.items():
            if value is None and key not in ("undefined_reason", "overlap"):
                assert key in c["undefined_reasons"], key  # never a null without its reason
    assert d["overall"]["intervals"]["cohen_kappa"]["low"] is not None
    code, again, _ = cli(capsys, "agreement", demo, "--coders", "lead", "kit", "--format", "json", "--unit", "response")
    assert json.loads(again) == d  # the older name of the answer unit
    code, other, _ = cli(capsys, "agreement", demo, "--coders", "lead", "kit", "--format", "json", "--seed", "5")
    assert json.loads(other)["overall"]["intervals"] != d["overall"]["intervals"]


def test_cli_agreement_is_the_same_from_run_to_run(demo):
    """Separate processes (different hash seeds, so sets iterate in other orders): the same JSON."""
    import os
    import subprocess
    import sys

    outs = []
    for hashseed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hashseed}
        done = subprocess.run([sys.executable, "-m", "tuiqa", "agreement", str(demo), "--coders", "lead", "kit",
                               "--format", "json", "--by", "Setting"], capture_output=True, text=True, env=env,
                              timeout=120)
        assert done.returncode == 0, done.stderr
        outs.append(done.stdout)
    assert outs[0] == outs[1]


def test_cli_agreement_by_question_and_attribute(demo, capsys):
    from .helpers import cli

    code, out, err = cli(capsys, "agreement", demo, "--coders", "lead", "kit", "--by", "question", "--format", "json")
    assert code == 0, err
    d = json.loads(out)
    assert d["by"]["key"] == "question"
    groups = d["by"]["groups"]
    assert groups[0]["value"] == "Q1" and groups[0]["label"].startswith("Q1: ")
    assert sum(g["units_pairable"] for g in groups) == d["units_pairable"]
    code, out, err = cli(capsys, "agreement", demo, "--coders", "lead", "kit", "--by", "Setting")
    assert code == 0, err
    assert "── Setting: Community ──" in out and "── Setting: Inpatient ──" in out
    code, out, err = cli(capsys, "agreement", demo, "--coders", "lead", "kit", "--by", "Setting", "--format", "csv")
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0][:2] == ["Setting", "code"]
    assert {r[0] for r in rows[1:]} >= {"(all)", "Community"}
    code, out, err = cli(capsys, "agreement", demo, "--coders", "lead", "kit", "--by", "Shoe size")
    assert code != 0 and "no attribute 'Shoe size' to group by; choose one of: question" in err


def test_cli_agreement_table_shows_intervals_and_flags(demo, capsys):
    from .helpers import cli

    code, out, err = cli(capsys, "agreement", demo, "--coders", "lead", "kit")
    assert code == 0, err
    assert "95% bootstrap interval (1000 resamples of the answers, seed 17)" in out
    assert re.search(r"Cohen's kappa 0\.\d{3} \[0\.\d\d, 0\.\d\d\]", out)
    assert "AC1" in out and "κ 95%" in out and "α 95%" in out
    flagged = [line for line in out.splitlines() if line.endswith("  !")]
    assert flagged and all(f"  ! {line.split('  ')[0].strip()}: kappa paradox" in out for line in flagged)
    code, out, _ = cli(capsys, "agreement", demo, "--coders", "lead", "kit", "--no-intervals")
    assert "bootstrap" not in out and "[0." not in out
    code, out, err = cli(capsys, "agreement", demo, "--coders", "lead", "kit", "--resamples", "0")
    assert code != 0 and "--resamples must be at least 1" in err


def test_nothing_finished_yet_gives_reasons_not_errors(project, capsys):
    """Before anyone has finished anything: every figure undefined, with its reason, for every
    unit kind and grouping."""
    from tuiqa import coders as C

    for unit in ("answer", "character"):
        report = C.project_agreement(project, ["ann", "bea"], unit)
        assert report.codes == () and report.units_pairable == 0
        assert report.overall.krippendorff_alpha == Stat(None, NO_UNITS)
        table = C.agreement_table(project, ["ann", "bea", "cy"], unit, by="question")
        assert table.whole.pooled.reasons["krippendorff_alpha"] == NO_UNITS
