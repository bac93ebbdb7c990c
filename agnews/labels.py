"""The four AG News classes: the one place in the project that knows them.

Label ids are 0-based, as on the Hugging Face Hub (`fancyzhx/ag_news`); the original CSV files use
1-based class indices, which `agnews.data` converts on the way in.
"""

LABELS: tuple[str, ...] = ("World", "Sports", "Business", "Sci/Tech")
NUM_LABELS = len(LABELS)
ID2LABEL: dict[int, str] = dict(enumerate(LABELS))
LABEL2ID: dict[str, int] = {name: i for i, name in ID2LABEL.items()}


def label_name(label_id: int) -> str:
    """Class name for a 0-based id; raises ValueError naming the valid range otherwise."""
    if label_id not in ID2LABEL:
        raise ValueError(f"label {label_id!r} is not a class id; expected 0-{NUM_LABELS - 1}")
    return ID2LABEL[label_id]


def parse_label(value: str) -> int:
    """The class id that `value` names: a class name in any case ("sci/tech") or an id "0"-"3".

    For labels a person types (a label map); raises ValueError listing what is accepted.
    """
    text = value.strip()
    if text.isdigit() and int(text) in ID2LABEL:
        return int(text)
    by_name = {name.casefold(): i for i, name in ID2LABEL.items()}
    if text.casefold() in by_name:
        return by_name[text.casefold()]
    raise ValueError(
        f"{value!r} is not a class: use {', '.join(LABELS)} (any case) or an id 0-{NUM_LABELS - 1}"
    )
