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

import fnmatch
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


# Expected values of statistics the module does not implement: skipped, one by one.
NOT_IMPLEMENTED = {
    ("*", "alpha_ordinal"): "ordinal Krippendorff's alpha",
    ("*", "alpha_interval"): "interval Krippendorff's alpha",
    ("*", "alpha_ratio"): "ratio Krippendorff's alpha",
    ("*", "gwet_ac1*"): "Gwet's AC1",
    ("*", "per_code.*.gwet_ac1_binary_q2"): "Gwet's AC1",
    ("*", "pe_ac1"): "Gwet's AC1 chance agreement",
    ("*", "brennan_prediger*"): "Brennan-Prediger kappa",
    ("*", "bennett_S"): "Bennett's S (Brennan-Prediger)",
    ("*", "scott_pi"): "Scott's pi",
    ("*", "fleiss_kappa*"): "Fleiss' kappa",
    ("*", "pe_fleiss"): "Fleiss' kappa chance agreement",
    ("wikipedia_fleiss_kappa_10x14", "P_*"): "Fleiss' kappa P-bar / P_e",
    ("*", "conger_kappa"): "Conger's kappa",
    ("*", "bangdiwala_b"): "Bangdiwala's B",
    ("*", "cohen_kappa_ase"): "asymptotic standard error of Cohen's kappa",
    ("*", "weighted_kappa_linear"): "weighted Cohen's kappa",
    ("krippendorff2011_4coders_12units", "percent_agreement_gwet"):
        "percent agreement as mean pairwise agreement per unit (Fleiss/Gwet P-bar)",
    ("krippendorff2011_4coders_12units", "derived_nominal.percent_agreement_unit_mean_pairwise"):
        "percent agreement as mean pairwise agreement per unit (Fleiss/Gwet P-bar)",
    ("irrcac_distrib_6raters_15subjects", "percent_agreement"):
        "percent agreement as mean pairwise agreement per unit (Fleiss/Gwet P-bar)",
    ("edge_missing_units_three_coders", "percent_agreement_irrCAC_formula"):
        "percent agreement as mean pairwise agreement per unit (Fleiss/Gwet P-bar)",
    ("krippendorff2011_4coders_12units", "derived_nominal.A_o_krippendorff(1-D_o)"):
        "Krippendorff's observed agreement A_o as a percent agreement",
    ("krippendorff2011_4coders_12units", "derived_nominal.n_pairable_values"): "alpha intermediates (not exposed)",
    ("krippendorff2011_4coders_12units", "derived_nominal.pairable_units"): "alpha intermediates (not exposed)",
    ("krippendorff2011_4coders_12units", "derived_nominal.D_o"): "alpha intermediates (not exposed)",
    ("krippendorff2011_4coders_12units", "derived_nominal.D_e"): "alpha intermediates (not exposed)",
    (SURVEY, "krippendorff_alpha_masi"): "Krippendorff's alpha with the MASI distance",
    ("edge_masi_both_empty_sets", "*"): "MASI distance",
    ("maxqda_style_segment_overlap", "*"): "MAXQDA-style segment overlap agreement and its Brennan-Prediger kappa",
    ("nvivo_style_kappa_aggregation_two_sources", "simple_mean_kappa"):
        "mean kappa over sources (the module pools characters over responses)",
    ("nvivo_style_kappa_aggregation_two_sources", "size_weighted_mean_kappa"):
        "size-weighted mean kappa over sources (the module pools characters over responses)",
    ("nvivo_style_character_kappa_single_source", "derivation"): "derivation text (explanation, no value; "
        "its numbers are checked by EF_sum and cohen_kappa)",
}


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
    shared = Path(__file__).resolve().parents[2] / "shared" / "notes" / "agreement-examples.json"
    if not shared.exists():
        pytest.skip("shared/notes not beside the repository")
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


def test_report_to_dict_shape():
    report = compute_agreement(HAND_UNITS, ["A", "B"], units_excluded=3)
    d = report.to_dict()
    assert set(d) == {"unit", "coders", "units_compared", "units_excluded", "overall", "codes"}
    assert set(d["overall"]) >= {"percent_agreement", "cohen_kappa", "krippendorff_alpha",
                                 "mean_cohen_kappa", "mean_krippendorff_alpha"}
    for code in d["codes"]:
        assert set(code) == {"code", "units", "both", "only", "neither", "percent_agreement", "cohen_kappa",
                             "krippendorff_alpha", "undefined_reason"}
        assert set(code["only"]) == {"A", "B"}
    assert [c["code"] for c in d["codes"]] == ["X", "Y"]
    assert (d["unit"], d["coders"], d["units_compared"], d["units_excluded"]) == ("response", ["A", "B"], 2, 3)
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
