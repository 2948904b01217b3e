"""`oneteam partners ...` and `oneteam links ...` on a real SQLite file."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from oneteam.interop.cli import links_app, partners_app
from oneteam.interop.smarthome.records import digest
from oneteam.interop.smarthome.store import PartnerStore

app = typer.Typer()
app.add_typer(partners_app, name="partners")
app.add_typer(links_app, name="links")
runner = CliRunner()


def _run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env={"ONETEAM_LANG": "en"})
    return result.exit_code, result.stdout, result.stderr


def test_partners_add_list_remove_and_links_revoke(tmp_path: Path) -> None:
    db = str(tmp_path / "oneteam.sqlite3")
    code, out, _ = _run(
        "partners", "add", "--name", "GiGA Genie", "--redirect-uri", "https://genie.example/cb",
        "--report-url", "https://genie.example/homegraph", "--rate", "120", "--database", db, "--json",
    )  # fmt: skip
    assert code == 0
    added = json.loads(out)
    store = PartnerStore(db)
    partner = store.partner(added["client_id"])
    assert partner is not None and partner.secret_hash == digest(added["client_secret"])
    link = store.create_link(partner.client_id, "demo", ("tv",), "devices.read")
    store.close()

    code, out, _ = _run("partners", "list", "--database", db, "--json")
    [listed] = json.loads(out)["partners"]
    assert code == 0 and listed["name"] == "GiGA Genie" and listed["links"] == 1
    assert "client_secret" not in out and added["client_secret"] not in out

    code, out, _ = _run("links", "list", "--database", db, "--json")
    assert code == 0 and [x["id"] for x in json.loads(out)["links"]] == [link.id]
    assert _run("links", "revoke", link.id, "--database", db)[0] == 0
    code, _, err = _run("links", "revoke", link.id, "--database", db)
    assert code == 2 and f"No link {link.id}" in err

    assert _run("partners", "remove", added["client_id"], "--database", db)[0] == 0
    code, _, err = _run("partners", "remove", added["client_id"], "--database", db)
    assert code == 2 and "No partner" in err


def test_bad_redirect_uris_are_refused_with_exit_code_2(tmp_path: Path) -> None:
    db = str(tmp_path / "oneteam.sqlite3")
    for uri in (
        "http://genie.example/cb",
        "https://genie.example/cb#frag",
        "genie.example/cb",
        "javascript:alert(1)",
    ):
        code, _, err = _run("partners", "add", "--name", "x", "--redirect-uri", uri, "--database", db)
        assert code == 2 and "redirect URI" in err
    code, _, _ = _run(
        "partners", "add", "--name", "local", "--redirect-uri", "http://127.0.0.1:9000/cb", "--database", db
    )
    assert code == 0


def test_partners_add_with_a_service_account_key_file(tmp_path: Path) -> None:
    from joserfc.jwk import RSAKey

    db = str(tmp_path / "oneteam.sqlite3")
    key_file = tmp_path / "sa.json"
    key_file.write_text(
        json.dumps(
            {
                "client_email": "push@partner.example",
                "private_key": RSAKey.generate_key(2048).as_pem(private=True).decode(),
                "token_uri": "https://oauth2.partner.example/token",
            }
        )
    )
    code, out, _ = _run(
        "partners", "add", "--name", "G", "--redirect-uri", "https://g.example/cb",
        "--report-url", "https://homegraph.g.example", "--service-account", str(key_file),
        "--database", db, "--json",
    )  # fmt: skip
    assert code == 0
    store = PartnerStore(db)
    accounts = store.service_accounts()
    store.close()
    assert accounts[json.loads(out)["client_id"]].client_email == "push@partner.example"
    assert json.loads(out)["pkce_required"] == "yes"
    code, out, _ = _run(
        "partners", "add", "--name", "NoPkce", "--redirect-uri", "https://n.example/cb", "--no-pkce",
        "--database", db, "--json",
    )  # fmt: skip
    store = PartnerStore(db)
    partner = store.partner(json.loads(out)["client_id"])
    store.close()
    assert code == 0 and partner is not None and partner.pkce_required is False
    # The key is sealed in the database, not stored as written.
    assert b"BEGIN PRIVATE KEY" not in Path(db).read_bytes()
    key_file.write_text('{"client_email": "x"}')
    code, _, err = _run(
        "partners", "add", "--name", "G", "--redirect-uri", "https://g.example/cb",
        "--service-account", str(key_file), "--database", db,
    )  # fmt: skip
    assert code == 2 and "missing private_key, token_uri" in " ".join(err.split())
