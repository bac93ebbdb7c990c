"""What a run records about its dataset: where it came from, which columns were read, the classes in
order, how the texts were cleaned and what kind of text it is.

The class order is the contract: class id `i` is `class_names[i]` in the model's `id2label`, in every
part and on every page. `to_dict`/`from_dict` round-trip through a run's JSON config; an unknown or
missing key fails loudly rather than being ignored.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from agnews.dataset.cleaning import CLEANING_KINDS


@dataclass(frozen=True)
class DatasetDescription:
    """A dataset as a run names it.

    `source` is a folder or file path or a Hub id (with `:config` when one was used); `domain` says
    what kind of text it is (`"news"` lets news-only analyses run) or is None when nobody said.
    """

    name: str
    source: str
    text_columns: tuple[str, ...]
    label_column: str
    class_names: tuple[str, ...]
    cleaning: str
    domain: str | None = None

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a dataset needs a name")
        if not self.text_columns:
            raise ValueError("a dataset needs at least one text column")
        if self.cleaning not in CLEANING_KINDS:
            raise ValueError(f"cleaning {self.cleaning!r} is not one of {', '.join(CLEANING_KINDS)}")
        if len(self.class_names) < 2:
            raise ValueError(f"a classifier needs 2 or more classes, got {list(self.class_names)}")
        if len(set(self.class_names)) != len(self.class_names):
            raise ValueError(f"class names repeat: {list(self.class_names)}")

    @property
    def id2label(self) -> dict[int, str]:
        """Class id to name, as the model's config stores it."""
        return dict(enumerate(self.class_names))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types (tuples as lists), for a run's config."""
        return {
            **asdict(self),
            "text_columns": list(self.text_columns),
            "class_names": list(self.class_names),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DatasetDescription:
        """The description `to_dict` wrote; raises ValueError naming unknown or missing keys."""
        known = {f.name for f in fields(cls)}
        required = {f.name for f in fields(cls) if f.name != "domain"}
        unknown = sorted(set(data) - known)
        missing = sorted(required - set(data))
        if unknown or missing:
            raise ValueError(f"dataset description: unknown keys {unknown}, missing keys {missing}")
        for key in ("text_columns", "class_names"):
            if not isinstance(data[key], list | tuple) or not all(isinstance(v, str) for v in data[key]):
                raise ValueError(f"dataset description: {key} must be a list of strings")
        return cls(
            **{
                **data,
                "text_columns": tuple(data["text_columns"]),
                "class_names": tuple(data["class_names"]),
            }
        )
