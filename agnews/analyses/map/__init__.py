"""The map: every test row's [CLS] vector, before and after fine-tuning, as a 2-D picture
(`declaration.py` says what it adds)."""
