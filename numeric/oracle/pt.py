"""``.pt`` files: a PyTorch ``state_dict`` (a dict of tensors, with ``inputs``/``targets`` or
``X``/``Y`` when the file carries data) read with ``torch.load(weights_only=True)`` and never
unpickled otherwise; tensors become float64 NumPy arrays exactly (float16, bfloat16 and float32
are exact in float64; integer tensors stay integers). The other readers are
``numeric.oracle.npz`` (``.npz``) and ``numeric.oracle.files`` (JSON, and the checks they share).

Public (for ``numeric.oracle.files``):
    read_pt(path, *, check_names)   the file's arrays by name, after ``check_names(names)``
"""

from __future__ import annotations

import pickle
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from derivations.errors import InputFileError, ShapeError, TooLargeError
from numeric.oracle.npz import check_member_names
from numeric.oracle.npz import shown_name as _shown

__all__ = ["read_pt"]


def read_pt(p: Path, *, check_names: Callable[[list[str]], None],
            max_bytes: int) -> dict[str, np.ndarray]:
    """The tensors of the ``.pt`` at ``p`` (a ``state_dict``: a dict of tensors) as NumPy arrays,
    in the dict's order: floating tensors as float64 (exact: float16/bfloat16/float32 widen
    without rounding), integer ones as int64. ``torch.load(weights_only=True,
    map_location="cpu")`` reads the file: it never unpickles an arbitrary object, and anything
    else (a whole ``nn.Module``) is refused in one line. Names, dtypes, shapes and sizes are
    checked before any tensor is converted; the arrays may hold ``max_bytes`` in all."""
    torch = _import_torch(p)
    obj = _torch_load(torch, p)
    if not isinstance(obj, Mapping):
        raise InputFileError(
            f"{p}: holds {_torch_kind(torch, obj)}; expected a state_dict, a dict of tensors "
            "(torch.save(model.state_dict(), path))"
        )
    for key, value in obj.items():
        if not isinstance(key, str):
            raise InputFileError(f"{p}: a key is {type(key).__name__}, not a name like '0.weight'")
        if isinstance(value, Mapping):
            raise InputFileError(
                f"{p}: {_shown(key)} holds a dict, not a tensor (a training checkpoint?); save "
                "the state_dict alone: torch.save(model.state_dict(), path)"
            )
    names = list(obj)
    check_member_names(str(p), names, what="key")
    check_names(names)
    budget = max_bytes
    out: dict[str, np.ndarray] = {}
    for key in names:
        out[key] = _tensor_array(torch, p, key, obj[key], budget)
        budget -= out[key].nbytes
    return out


def _import_torch(p: Path) -> Any:
    try:
        import torch
    except ImportError:
        raise InputFileError(
            f"{p}: reading a .pt file needs PyTorch, the optional extra torch: pip install "
            "'dmf-sharpness[torch]' (or save the arrays with numpy.savez as .npz)"
        ) from None
    return torch


def _torch_load(torch: Any, p: Path) -> Any:
    """``torch.load(p, weights_only=True, map_location="cpu")``, its refusals in one line."""
    try:
        return torch.load(p, weights_only=True, map_location="cpu")
    except pickle.UnpicklingError as exc:
        found = re.search(r"GLOBAL ([A-Za-z0-9_.]{1,200})", str(exc))
        held = f"it holds a pickled {found.group(1)}" if found else "it is not tensors in dicts"
        raise InputFileError(
            f"{p}: torch.load(weights_only=True) refuses the file ({held}); only tensors in "
            "plain containers are read, never pickled objects: save the weights with "
            "torch.save(model.state_dict(), path)"
        ) from None
    except Exception as exc:  # torch's readers raise RuntimeError, EOFError, ValueError, ...
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise InputFileError(f"{p}: not a readable PyTorch file ({first})") from None


def _torch_kind(torch: Any, obj: Any) -> str:
    if isinstance(obj, torch.Tensor):
        return f"a single tensor of shape {tuple(obj.shape)}"
    return f"a {type(obj).__name__}"


_TORCH_INTS = ("uint8", "int8", "int16", "int32", "int64")


def _tensor_array(torch: Any, p: Path, key: str, t: Any, budget: int) -> np.ndarray:
    """One tensor as a NumPy array, exactly, after its type, dtype, shape and size are checked
    (a stride-0 view may declare far more entries than its storage holds)."""
    where = f"{p}: {_shown(key)}"
    if not isinstance(t, torch.Tensor):
        raise InputFileError(f"{where} holds a {type(t).__name__}, not a tensor")
    if t.layout != torch.strided or t.is_quantized:
        raise InputFileError(f"{where} is a {t.layout} tensor{' (quantized)' if t.is_quantized else ''}; "
                             "store a dense tensor of numbers")
    integer = str(t.dtype).removeprefix("torch.") in _TORCH_INTS
    if not (t.is_floating_point() or integer):
        raise InputFileError(f"{where} has dtype {t.dtype}; expected an integer or floating dtype")
    if t.dim() != 2:
        hint = ("; deep matrix factorization takes only bias-free nn.Linear weights "
                "(d_out x d_in)" if key.endswith("weight") else "")
        raise ShapeError(f"{where} has shape {tuple(t.shape)}; expected a 2-D matrix{hint}")
    nbytes = t.numel() * 8
    if nbytes > budget:
        raise TooLargeError(
            f"{where} would take {nbytes} bytes (shape {tuple(t.shape)}), more than the "
            f"{budget} bytes left of the limit on unpacked arrays"
        )
    wide = t.detach().to(torch.float64 if t.is_floating_point() else torch.int64)
    return np.array(wide.numpy(), copy=True)
