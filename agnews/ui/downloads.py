"""One-click downloads: a button that writes the file when clicked and hands it to the browser.

Gradio's `gr.File` output is an empty dashed box until something fills it (it looks like an upload
target), and a `gr.DownloadButton` downloads only what it held before the click. Here a plain button
runs the writer, a hidden `gr.DownloadButton` receives the file, and a one-line script clicks it: one
click, no box.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import gradio as gr


def download_button(
    label: str,
    write: Callable[..., str | None],
    inputs: Sequence[Any],
    *,
    elem_id: str,
    api_name: str,
    **button: Any,
) -> gr.Button:
    """A button that calls `write(*inputs)` (a file's path, or None for nothing to download) and
    downloads that file. `elem_id` names the button; the hidden receiver is `<elem_id>-file`."""
    clicked = gr.Button(label, elem_id=elem_id, **button)
    receiver = gr.DownloadButton(visible="hidden", elem_id=f"{elem_id}-file")
    click = f"() => document.querySelector('#{elem_id}-file')?.click()"
    clicked.click(write, list(inputs), receiver, api_name=api_name, api_visibility="undocumented").success(
        None, None, None, js=click
    )
    return clicked
