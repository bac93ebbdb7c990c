"""The Gradio app: one module per tab, plain Plotly figure builders, and `build_app(run)`."""

from agnews.ui.app import build_app

__all__ = ["build_app"]
