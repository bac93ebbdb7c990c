"""The one map of names older agnews gave: stages (and the CLI words made from them) and parts renamed
after the analysis they belong to, and parts split out of another. Runs made before record the old
names; `read_manifest` reads them as today's (the part's files keep their names), and `agnews analyze
--stages` and the CLI accept the old stage names."""

RENAMED_STAGES = {
    "calibrate": "calibration",
    "label_issues": "label_issues_test",
    "train_label_issues": "label_issues_train",
    "stress": "robustness",
    "tune": "tuning",
    "train_embeddings": "neighbours",
}

RENAMED_PARTS = {
    "train_embeddings": "neighbours",
}

# Parts older agnews kept as a key of another part's JSON file: (that part, its file, the key) -> the
# part it is now. Such a run loads without it until `agnews migrate` writes it out.
SPLIT_PARTS = {
    ("slices", "slices.json", "dataset"): "dataset_checks",
}
