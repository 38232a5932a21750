"""Settings: defaults, validation that names the variable, *_FILE secrets, the embedded secret key."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from services.core.settings import SENDGRID_API_HOST, SettingsError, load_settings


def test_defaults_describe_embedded_mode(tmp_path: Path) -> None:
    # Given an empty environment
    settings = load_settings({"VERDICTS_VAR_DIR": str(tmp_path)})
    # Then everything runs in one process with SQLite and the file outbox
    assert settings.database_url == "sqlite:///./var/verdicts.db"
    assert settings.embedded and settings.redis_url is None
    assert settings.sendgrid_api_key is None
    assert str(settings.sendgrid_host).rstrip("/") == SENDGRID_API_HOST
    assert settings.outbox_dir == Path("./var/outbox")
    assert settings.allow_private_networks is False


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("VERDICTS_DATABASE_URL", "mysql://localhost/db"),
        ("VERDICTS_REDIS_URL", "http://localhost:6379"),
        ("VERDICTS_BASE_URL", "not a url"),
        ("VERDICTS_MAIL_FROM", "Verdicts <nobody>"),
        ("VERDICTS_ALLOW_PRIVATE_NETWORKS", "perhaps"),
        ("VERDICTS_FETCH_TIMEOUT_SECONDS", "-1"),
        ("VERDICTS_DIGEST_TIMEZONE", "Mars/Olympus"),
        ("VERDICTS_TRUSTED_PROXIES", "10.0.0.1, proxy.internal"),
    ],
)
def test_a_bad_value_fails_with_the_variables_name(tmp_path: Path, variable: str, value: str) -> None:
    # Given one malformed variable
    environ = {"VERDICTS_VAR_DIR": str(tmp_path), variable: value}
    # When the settings load, Then the error names that variable
    with pytest.raises(SettingsError, match=variable):
        load_settings(environ)


def test_trusted_proxies_are_a_comma_separated_list_of_addresses_and_networks_none_by_default(tmp_path: Path) -> None:
    assert load_settings({"VERDICTS_VAR_DIR": str(tmp_path)}).trusted_proxies == ()
    given = load_settings({"VERDICTS_VAR_DIR": str(tmp_path), "VERDICTS_TRUSTED_PROXIES": "10.0.0.1, fd00::/8"})
    assert given.trusted_proxies == ("10.0.0.1", "fd00::/8")


def test_a_secret_can_come_from_a_file(tmp_path: Path) -> None:
    # Given the API key in a file, as Docker secrets provide it
    key_file = tmp_path / "sendgrid_key"
    key_file.write_text("SG.from-a-file\n")
    settings = load_settings({"VERDICTS_VAR_DIR": str(tmp_path), "VERDICTS_SENDGRID_API_KEY_FILE": str(key_file)})
    # Then the key is read, trimmed
    assert settings.sendgrid_api_key is not None
    assert settings.sendgrid_api_key.get_secret_value() == "SG.from-a-file"


def test_a_secret_given_twice_is_refused(tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text("one")
    with pytest.raises(SettingsError, match="VERDICTS_SECRET_KEY_FILE"):
        load_settings({"VERDICTS_SECRET_KEY": "two", "VERDICTS_SECRET_KEY_FILE": str(key_file)})


def test_an_unreadable_secret_file_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="VERDICTS_SECRET_KEY_FILE"):
        load_settings({"VERDICTS_SECRET_KEY_FILE": str(tmp_path / "missing")})


def test_embedded_mode_generates_a_secret_key_once_and_keeps_it(tmp_path: Path) -> None:
    # Given no secret key in embedded mode
    environ = {"VERDICTS_VAR_DIR": str(tmp_path)}
    # When the settings load twice
    first, second = load_settings(environ), load_settings(environ)
    # Then one key was generated, kept in var/, and is private to its owner
    assert first.secret() == second.secret()
    assert len(first.secret()) >= 40
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_production_requires_a_secret_key(tmp_path: Path) -> None:
    # Given a broker (production) but no secret key
    environ = {"VERDICTS_VAR_DIR": str(tmp_path), "VERDICTS_REDIS_URL": "redis://127.0.0.1:6379/0"}
    with pytest.raises(SettingsError, match="VERDICTS_SECRET_KEY"):
        load_settings(environ)
    assert not (tmp_path / "secret_key").exists()


def test_an_empty_api_key_means_the_file_outbox(tmp_path: Path) -> None:
    # Given docker-compose passing an empty VERDICTS_SENDGRID_API_KEY
    settings = load_settings({"VERDICTS_VAR_DIR": str(tmp_path), "VERDICTS_SENDGRID_API_KEY": ""})
    assert settings.sendgrid_api_key is None


def test_a_plain_postgresql_url_uses_psycopg_3(tmp_path: Path) -> None:
    settings = load_settings({"VERDICTS_VAR_DIR": str(tmp_path), "VERDICTS_DATABASE_URL": "postgresql://u@h/db"})
    assert settings.database_url == "postgresql+psycopg://u@h/db"


def test_embedded_links_follow_the_port_served_unless_a_base_url_is_given(tmp_path: Path) -> None:
    # Given embedded settings with no base URL, one with a base URL, and production settings
    embedded = load_settings({"VERDICTS_VAR_DIR": str(tmp_path)})
    configured = load_settings({"VERDICTS_VAR_DIR": str(tmp_path), "VERDICTS_BASE_URL": "https://news.example.org"})
    production = load_settings({"VERDICTS_VAR_DIR": str(tmp_path), "VERDICTS_REDIS_URL": "redis://127.0.0.1:6379/0",
                                "VERDICTS_SECRET_KEY": "a-secret-for-the-test"})
    # When each serves on port 8765
    # Then only the embedded one without a base URL points its links at that port (a wildcard host as 127.0.0.1)
    assert embedded.served_at("127.0.0.1", 8765).public_url == "http://127.0.0.1:8765"
    assert embedded.served_at("0.0.0.0", 8765).public_url == "http://127.0.0.1:8765"
    assert embedded.served_at("::1", 8765).public_url == "http://[::1]:8765"
    assert configured.served_at("127.0.0.1", 8765).public_url == "https://news.example.org"
    assert production.served_at("127.0.0.1", 8765).public_url == production.public_url


_OIDC = {"VERDICTS_OIDC_ISSUER": "https://id.example.org/realms/staff", "VERDICTS_OIDC_CLIENT_ID": "verdicts",
         "VERDICTS_OIDC_CLIENT_SECRET": "s3cret"}


def test_single_sign_on_is_on_only_with_issuer_client_id_and_secret_all_set(tmp_path: Path) -> None:
    # Given none of the three, Then single sign-on is off
    assert not load_settings({"VERDICTS_VAR_DIR": str(tmp_path)}).oidc_enabled
    # Given all three, Then it is on, the issuer kept exactly as written (its tokens' iss must equal it)
    settings = load_settings({"VERDICTS_VAR_DIR": str(tmp_path), **_OIDC})
    assert settings.oidc_enabled and settings.oidc_issuer == "https://id.example.org/realms/staff"
    # Given only some of them, Then the settings are refused, naming the three
    for missing in _OIDC:
        partial = {name: value for name, value in _OIDC.items() if name != missing}
        with pytest.raises(SettingsError, match="VERDICTS_OIDC_ISSUER, VERDICTS_OIDC_CLIENT_ID and"):
            load_settings({"VERDICTS_VAR_DIR": str(tmp_path), **partial})


@pytest.mark.parametrize("issuer", ["http://id.example.org", "https://id.example.org/?realm=staff", "id.example.org"])
def test_an_oidc_issuer_must_be_https_without_a_query(tmp_path: Path, issuer: str) -> None:
    # Given an issuer in plain http off loopback, with a query, or without a scheme, Then it is refused by name
    with pytest.raises(SettingsError, match="VERDICTS_OIDC_ISSUER"):
        load_settings({"VERDICTS_VAR_DIR": str(tmp_path), **_OIDC, "VERDICTS_OIDC_ISSUER": issuer})


@pytest.mark.parametrize("issuer", ["https://id.example.org:99999", "https://id.example.org:0/realms/staff",
                                    "https://id.example.org:/realms/staff", "https://id.example.org:https"])
def test_an_oidc_issuer_port_must_be_from_1_to_65535(tmp_path: Path, issuer: str) -> None:
    # Given an issuer whose port is out of range, empty or not a number, Then it is refused by name, saying why
    with pytest.raises(SettingsError, match="VERDICTS_OIDC_ISSUER: .*port from 1 to 65535"):
        load_settings({"VERDICTS_VAR_DIR": str(tmp_path), **_OIDC, "VERDICTS_OIDC_ISSUER": issuer})
    # And a port in range is kept as written
    settings = load_settings({"VERDICTS_VAR_DIR": str(tmp_path), **_OIDC,
                              "VERDICTS_OIDC_ISSUER": "https://id.example.org:8443/realms/staff"})
    assert settings.oidc_issuer == "https://id.example.org:8443/realms/staff"


@pytest.mark.parametrize("issuer", ["HTTPS://id.example.org/realms/staff", "Https://id.example.org",
                                    "https://ID.example.org/realms/staff"])
def test_an_oidc_issuer_in_capitals_is_refused_not_changed(tmp_path: Path, issuer: str) -> None:
    # Given an issuer whose scheme or host is written in capitals (its ID tokens' iss would never equal it),
    # Then it is refused by name, saying to write it in lower case
    with pytest.raises(SettingsError, match="VERDICTS_OIDC_ISSUER: .*lower case"):
        load_settings({"VERDICTS_VAR_DIR": str(tmp_path), **_OIDC, "VERDICTS_OIDC_ISSUER": issuer})


def test_an_oidc_issuer_with_a_user_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="VERDICTS_OIDC_ISSUER: .*user name or password"):
        load_settings({"VERDICTS_VAR_DIR": str(tmp_path), **_OIDC,
                       "VERDICTS_OIDC_ISSUER": "https://me:pw@id.example.org"})


@pytest.mark.parametrize("name", ["VERDICTS_OIDC_CLIENT_ID", "VERDICTS_OIDC_CLIENT_SECRET"])
@pytest.mark.parametrize("value", ["  ", "\t", " verdicts", "verdicts\n"])
def test_a_blank_or_padded_oidc_client_id_or_secret_is_refused(tmp_path: Path, name: str, value: str) -> None:
    # Given single sign-on with a client id or secret of white space, or with white space around it,
    # Then the settings are refused, naming that variable
    with pytest.raises(SettingsError, match=f"{name}: .*blank or begin or end with white space"):
        load_settings({"VERDICTS_VAR_DIR": str(tmp_path), **_OIDC, name: value})


@pytest.mark.parametrize("key", ["not-base64!!", "aGVsbG8=", "MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE="],
                         ids=["not-base64", "not-a-key", "ed25519-key"])
def test_a_webhook_key_that_is_not_an_ecdsa_public_key_is_refused_at_start(tmp_path: Path, key: str) -> None:
    # Given a webhook verification key that no SendGrid signature could ever verify against,
    # Then the settings are refused, naming the variable (instead of a 403 for every genuine post)
    with pytest.raises(SettingsError, match="VERDICTS_SENDGRID_WEBHOOK_KEY: "):
        load_settings({"VERDICTS_VAR_DIR": str(tmp_path), "VERDICTS_SENDGRID_WEBHOOK_KEY": key})


def test_the_webhook_key_sendgrid_shows_is_taken(tmp_path: Path) -> None:
    # Given the base64 DER public key of an ECDSA P-256 pair, as SendGrid's settings page shows it
    private = ec.generate_private_key(ec.SECP256R1())
    der = private.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    # When the settings load, Then the key is kept as given
    loaded = load_settings({"VERDICTS_VAR_DIR": str(tmp_path),
                            "VERDICTS_SENDGRID_WEBHOOK_KEY": base64.b64encode(der).decode()})
    assert loaded.sendgrid_webhook_key is not None
