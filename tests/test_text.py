import pytest

from agnews.text import clean_text, normalised_key


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("A second\\team of rocketeers", "A second team of rocketeers"),
        ("costs \\$10 million", "costs $10 million"),
        ("two\\\\breaks", "two breaks"),
        ("Storm shows Haiti #39;s straits", "Storm shows Haiti's straits"),
        ("the  #36;10 million prize", "the $10 million prize"),
        ("he said quot;noquot; today", 'he said "no" today'),
        ("war #151; and peace", "war \u2014 and peace"),
        ("AT amp;T profits", "AT &T profits"),
        ("&lt;b&gt;Bold&lt;/b&gt; move", "Bold move"),
        ("tabs\tand\nnewlines  ", "tabs and newlines"),
        ("nul\x00byte", "nul byte"),
        ("the #39;war#39; ends", "the 'war' ends"),
    ],
)
def test_clean_text_undoes_source_escapes(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


def test_clean_text_is_idempotent_on_clean_text() -> None:
    text = 'Haiti\'s straits cost $10 \u2014 "really" (AP)'
    assert clean_text(clean_text(text)) == clean_text(text) == text


def test_normalised_key_ignores_case_and_spacing() -> None:
    assert normalised_key("Oil  PRICES rise\\again") == normalised_key("oil prices rise again")
