"""Ship a run to the Hugging Face Hub and bring it back.

`layout` says what a model repository of a run holds, `card` writes its model card (from
`card_template.md`), `transfer` pushes, saves `--dry-run` folders and pulls runs back.
"""
