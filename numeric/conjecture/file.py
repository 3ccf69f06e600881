"""A file of named conjectures, read as data (TOML), never executed: each ``[[conjecture]]``
table becomes a registry ``Claim`` that ``dmf-sharpness check --file`` decides beside (or
instead of) the built-in claims, in the same table and JSON.

Public:
    load_conjectures(path) -> list[Claim]
    KEYS        the keys a ``[[conjecture]]`` table may hold

A table::

    [[conjecture]]
    id = "my-upper-bound"                          # required: lowercase letters, digits, '-'
    statement = "lambda_max <= sum(norm2(A[l])**2 * norm2(B[l])**2 for l in layers)"
    over = "minimizers"                            # optional, as --over (default minimizers)
    depth = "1..3"                                 # optional, as --depth
    width = "1..3"                                 # optional, as --width
    ends = "any"                                   # optional, as --ends
    if = "d[0] == 1"                               # optional hypothesis
    weight_decay = "1/4"                           # optional, as --weight-decay (a string)
    source = "my notes, eq. (7)"                   # optional

Every statement is parsed (``numeric.conjecture.language``) when the file is read, so a bad
statement is refused with its table's id, the column and a caret before anything runs. The
budget and the seed are those of the ``check`` run.
"""

from __future__ import annotations

import functools
import re
import sys
from pathlib import Path
from typing import Any

from derivations.errors import DmfError, InputFileError
from numeric.claims.registry import CLAIM_IDS, Claim
from numeric.claims.runner import CheckContext, ClaimOutcome
from numeric.conjecture.claim import CASES, TIME_CAPS, conjecture

__all__ = ["KEYS", "load_conjectures"]

KEYS = ("id", "statement", "over", "depth", "width", "ends", "if", "weight_decay", "source")
_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,63}", re.ASCII)
_MAX_FILE_BYTES = 1 << 20
_OPTIONS = {"over": "over", "depth": "depth", "width": "width", "ends": "ends", "if": "if_",
            "weight_decay": "weight_decay"}


def _decide(ctx: CheckContext, *, statement: str, options: dict[str, Any]) -> ClaimOutcome:
    """The registry checker of a file's conjecture: decided with the run's budget and seed."""
    claim = conjecture(statement, seed=ctx.seed, budget=ctx.budget.name, cases=ctx.cases,
                       **options)
    return claim.outcome()


def _toml(path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputFileError(f"{path}: cannot read the file ({exc.strerror or exc})") from exc
    if len(raw) > _MAX_FILE_BYTES:
        raise InputFileError(f"{path}: {len(raw)} bytes, more than the limit {_MAX_FILE_BYTES}")
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InputFileError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise InputFileError(f"{path}: not valid TOML ({exc})") from exc


def _claim(path: Path, i: int, table: Any, seen: set[str]) -> Claim:
    where = f"{path}: [[conjecture]] number {i}"
    if not isinstance(table, dict):
        raise InputFileError(f"{where} is not a table")
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        raise InputFileError(f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; "
                             f"allowed are {', '.join(KEYS)}")
    for key in ("id", "statement"):
        if not isinstance(table.get(key), str):
            raise InputFileError(f"{where}: '{key}' is required, a string")
    cid = table["id"]
    if not _ID.fullmatch(cid):
        raise InputFileError(f"{where}: id {cid!r} must be lowercase letters, digits and '-' "
                             "(at most 64 characters)")
    if cid in CLAIM_IDS or cid in seen:
        raise InputFileError(f"{where}: id {cid!r} is already taken"
                             + (" by a built-in claim" if cid in CLAIM_IDS else ""))
    seen.add(cid)
    bad = [k for k in table if k != "id" and not isinstance(table[k], str)]
    if bad:
        raise InputFileError(f"{where} ({cid}): '{bad[0]}' must be a string")
    options = {_OPTIONS[k]: table[k] for k in _OPTIONS if k in table}
    try:
        conjecture(table["statement"], budget="quick", **options)  # parse and check now
    except DmfError as exc:
        raise type(exc)(f"{path}: conjecture {cid!r}: {exc}") from exc
    hyp = table.get("if")
    text = table["statement"] if hyp is None else f"if {hyp} then {table['statement']}"
    shape = ", ".join(f"{k.replace('_', ' ')} {table[k]}" for k in
                      ("over", "depth", "width", "ends", "weight_decay") if k in table)
    return Claim(
        cid, text, table.get("source", f"user conjecture from {path.name}"),
        shape or "minimizers, depth 1..3, widths 1..3, ends any (the conjecture defaults)",
        "numeric.conjecture: the statement parsed, never evaluated; decided by the claims "
        "engine (seeded search, shrinking, exact or certified re-check)",
        functools.partial(_decide, statement=table["statement"], options=options),
        cases=dict(CASES), time_cap=dict(TIME_CAPS),
    )


def load_conjectures(path: str | Path) -> list[Claim]:
    """The ``[[conjecture]]`` tables of the TOML file at ``path`` as registry claims (checked
    as the module docstring says); one clear line (an ``InputFileError`` or a
    ``StatementError``) for anything wrong."""
    p = Path(path)
    doc = _toml(p)
    extra = sorted(set(doc) - {"conjecture"})
    if extra:
        raise InputFileError(f"{p}: unknown top-level key(s) {', '.join(map(repr, extra))}; "
                             "the file holds [[conjecture]] tables")
    tables = doc.get("conjecture")
    if not isinstance(tables, list) or not tables:
        raise InputFileError(f"{p}: no [[conjecture]] tables")
    seen: set[str] = set()
    return [_claim(p, i, t, seen) for i, t in enumerate(tables, start=1)]
