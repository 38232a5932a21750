"""Settings: defaults, validation that names the variable, *_FILE secrets, the embedded secret key."""

from __future__ import annotations

from pathlib import Path

import pytest

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
