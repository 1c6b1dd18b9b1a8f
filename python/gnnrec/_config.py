"""The JSON text of a configuration, as ``gnnrec.train`` and ``gnnrec.data.load``
hand it to the C++ side (``from_json`` in ``train/config.h``), which checks
every key's type and range and names the key in its errors."""
import json
import math
import numbers
import os
from typing import Any, Mapping


def _value(key: str, value: Any) -> Any:
    """``value`` in a form ``json.dumps`` writes without losing what it is:
    paths as strings; NumPy (or any ``numbers``) integers as ``int`` and reals
    as ``float``; a NaN or infinite float, which JSON cannot hold, as
    ``{"$float": "nan"}`` (``"inf"``, ``"-inf"``), which the C++ side turns
    back into the number so that the range check names the key."""
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, (str, bool)) or value is None:
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        x = float(value)
        if math.isfinite(x):
            return x
        return {"$float": "nan" if math.isnan(x) else "inf" if x > 0 else "-inf"}
    if isinstance(value, (list, tuple)):
        return [_value(key, v) for v in value]
    raise TypeError(f"'{key}' must be a string, number, bool, None or list, got "
                    f"{type(value).__name__}")


def config_json(config: Mapping[str, Any]) -> str:
    """The JSON text of ``config``; raises ``TypeError`` naming the key of a
    value JSON cannot hold (a dict, a set, an object)."""
    return json.dumps({str(k): _value(str(k), v) for k, v in config.items()})
