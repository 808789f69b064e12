"""The catalog: built-ins from this package's modules, third-party connectors from the entry-point
group, and everything else (registry, docs, provider info, local defaults) derived from it."""

from __future__ import annotations

import logging
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_provider_wfo.actions.registry import UnknownActionError, canonical_target, get_action
from airflow_provider_wfo.connectors import catalog, docs
from airflow_provider_wfo.connectors.spec import ENTRY_POINT_GROUP

from .conftest import Call

ROOT = Path(__file__).resolve().parents[2]

JIRA = '''
"""A Jira connector in one module, as a third-party distribution ships it."""
from airflow_provider_wfo.connectors.runtime import LocalBackend
from airflow_provider_wfo.connectors.spec import ActionSpec, Connector, Params, Result, Text, required


class CreateIssueParams(Params):
    summary: Text = required("summary", description="Issue summary.")
    project: Text = required("project", description="Project key.")


class IssueResult(Result):
    key: str


class LocalJira(LocalBackend):
    def create_issue(self, params: CreateIssueParams) -> IssueResult:
        return IssueResult(key=f"{params.project}-1")


CONNECTOR = Connector(
    target="jira",
    service="Jira",
    summary="Issues.",
    actions=(ActionSpec("create_issue", CreateIssueParams, IssueResult, "Create an issue."),),
    backends={"wfo_local": "wfo_jira_demo:LocalJira"},
)
'''


def _distribution(root: Path, name: str, entry_points: str, module: str | None = None) -> None:
    info = root / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n{textwrap.dedent(entry_points)}")
    if module is not None:
        (root / f"{name}.py").write_text(module)


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A site folder with distributions in it, on sys.path for the test."""
    monkeypatch.syspath_prepend(str(tmp_path))
    catalog.reload()
    yield tmp_path
    catalog.reload()
    for name in [m for m in sys.modules if m.startswith("wfo_")]:
        del sys.modules[name]


def test_a_third_party_target_is_one_module_found_through_the_entry_point(
    installed: Path, workspace: Path, call: Call
) -> None:
    _distribution(installed, "wfo_jira_demo", "jira = wfo_jira_demo:CONNECTOR\n", JIRA)
    catalog.reload()
    assert catalog.find("jira") is not None and "jira" in catalog.target_names()
    assert call("jira", "create_issue", {"summary": "Broken login", "project": "WFO"}) == {"key": "WFO-1"}
    from airflow_provider_wfo.actions.registry import NonRetryableActionError

    with pytest.raises(NonRetryableActionError, match="did you mean 'summary'"):
        call("jira", "create_issue", {"sumary": "x", "project": "WFO"})
    # The params schema and the docs generator see it like a built-in.
    from airflow_provider_wfo.connectors.params_schema import params_schemas

    assert "jira.create_issue" in params_schemas()
    assert "`create_issue`" in docs.actions_table(catalog.connectors())
    # This package's own docs list only its own connectors.
    assert "jira" not in docs.generated()


def test_broken_or_clashing_entry_points_are_skipped_with_a_warning(
    installed: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _distribution(installed, "wfo_broken_demo", "broken = wfo_missing_module:CONNECTOR\n")
    clash = JIRA.replace('target="jira"', 'target="drive"').replace("wfo_jira_demo", "wfo_clash_demo")
    _distribution(installed, "wfo_clash_demo", "clash = wfo_clash_demo:CONNECTOR\n", clash)
    catalog.reload()
    with caplog.at_level(logging.WARNING, logger="airflow_provider_wfo.connectors.catalog"):
        found = catalog.connectors()
    assert [c.target for c in found].count("drive") == 1
    assert catalog.find("drive") is not None and catalog.find("drive").service == "Google Drive"  # type: ignore[union-attr]
    assert "failed to load" in caplog.text and "already taken" in caplog.text


def test_aliases_and_did_you_mean() -> None:
    assert canonical_target("gmail") == "email" and canonical_target("integration") == "http"
    assert canonical_target("nope") == "nope"
    assert get_action("trello", "create_card").spec.name == "create_task"  # type: ignore[attr-defined]
    with pytest.raises(UnknownActionError, match="did you mean 'create_task'"):
        get_action("trello", "create_tsak")
    with pytest.raises(UnknownActionError, match="did you mean target 'trello'"):
        get_action("trelo", "create_task")


def test_local_default_targets_are_the_connectors_with_a_local_backend() -> None:
    from airflow_provider_wfo.local.environment import local_connection_vars

    made = local_connection_vars(Path("/tmp/ws"))
    expected = {c.target for c in catalog.connectors() if c.local_default and "wfo_local" in c.backends}
    assert {k.removeprefix("AIRFLOW_CONN_WFO_").lower() for k in made} == expected


def test_committed_connector_docs_match_the_declarations() -> None:
    text = (ROOT / "docs" / "connectors.md").read_text()
    assert docs.rewrite(text, docs.generated()) == text, "run scripts/build-readme"


def test_declarations_import_no_sdk() -> None:
    """The catalog is read at validate and parse time: no Google, Slack or Notion SDK, no Airflow."""
    import subprocess

    code = (
        "import sys; from airflow_provider_wfo.connectors import catalog; catalog.connectors();"
        "from airflow_provider_wfo.connectors.params_schema import params_schemas; params_schemas();"
        "bad=[m for m in sys.modules if m.split('.')[0] in "
        "('googleapiclient','slack_sdk','notion_client','airflow','requests','httpx') "
        "or m.startswith(('google.auth','google.api_core','google.oauth2'))];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_find_by_one_module_agrees_with_the_whole_catalog() -> None:
    """``find`` imports only the named connector's module; its answers are the full scan's, and every
    built-in name that is not its module's name is in ``BUILTIN_ALIASES``."""
    from airflow_provider_wfo.connectors import catalog as cat

    for connector in cat.connectors():
        for name in connector.names:
            assert cat.find(name) is connector, name
            if name != connector.target:
                assert cat.BUILTIN_ALIASES.get(name) == connector.target, name
    assert cat.find("no-such-target") is None
    assert cat.find("runtime") is None  # a helper module of the package is not a connector
