"""A run's classes as people name them: by name in any case, or by class id.

Class ids are 0-based positions in the run's classes (`Run.classes`, the order its dataset stated).
"""

from __future__ import annotations

from collections.abc import Sequence


def parse_label(value: str, classes: Sequence[str]) -> int:
    """The class id that `value` names among `classes`: a class name in any case ("sci/tech"), else a
    class id ("0" to the last); raises ValueError listing what is accepted.

    A name wins over an id, so a dataset whose classes are digits ("1", "2", "5") is read by name.
    """
    text = value.strip()
    by_name = {name.casefold(): i for i, name in enumerate(classes)}
    if text.casefold() in by_name:
        return by_name[text.casefold()]
    if text.isdigit() and int(text) < len(classes):
        return int(text)
    shown = ", ".join(classes[:20]) + (" ..." if len(classes) > 20 else "")
    raise ValueError(f"{value!r} is not a class: use {shown} (any case) or an id 0-{len(classes) - 1}")
