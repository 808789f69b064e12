"""The standing adversarial suite keeps every case of issue 12 (hostile input and secrets).

Most cases have their tests in this folder; a few live next to the code they test. This index
names each one, and fails when a named test is renamed or removed, so no case silently loses its
test. ``docs/security.md`` (the threat model) cites the same tests.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: case -> the tests that reproduce it (``path::function``, relative to tests/).
CASES: dict[str, list[str]] = {
    "1 encoded secrets leak": [
        "adversarial/test_secret_forms.py::test_a_planted_secret_is_in_no_artifact_in_any_form",
        "adversarial/test_secret_forms.py::test_the_product_masks_every_form",
        "adversarial/test_secret_forms_stack.py::test_a_planted_secret_is_in_no_artifact_of_a_real_deployment",
        "adversarial/test_url_credentials.py::test_a_password_in_a_definition_url_is_refused",
        "adversarial/test_url_credentials.py::test_a_password_in_a_url_from_conf_reaches_no_record",
        "connectors/test_secrets.py::test_http",
    ],
    "2 credentials follow redirects": [
        "adversarial/test_redirects.py::test_credentials_stay_on_their_origin"
    ],
    "3 validation and parsing open connections": [
        "adversarial/test_bounds_params_schema.py::test_remote_ref_is_refused_without_a_request",
    ],
    "4 ReDoS hides good DAGs": [
        "adversarial/test_bounds_params_schema.py::test_catastrophic_pattern_is_checked_in_linear_time",
        "adversarial/test_bounds_params_schema.py::test_trigger_conf_is_checked_on_re2_with_a_human_message",
        "adversarial/test_bounds_params_schema.py::test_hostile_definitions_do_not_hide_a_good_one_at_parse_time",
    ],
    "5 YAML aliases": [
        "adversarial/test_bounds_yaml.py::test_a_large_string_aliased_many_times_is_refused_at_validate_time",
    ],
    "6 local Sheets and a bare CR": [
        "connectors/test_hostile_params.py::test_a_bare_cr_never_splits_a_row_and_rollback_really_removes_it",
        "connectors/test_hostile_params.py::test_ranges_past_what_google_sheets_allows_are_refused_before_allocating",
        "adversarial/test_fuzz_conf.py::test_sheets_append_stores_text_and_undo_removes_it",
    ],
    "7 formula injection": [
        "connectors/test_hostile_params.py::test_formulas_from_conf_stay_text_in_the_local_csv_unless_opted_in",
        "connectors/test_sheets_real.py::test_conf_formulas_stay_text_and_undo_restores_formulas",
        "adversarial/test_fuzz_conf.py::test_sheets_update_range_undo_restores_the_cells",
    ],
    "8 terminal escapes": [
        "adversarial/test_terminal_escapes.py::test_run_summary_and_trace_print_no_control_sequence",
        "adversarial/test_terminal_escapes.py::test_validate_graph_and_errors_print_no_control_sequence",
        "adversarial/test_fuzz_conf.py::test_the_run_summary_prints_any_result_without_control_sequences",
    ],
    "9 bad params are retried and leak paths": [
        "connectors/test_hostile_params.py::test_bad_params_fail_at_once_without_paths",
    ],
    "10 non-regular files": [
        "definition/test_definition_files.py::test_validate_folder_skips_a_fifo_with_a_message",
        "definition/test_definition_files.py::test_load_definition_file_refuses_a_fifo",
    ],
    "11 ids": ["adversarial/test_bounds_cli.py::test_a_workflow_id_starts_with_a_letter_or_digit"],
    "12 run conf is looser than definitions": [
        "adversarial/test_bounds_conf.py::test_wfo_run_conf_gets_the_loader_limits",
        "adversarial/test_bounds_conf.py::test_a_run_with_too_large_conf_from_airflow_fails_in_its_first_task",
    ],
    "13 size": [
        "adversarial/test_bounds_cli.py::test_a_twenty_thousand_step_workflow_is_refused_at_validate_and_run_time",
    ],
    "14 cosmetic": [
        "adversarial/test_bounds_cli.py::test_a_huge_unknown_key_is_not_echoed",
        "adversarial/test_bounds_cli.py::test_timeout_names_its_real_minimum",
        "adversarial/test_bounds_cli.py::test_validate_of_an_empty_path_is_an_error",
        "adversarial/test_bounds_cli.py::test_wfo_run_json_prints_json_for_an_invalid_definition",
    ],
}


@pytest.mark.parametrize("case", sorted(CASES, key=lambda c: int(c.split()[0])))
def test_every_case_keeps_its_tests(case: str) -> None:
    assert CASES[case], f"case {case} has no test"
    for node in CASES[case]:
        path, name = node.split("::")
        source = (ROOT / path).read_text(encoding="utf-8")
        assert re.search(rf"^def {re.escape(name)}\(", source, re.MULTILINE), f"{node} is gone"


def test_every_case_of_the_issue_is_listed() -> None:
    assert sorted(int(c.split()[0]) for c in CASES) == list(range(1, 15))


def test_every_test_the_threat_model_cites_exists() -> None:
    """``docs/security.md`` names tests as `path` or `path::function` (`...::function`: the same file)."""
    text = (ROOT.parent / "docs" / "security.md").read_text(encoding="utf-8")
    cited = re.findall(r"`(tests/[\w/]+\.py|\.\.\.)(?:::(\w+))?`", text)
    assert len(cited) > 20
    last = ""
    for path, name in cited:
        last = last if path == "..." else path
        source = (ROOT.parent / last).read_text(encoding="utf-8")
        assert not name or re.search(rf"^def {name}\(", source, re.MULTILINE), f"{last}::{name}"
