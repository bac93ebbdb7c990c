"""The one map of names older agnews gave: stages (and the CLI words made from them) that were
renamed after the part or analysis they make. Runs made before record the old names; `read_manifest`
reads them as today's, and `agnews analyze --stages` and the CLI accept them."""

RENAMED_STAGES = {
    "calibrate": "calibration",
    "label_issues": "label_issues_test",
    "train_label_issues": "label_issues_train",
    "stress": "robustness",
    "tune": "tuning",
}
