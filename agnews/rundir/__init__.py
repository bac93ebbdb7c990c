"""The run directory: a folder of typed parts (`parts`, `core`, and the analyses' own), loaded and
validated (`run`), changed only atomically (`edit`). Everything that shows or ships a model reads a
run through here. This package's own module imports nothing, so that an analysis's declaration can
import the part formats without loading the run code that reads the list of analyses."""
