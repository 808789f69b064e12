"""Drive and Sheets checks: credentials and scopes, the target folder or shared drive and the role
on it (Drive), the spreadsheet (Sheets)."""

from __future__ import annotations

from typing import Any

from airflow_provider_wfo.connectors import _google
from airflow_provider_wfo.connectors.connections import ResolvedConnection
from airflow_provider_wfo.connectors.doctor import Finding, Probe, missing, ok

DRIVE_OK = ("https://www.googleapis.com/auth/drive", "https://www.googleapis.com/auth/drive.file")
SHEETS_OK = ("https://www.googleapis.com/auth/spreadsheets", "https://www.googleapis.com/auth/drive")
CAPABILITIES = "capabilities(canAddChildren,canTrashChildren,canDeleteChildren,canListChildren)"


def _http_error(exc: Exception, what: str, fix: str) -> Finding:
    status = _google.http_status(exc)
    reason = _google.fix_for(exc)
    if status == 401:
        return missing(
            f"{what}: credentials refused (401)", "check the key file / keyfile_dict of the connection"
        )
    return missing(f"{what}: HTTP {status}", reason or fix)


def _scopes(hook: Any, accepted: tuple[str, ...], api: str) -> list[Finding]:
    scopes = list(hook.scopes)
    if any(s in accepted for s in scopes):
        return [ok(f"scopes {', '.join(scopes)} cover the {api} API")]
    return [
        missing(
            f"scopes {', '.join(scopes) or '(none)'} do not cover the {api} API",
            f"set the connection extra scope to {accepted[0]} "
            "(the provider's default cloud-platform is refused)",
        )
    ]


def check_drive(resolved: ResolvedConnection, probe: Probe) -> list[Finding]:
    from googleapiclient.errors import HttpError

    from airflow_provider_wfo.connectors.hooks.google import WfoDriveHook

    extra = resolved.extra
    endpoint = extra.get("api_endpoint")
    hook = WfoDriveHook(gcp_conn_id=resolved.conn_id, api_endpoint=str(endpoint) if endpoint else None)
    findings = _scopes(hook, DRIVE_OK, "Drive")
    try:
        service = hook.get_conn()
        about = service.about().get(fields="user(emailAddress),storageQuota(limit)").execute(num_retries=0)
    except HttpError as exc:
        return [*findings, _http_error(exc, "about.get", "check the credentials and the scope extra")]
    except Exception as exc:
        return [
            *findings,
            missing(f"cannot connect: {type(exc).__name__}", "check the connection's key file"),
        ]
    email = str((about.get("user") or {}).get("emailAddress") or "?")
    findings.append(ok(f"authenticated as {email} (about.get)"))
    shared = str(extra.get("shared_drive_id") or "") or None
    root = str(extra.get("root_folder_id") or shared or "root")
    service_account = email.endswith(".gserviceaccount.com")
    if root == "root" and (service_account or str((about.get("storageQuota") or {}).get("limit")) == "0"):
        findings.append(
            missing(
                "files would go to the account's own My Drive, and a service account has no storage quota",
                "create a shared drive, add the service account to it as Content manager, and set the "
                "connection extra shared_drive_id (or root_folder_id to a folder on it)",
            )
        )
    if shared:
        try:
            drive = service.drives().get(driveId=shared, fields="id,name").execute(num_retries=0)
            findings.append(ok(f"shared drive {drive.get('name', shared)!r} found"))
        except HttpError as exc:
            findings.append(_http_error(exc, f"shared drive {shared}", "add the account to the shared drive"))
            return findings
    listing: dict[str, Any] = {"supportsAllDrives": True, "includeItemsFromAllDrives": True}
    if shared:
        listing.update(corpora="drive", driveId=shared)
    try:
        service.files().list(
            q=f"'{root}' in parents and trashed = false", pageSize=1, fields="files(id)", **listing
        ).execute(num_retries=0)
        findings.append(ok(f"can list the target folder {root}"))
        folder = (
            service.files()
            .get(fileId=root, fields=f"id,name,{CAPABILITIES}", supportsAllDrives=True)
            .execute(num_retries=0)
        )
    except HttpError as exc:
        findings.append(_http_error(exc, f"target folder {root}", "share the folder with the account"))
        return findings
    caps = folder.get("capabilities") or {}
    if caps.get("canAddChildren"):
        findings.append(ok("can add files to it (file_document)"))
    else:
        findings.append(
            missing("cannot add files to the target folder", "give the account Contributor or more on it")
        )
    mode = str(extra.get("rollback_mode") or "trash").lower()
    undo = "canDeleteChildren" if mode == "delete" else "canTrashChildren"
    if caps.get(undo):
        findings.append(
            ok(f"can {'delete' if mode == 'delete' else 'trash'} files in it (the undo, delete_file)")
        )
    else:
        role = "Manager" if mode == "delete" else "Content manager"
        findings.append(
            missing(
                f"cannot {'delete' if mode == 'delete' else 'move to the trash'} files there: "
                "a rollback would fail",
                f"give the account the {role} role on the shared drive (Editor on a My Drive folder)",
            )
        )
    return findings


def check_sheets(resolved: ResolvedConnection, probe: Probe) -> list[Finding]:
    from googleapiclient.errors import HttpError

    from airflow_provider_wfo.connectors.hooks.google import WfoSheetsHook

    endpoint = resolved.extra.get("api_endpoint")
    hook = WfoSheetsHook(resolved.conn_id, str(endpoint) if endpoint else None)
    findings = _scopes(hook, SHEETS_OK, "Sheets")
    sid = probe.spreadsheet_id or str(resolved.extra.get("spreadsheet_id") or "") or None
    probe_id = sid or "wfo-doctor-probe"
    try:
        meta = (
            hook.get_conn()
            .spreadsheets()
            .get(spreadsheetId=probe_id, fields="properties(title),sheets.properties(title)")
            .execute(num_retries=0)
        )
    except HttpError as exc:
        if sid is None and _google.http_status(exc) == 404:
            # A made-up id answered 404: the credentials and scope were accepted.
            findings.append(ok("credentials and scope accepted by spreadsheets.get"))
            findings.append(
                missing(
                    "no spreadsheet named to check",
                    "pass --spreadsheet-id ID (or set the extra spreadsheet_id) to check the sheet "
                    "a workflow writes",
                    needed=False,
                )
            )
            return findings
        findings.append(
            _http_error(
                exc, f"spreadsheets.get {probe_id}", "share the spreadsheet with the account as Editor"
            )
        )
        return findings
    except Exception as exc:
        return [
            *findings,
            missing(f"cannot connect: {type(exc).__name__}", "check the connection's key file"),
        ]
    title = (meta.get("properties") or {}).get("title", probe_id)
    tabs = [s["properties"]["title"] for s in meta.get("sheets", [])]
    findings.append(ok(f"spreadsheet {title!r} readable (spreadsheets.get), sheets: {', '.join(tabs)}"))
    return findings
