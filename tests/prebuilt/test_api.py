"""The handle_* functions' own logic: conf building, checks before anything runs, file staging."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import airflow_provider_wfo
from airflow_provider_wfo.prebuilt import api
from airflow_provider_wfo.prebuilt.definitions import ConfValidationError
from airflow_provider_wfo.prebuilt.remote import AirflowDeployment


def test_public_api_names() -> None:
    for name in (
        "execute_workflow",
        "validate_workflow",
        "load_workflow_from_json",
        "save_workflow_to_json",
        "handle_invoice",
        "handle_bug_report",
        "handle_meeting",
        "handle_report",
        "workflow_events",
        "WorkflowEventType",
        "WorkflowStatus",
        "StepStatus",
        "register_action",
    ):
        assert getattr(airflow_provider_wfo, name) is not None, name
    assert airflow_provider_wfo.handle_invoice is api.handle_invoice


def _inbox_entries() -> set[Path]:
    inbox = api.local_workspace() / "inbox"
    return set(inbox.rglob("*")) if inbox.exists() else set()


def test_bad_conf_is_refused_before_anything_is_staged(airflow_db: Path) -> None:
    before = _inbox_entries()
    with pytest.raises(ConfValidationError) as info:
        api.handle_invoice(
            file_name="x.pdf",
            file_buffer=b"%PDF",
            vendor="Acme",
            amount=10,
            due_date="15/02/2025",
            deployment="local",
        )
    assert info.value.errors == ["dueDate: '15/02/2025' is not a 'date'"]
    with pytest.raises(ConfValidationError, match="severity"):
        api.handle_bug_report(
            title="t",
            description="d",
            severity="Urgent",
            reporter="r",
            deployment="local",  # type: ignore[arg-type]
        )
    with pytest.raises(ConfValidationError, match="duration"):
        api.handle_meeting(
            title="t",
            date="2025-01-20",
            time="10:00",
            duration=0,
            attendees=["a@x"],
            agenda="",
            deployment="local",
        )
    assert _inbox_entries() == before


def test_exactly_one_file_source(airflow_db: Path) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        api.handle_report(
            file_name="r.pdf",
            report_type="R",
            stakeholders=["a@x"],
            due_date="2025-01-31",
            deployment="local",
        )
    with pytest.raises(TypeError, match="list"):
        api.handle_report(
            file_name="r.pdf",
            file_buffer=b"x",
            report_type="R",
            stakeholders="a@x",
            due_date="2025-01-31",
            deployment="local",
        )


def test_stage_file_keeps_names_inside_the_folder(tmp_path: Path) -> None:
    staged = api.stage_file("../../etc/passwd", b"data", tmp_path)
    assert staged.is_relative_to(tmp_path.resolve())
    assert staged.name == "passwd"
    assert staged.read_bytes() == b"data"
    assert api.stage_file("..", b"x", tmp_path).name == "document"
    two = api.stage_file("same.pdf", b"2", tmp_path)
    assert two.parent != api.stage_file("same.pdf", b"3", tmp_path).parent


def test_file_conf_local_paths_and_uris(airflow_db: Path, tmp_path: Path) -> None:
    outside = tmp_path / "invoice.pdf"
    outside.write_bytes(b"%PDF-outside")
    # A file outside the inbox is staged (the local Drive backend reads only from its inbox).
    value, staged = api._file_conf("invoice.pdf", None, outside, None)
    assert staged is not None and Path(value) == staged and staged.read_bytes() == b"%PDF-outside"
    # So is a file:// URI.
    value, staged_uri = api._file_conf("invoice.pdf", None, outside.as_uri(), None)
    assert staged_uri is not None and staged_uri.read_bytes() == b"%PDF-outside"
    # A file already in the inbox is used in place.
    value, again = api._file_conf("invoice.pdf", None, staged, None)
    assert again is None and Path(value) == staged.resolve()
    # Remote URIs are passed through for the connector.
    assert api._file_conf("r.pdf", None, "gs://bucket/r.pdf", None) == ("gs://bucket/r.pdf", None)


def test_remote_needs_a_staging_dir_for_bytes(tmp_path: Path) -> None:
    remote = AirflowDeployment(url="http://127.0.0.1:9")
    with pytest.raises(ValueError, match="WFO_AIRFLOW_STAGING_DIR"):
        api._file_conf("i.pdf", b"x", None, remote)
    value, staged = api._file_conf("i.pdf", b"x", None, AirflowDeployment(url="u", staging_dir=str(tmp_path)))
    assert staged is not None and staged.is_relative_to(tmp_path.resolve()) and value == str(staged)
    # A path is passed through untouched: only the deployment's workers can resolve it.
    assert api._file_conf("i.pdf", None, "/shared/i.pdf", remote) == ("/shared/i.pdf", None)


def test_auto_means_remote_only_when_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WFO_AIRFLOW_URL", raising=False)
    assert api._resolve_where("auto") is None
    monkeypatch.setenv("WFO_AIRFLOW_URL", "http://airflow:8080")
    where = api._resolve_where("auto")
    assert where is not None and where.url == "http://airflow:8080"
    assert api._resolve_where("local") is None
    assert os.environ["WFO_AIRFLOW_URL"]


def test_sample_invoice_is_a_well_formed_pdf() -> None:
    import re

    data = (Path(__file__).resolve().parents[2] / "examples" / "sample-invoice.pdf").read_bytes()
    assert data.startswith(b"%PDF-1.") and data.rstrip().endswith(b"%%EOF")
    startxref = int(re.findall(rb"startxref\s+(\d+)", data)[-1])
    assert data[startxref:].startswith(b"xref")
    entries = re.findall(rb"(\d{10}) 00000 n ", data[startxref:])
    assert len(entries) == 7
    for number, offset in enumerate(entries, 1):
        assert data[int(offset) :].startswith(b"%d 0 obj" % number)
    assert b"Acme Corporation" in data and b"1,500.00" in data and b"2025-02-15" in data
