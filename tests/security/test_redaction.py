"""The redactor masks a secret in every spelling a URL, form, JSON text or echo gives it."""

from __future__ import annotations

import json
from urllib.parse import quote

from hypothesis import given, settings
from hypothesis import strategies as st

from orderstatus._redaction import MASK, Redactor
from orderstatus.testing.leaks import credential_forms

secrets = st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]),
                  min_size=8, max_size=24).filter(lambda s: s.strip() == s and s.strip())


def mixed(secret: str, choices: list[int]) -> str:
    """``secret`` with each character spelled one of several ways, as ``choices`` say."""
    out = []
    for char, choice in zip(secret, choices, strict=False):
        encoded = quote(char, safe="")
        cased = char.swapcase() if char.isascii() else char
        out.append([char, cased, encoded.lower(), quote(encoded, safe=""),
                    json.dumps(char, ensure_ascii=True)[1:-1]][choice])
    return "".join(out)


@settings(max_examples=200, deadline=None)
@given(secret=secrets, data=st.data())
def test_every_spelling_is_masked(secret: str, data: st.DataObject) -> None:
    redact = Redactor([secret])
    choices = data.draw(st.lists(st.integers(0, 4), min_size=len(secret), max_size=len(secret)))
    spellings = [*credential_forms(secret).values(), mixed(secret, choices)]
    for spelled in spellings:
        text = f"before {spelled} after"
        assert redact(text) == f"before {MASK} after", spelled


@given(secret=secrets, text=st.text(max_size=50))
def test_text_without_the_secret_is_left_alone(secret: str, text: str) -> None:
    if secret.casefold() not in text.casefold() and "%" not in text and "\\" not in text:
        assert Redactor([secret])(text) == text


def test_short_values_are_not_secrets() -> None:
    assert Redactor(["abc"])("abc abcd") == "abc abcd"


def test_a_last_character_is_masked_in_its_longest_spelling() -> None:
    """A secret ending in ``%`` or ``"``: its encoded or escaped end is masked whole."""
    assert Redactor(["0000000%"])("k=0000000%25&x") == f"k={MASK}&x"
    assert Redactor(["0000000%"])("k=0000000%2525&x") == f"k={MASK}&x"
    assert Redactor(['token12"'])('{"k": "token12\\""}') == f'{{"k": "{MASK}"}}'
