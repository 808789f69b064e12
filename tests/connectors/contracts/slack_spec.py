"""Check Slack Web API requests with slack_sdk's own models and method signatures.

* The arguments of a call to ``/api/<method>`` must be parameters of the SDK's ``WebClient`` method
  of that name (``chat.postMessage`` -> ``WebClient.chat_postMessage``): the SDK mirrors Slack's
  published method arguments.
* Blocks must parse as Block Kit with ``slack_sdk.models.blocks.Block`` and pass ``validate_json()``
  (its length and count limits), and survive the round trip: a field the model lacks is dropped by
  ``Block.parse``, so ``to_dict()`` would differ.
* Message metadata must be ``slack_sdk.models.metadata.Metadata`` (event_type, event_payload).
"""

from __future__ import annotations

import inspect
import json
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.metadata import Metadata

#: Sent by the SDK itself on every call, not arguments of a method.
TRANSPORT = {"token"}


def method_arguments(method: str) -> set[str]:
    fn = getattr(WebClient, method.replace(".", "_"), None)
    if fn is None:
        raise AssertionError(f"slack_sdk has no WebClient method for {method!r}")
    return {
        name
        for name, p in inspect.signature(fn).parameters.items()
        if name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
    }


def _blocks(raw: Any) -> list[str]:
    problems = []
    items = json.loads(raw) if isinstance(raw, str) else raw
    for i, item in enumerate(items or []):
        try:
            block = Block.parse(item)
        except SlackObjectFormationError as exc:
            problems.append(f"blocks[{i}]: {exc}")
            continue
        if block is None:
            problems.append(f"blocks[{i}]: not a Block Kit block")
            continue
        try:
            block.validate_json()
            as_dict = block.to_dict()
        except SlackObjectFormationError as exc:
            problems.append(f"blocks[{i}]: {exc}")
            continue
        if as_dict != item:
            problems.append(f"blocks[{i}]: fields the Block Kit model lacks: {item} != {as_dict}")
    return problems


def check(method: str, args: dict[str, Any]) -> list[str]:
    known = method_arguments(method)
    problems = [
        f"{method}: argument {key!r} is not in the Web API method"
        for key in args
        if key not in known | TRANSPORT
    ]
    if "blocks" in args:
        problems += [f"{method}: {p}" for p in _blocks(args["blocks"])]
    if "metadata" in args:
        raw = json.loads(args["metadata"]) if isinstance(args["metadata"], str) else args["metadata"]
        meta = Metadata(**raw)
        if meta.to_dict() != raw:
            problems.append(f"{method}: metadata has fields Metadata lacks: {raw}")
    return problems


class SlackRecorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, list[str]]] = []

    def __call__(self, request: Any) -> None:
        method = request.path.rsplit("/", 1)[-1]
        args: dict[str, Any] = {**request.args, **request.form}
        if request.is_json:
            args.update(request.json or {})
        self.calls.append((method, check(method, args)))

    def assert_clean(self) -> None:
        assert self.calls, "no Slack call was checked"
        problems = [p for _, found in self.calls for p in found]
        assert problems == [], problems
