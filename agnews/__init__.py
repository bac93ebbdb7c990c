"""agnews: fine-tune, evaluate and look inside an AG News topic classifier."""

__version__ = "0.1.0"
