"""The language data is checked against its schema at load, and the parser sees token roles only.

A bad key or type in lang/<language>/*.yaml fails at load with the file and the key path; the
parser never reads a tokenizer's own tag set (Kiwi's tags are mapped to roles in tokens.py), so a
second tokenizer plugs in by giving roles — shown here by parsing hand-made tokens without Kiwi.
"""

from __future__ import annotations

import ast
import shutil
from importlib import resources
from pathlib import Path

import pytest
import yaml

from oneteam.model import Home
from oneteam.voice.nlu import lexicon_build as lexicon_module
from oneteam.voice.nlu.lexicon import LANGUAGES
from oneteam.voice.nlu.lexicon_build import build_lexicon
from oneteam.voice.nlu.parse import parse
from oneteam.voice.nlu.resolve import Resolver
from oneteam.voice.nlu.schema import FILES, LanguageDataError, check
from oneteam.voice.nlu.tokens import Role, Token, kiwi_role

LANG = Path(str(resources.files("oneteam.voice.nlu") / "lang"))


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", sorted(FILES))
def test_every_shipped_file_fits_its_schema(language: str, name: str) -> None:
    path = LANG / language / f"{name}.yaml"
    check(yaml.safe_load(path.read_text(encoding="utf-8")), name, str(path))


def _grammar() -> dict[str, object]:
    data = yaml.safe_load((LANG / "ko" / "grammar.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda g: g.update(brief_wrods=["잠시"]), "'brief_wrods': unknown key"),
        (lambda g: g.update(brief_words="잠시"), "'brief_words': expected a list, got str"),
        (lambda g: g["time"].update(unmarked_hours={"pm": ["세"]}), "'time.unmarked_hours.pm.0'"),
        (lambda g: g.update(exclusion_follows="yes"), "'exclusion_follows': 'yes' should be true or false"),
        (lambda g: g["units"].update(degree=[True]), "'units.degree.0': True should be text"),
        (lambda g: g["time"].update(when=["때"]), "'time.when': unknown key"),
    ],
)
def test_a_bad_key_or_type_names_the_file_and_the_key(change: object, named: str) -> None:
    grammar = _grammar()
    assert callable(change)
    change(grammar)
    with pytest.raises(LanguageDataError) as raised:
        check(grammar, "grammar", "lang/ko/grammar.yaml")
    assert str(raised.value).startswith("lang/ko/grammar.yaml: key ")
    assert named in str(raised.value)


def test_an_unquoted_on_is_caught_where_yaml_makes_it_a_boolean() -> None:
    words = yaml.safe_load("actions:\n  on:\n    words: [켜]\n")
    with pytest.raises(LanguageDataError, match=r"'actions\.True': a name must be text; quote it"):
        check(words, "words", "lang/xx/words.yaml")


def test_a_broken_file_fails_at_load_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, nlu_home: Home
) -> None:
    """Through the real loader: a copy of the package's language folder with one key misspelt."""
    package = tmp_path / "nlu"
    shutil.copytree(LANG, package / "lang")
    broken = package / "lang" / "ko" / "words.yaml"
    broken.write_text(
        broken.read_text(encoding="utf-8").replace("now_words:", "now_wrods:"), encoding="utf-8"
    )
    monkeypatch.setattr(lexicon_module.resources, "files", lambda _package: package)
    lexicon_module._language_file.cache_clear()
    try:
        with pytest.raises(LanguageDataError, match=r"lang/ko/words\.yaml: key 'now_wrods': unknown key"):
            build_lexicon(nlu_home, "ko")
    finally:
        lexicon_module._language_file.cache_clear()


def test_which_bare_hours_mean_the_afternoon_is_language_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, nlu_home: Home
) -> None:
    """ "세 시에" is 15:00 by the shipped grammar; with the rule taken out of the YAML it is 03:00."""
    from oneteam.voice.nlu import Understander

    text = "세 시에 청소기 돌려 줘"
    assert Understander(nlu_home).understand(text).as_dict()["at"] == "15:00"
    package = tmp_path / "nlu"
    shutil.copytree(LANG, package / "lang")
    grammar = package / "lang" / "ko" / "grammar.yaml"
    grammar.write_text(
        grammar.read_text(encoding="utf-8").replace("pm: [1, 2, 3, 4, 5, 6]", "pm: []"), encoding="utf-8"
    )
    monkeypatch.setattr(lexicon_module.resources, "files", lambda _package: package)
    lexicon_module._language_file.cache_clear()
    try:
        assert Understander(nlu_home).understand(text).as_dict()["at"] == "03:00"
    finally:
        lexicon_module._language_file.cache_clear()


# -- roles ----------------------------------------------------------------------------------------


def test_the_parser_reads_roles_never_tags() -> None:
    """Only the tokenizer's modules (tokens.py, kiwi_analyser.py) may know its tags: no other nlu
    module reads `.tag`."""
    folder = Path(str(resources.files("oneteam.voice.nlu")))
    readers = []
    for source in sorted(folder.glob("*.py")):
        if source.name in ("tokens.py", "kiwi_analyser.py"):
            continue
        tree = ast.parse(source.read_text(encoding="utf-8"))
        readers += [
            f"{source.name}:{node.lineno}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and node.attr == "tag"
        ]
    assert readers == []


def test_kiwi_tags_map_to_roles() -> None:
    assert kiwi_role("VV-I") is Role.VERB  # irregular verbs take their base tag's role
    assert kiwi_role("JKO") is Role.PARTICLE
    assert kiwi_role("W_URL") is Role.SYMBOL
    assert kiwi_role("EF") is Role.FINAL_ENDING
    assert kiwi_role("NNB") is Role.BOUND_NOUN


def test_tokens_from_another_tokenizer_parse_the_same(nlu_home: Home) -> None:
    """ "거실 불 꺼 줘" split by hand, as a second analyser would, with roles and no tags."""
    text = "거실 불 꺼 줘"
    parts = [
        ("거실", "거실", Role.NOUN, 0),
        ("불", "불", Role.NOUN, 3),
        ("꺼", "끄", Role.VERB, 5),
        ("꺼", "어", Role.CONNECTIVE_ENDING, 5),
        ("줘", "주", Role.AUXILIARY, 7),
        ("줘", "어", Role.FINAL_ENDING, 7),
    ]
    tokens = tuple(Token(s, lemma, role, start, start + len(s)) for s, lemma, role, start in parts)
    parsed = parse(tokens, text, build_lexicon(nlu_home, "ko"))
    result = Resolver(nlu_home).resolve(parsed, None)
    assert result.as_dict() == {
        "kind": "command",
        "actions": [{"device": "light_living", "command": "turn_off"}],
    }
