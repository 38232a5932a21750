"""Every setting the project reads, from the environment (prefix ``VERDICTS_``), in one class.

Secrets may also come from a file: ``VERDICTS_SECRET_KEY_FILE=/run/secrets/key`` reads the key
from that file. A bad value stops the process at start with the variable's name in the message.
"""

from __future__ import annotations

import base64
import ipaddress
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from email_validator import EmailNotValidError, validate_email
from pydantic import AnyHttpUrl, Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PREFIX = "VERDICTS_"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
SENDGRID_API_HOST = "https://api.sendgrid.com"
#: Settings that may be given as ``<NAME>_FILE`` (Docker and Kubernetes secrets).
FILE_SETTINGS = ("database_url", "redis_url", "sendgrid_api_key", "sendgrid_webhook_key", "secret_key",
                 "alert_webhook_url", "oidc_client_secret")


class SettingsError(RuntimeError):
    """A setting is missing or malformed; the message names the environment variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="ignore", frozen=True)

    database_url: str = Field("sqlite:///./var/verdicts.db", description="SQLAlchemy URL of the store of record")
    redis_url: str | None = Field(None, description="Redis for the broker; unset runs the embedded in-process broker")
    redis_namespace: str = Field("dramatiq", min_length=1, description="key prefix of the broker's queues")
    sendgrid_api_key: SecretStr | None = Field(None, description="unset writes mail to the file outbox")
    sendgrid_host: AnyHttpUrl = Field(AnyHttpUrl(SENDGRID_API_HOST), description="SendGrid API or a compatible endpoint")
    sendgrid_webhook_key: SecretStr | None = Field(None, description="public key that signs the Event Webhook")
    outbox_dir: Path = Field(Path("./var/outbox"), description="where the file mailer writes .eml files")
    var_dir: Path = Field(Path("./var"), description="embedded mode's data folder (SQLite, generated secret key)")
    base_url: AnyHttpUrl = Field(AnyHttpUrl("http://127.0.0.1:8000"), description="public URL used in links and mail")
    secret_key: SecretStr | None = Field(None, description="signs sessions and links; required in production")
    mail_from: str = Field("Verdicts <digest@verdicts.example.org>", description="From header of every mail")
    postal_address: str = Field("Verdicts, 1 Example Street, Springfield", description="postal address in the footer")
    email_templates_dir: Path = Field(PROJECT_ROOT / "templates" / "email", description="MJML and text templates")
    allow_private_networks: bool = Field(False, description="let the fetcher reach private and loopback addresses")
    fetch_timeout_seconds: Annotated[float, Field(gt=0, le=300)] = 20.0
    fetch_connect_timeout_seconds: Annotated[float, Field(gt=0, le=60)] = 5.0
    fetch_max_bytes: Annotated[int, Field(ge=1024)] = 15 * 1024 * 1024
    event_grace_seconds: Annotated[int, Field(ge=1, le=86400)] = 300
    relay_interval_seconds: Annotated[float, Field(gt=0, le=3600)] = 2.0
    poll_tick_seconds: Annotated[int, Field(ge=1, le=3600)] = 60
    digest_cron: str = Field("0 9 * * mon", description="when the weekly digest is compiled (crontab: m h dom mon dow)")
    digest_timezone: str = "UTC"
    digest_auto_approve: bool = Field(False, description="approve each compiled digest at once (no editor step)")
    email_logo_url: AnyHttpUrl | None = Field(None, description="https URL of the logo at the top of every mail")
    sendgrid_timeout_seconds: Annotated[float, Field(gt=0, le=300)] = 30.0
    sendgrid_max_attempts: Annotated[int, Field(ge=1, le=20)] = 5
    unsubscribe_mailto: str | None = Field(None, description="address for mailto: List-Unsubscribe (unset: URL only)")
    list_id: str | None = Field(None, pattern=r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$",
                                description="the digest's List-Id (RFC 2919), a dotted name such as "
                                "weekly.verdicts.example.org (unset: weekly. and the public URL's host)")
    feedback_sender_id: str = Field("verdicts", pattern=r"^[A-Za-z0-9._-]+$", max_length=64,
                                    description="sender id, the last field of Gmail's Feedback-ID header")
    mailer_smtputf8: bool = Field(False, description="the mailer delivers to addresses whose part before the @ is "
                                  "not ASCII (SMTPUTF8, RFC 6531): the file outbox can, SendGrid's v3 API cannot")
    soft_bounce_limit: Annotated[int, Field(ge=1, le=100, description="soft bounces in a row (no delivery between) "
                                            "after which an address is suppressed")] = 3
    open_tracking: bool = Field(False, description="SendGrid adds its open-tracking pixel and the engagement report "
                                "shows opens; off by default because mail "
                                "clients and scanners fetch the tracking image without a reader (Apple Mail "
                                "Privacy Protection prefetches every message), so opens overstate readers")
    session_lifetime_seconds: Annotated[int, Field(ge=60, le=30 * 86400, description="a staff session ends this long "
                                                   "after sign-in, active or not (OWASP: absolute timeout)")] = 12 * 3600
    session_idle_seconds: Annotated[int, Field(ge=60, le=30 * 86400, description="a staff session ends after this long "
                                               "without a request (OWASP: idle timeout)")] = 2 * 3600
    signin_failures_per_account: Annotated[int, Field(ge=1, le=1000, description="failed sign-ins to one account "
                                                      "in a lock window after which it is locked until the window "
                                                      "ends")] = 5
    signin_failures_per_address: Annotated[int, Field(ge=1, le=10000, description="failed sign-ins from one client "
                                                      "address in a lock window after which it is locked")] = 20
    signin_lock_seconds: Annotated[int, Field(ge=1, le=86400, description="the window failed sign-ins are counted "
                                              "in")] = 900
    api_token_days: Annotated[int, Field(ge=1, le=3650, description="days a new API token works")] = 90
    require_two_factor_for_admins: bool = Field(False, description="admins must enrol in two-factor sign-in "
                                                "(TOTP) before any other page opens to them")
    trusted_proxies: Annotated[tuple[str, ...], NoDecode] = Field(
        (), description="comma-separated addresses or networks of reverse proxies whose X-Forwarded-For and "
        "X-Forwarded-Proto are believed (unset: none; the peer is the client)")
    webhook_max_bytes: Annotated[int, Field(ge=1024, le=100 * 1024 * 1024, description="largest Event Webhook "
                                            "body accepted (413 past it); SendGrid posts far smaller "
                                            "batches")] = 5 * 1024 * 1024
    subscribe_limit_per_ip: Annotated[int, Field(ge=1)] = 20
    subscribe_limit_per_address: Annotated[int, Field(ge=1)] = 3
    subscribe_limit_window_seconds: Annotated[int, Field(ge=1, le=86400)] = 3600
    broker_heartbeat_timeout_ms: Annotated[int, Field(ge=1000)] = 60_000
    panel_quorum: Annotated[int, Field(ge=0, le=50, description="panel calls that complete a verdict; 0 = every active seat")] = 0
    alert_webhook_url: SecretStr | None = Field(None, description="Slack-compatible incoming webhook for ops alerts")
    alert_dead_letter_threshold: Annotated[int, Field(ge=1)] = 10
    alert_check_seconds: Annotated[int, Field(ge=5, le=3600)] = 60
    detect_threshold: Annotated[float | None, Field(gt=0, lt=1, description="detector score from which an entry is "
                                                    "queued; unset: the trained model's own threshold")] = None
    hub_endpoint: str = Field("https://huggingface.co", description="the Hugging Face Hub (or a mirror: scheme, host, "
                              "port, optional path prefix) where Hub sources may be, besides huggingface.co")
    hook_timeout_seconds: Annotated[float, Field(gt=0, le=60, description="an outgoing webhook POST's connect, "
                                                  "read and write timeout")] = 10.0
    hook_deadline_seconds: Annotated[float, Field(gt=0, le=300, description="the longest an outgoing webhook "
                                                   "attempt takes in all (connect, send, read the answer)")] = 30.0
    hook_max_attempts: Annotated[int, Field(ge=1, le=30, description="attempts of an outgoing webhook delivery "
                                            "before it fails")] = 8
    hook_retry_base_seconds: Annotated[float, Field(ge=0, le=3600, description="wait after a delivery's first "
                                                    "failed attempt; doubled after each further one")] = 30.0
    hook_retry_max_seconds: Annotated[float, Field(ge=0, le=7 * 86400, description="longest wait between two "
                                                   "attempts of a delivery")] = 6 * 3600.0
    worker_metrics: bool = Field(False, description="set by `verdicts worker`: enables dramatiq's Prometheus middleware")
    # Staff single sign-on with OpenID Connect (services/web/oidc.py): on when all three are set, off when none is.
    oidc_issuer: str | None = Field(None, description="the OpenID Connect issuer URL, exactly as its ID tokens' iss "
                                    "claim spells it (discovery: ISSUER/.well-known/openid-configuration)")
    oidc_client_id: str | None = Field(None, max_length=255, description="this app's client id at the issuer")
    oidc_client_secret: Annotated[SecretStr | None, Field(validate_default=True, description="this app's client "
                                                          "secret at the issuer")] = None
    oidc_name: str = Field("SSO", min_length=1, max_length=40, pattern=r"^[^\x00-\x1f\x7f]+$",
                           description='the issuer as the sign-in page names it ("Sign in with NAME")')

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql")):
            raise ValueError("must be a sqlite:/// or postgresql+psycopg:// URL")
        if value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value.removeprefix("postgresql://")
        return value

    @field_validator("sendgrid_api_key", "sendgrid_webhook_key", "secret_key", "alert_webhook_url", "oidc_issuer",
                     "oidc_client_id", "oidc_client_secret", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("alert_webhook_url")
    @classmethod
    def _alert_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(("https://", "http://")):
            raise ValueError("must be an http(s):// URL")
        return value

    @field_validator("sendgrid_webhook_key")
    @classmethod
    def _webhook_key(cls, value: SecretStr | None) -> SecretStr | None:
        """The Event Webhook's verification key as SendGrid's settings page shows it: base64 of a DER
        SubjectPublicKeyInfo holding an elliptic-curve (ECDSA) public key. Anything else would make every
        genuine post a 403, which SendGrid retries for a day and then drops, so it is refused at start."""
        if value is None:
            return value
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.serialization import load_der_public_key

        try:
            key = load_der_public_key(base64.b64decode(value.get_secret_value().strip(), validate=True))
        except ValueError as exc:  # binascii.Error is a ValueError; so are the loader's refusals
            raise ValueError("must be the base64 public key SendGrid shows for the signed Event Webhook") from exc
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise ValueError("must be an elliptic-curve (ECDSA) public key, as SendGrid signs with")
        return value

    @field_validator("oidc_client_id", "oidc_client_secret")
    @classmethod
    def _oidc_not_blank(cls, value: str | SecretStr | None) -> str | SecretStr | None:
        """A client id or secret is sent to the issuer as given: white space alone, or around it, is a mistake."""
        text = value.get_secret_value() if isinstance(value, SecretStr) else value
        if text is not None and (not text.strip() or text != text.strip()):
            raise ValueError("must not be blank or begin or end with white space")
        return value

    @field_validator("oidc_issuer")
    @classmethod
    def _oidc_issuer(cls, value: str | None) -> str | None:
        """An https URL with no query or fragment (OpenID Connect Discovery 1.0 §2); plain http only on loopback,
        for a local test issuer; a port, if any, 1-65535. Kept as written: the ID token's iss must equal it
        exactly, so a scheme or host in capitals (which URL parsing would lower-case, and no issuer's iss
        spells) is refused rather than changed."""
        if value is None:
            return None
        value = value.strip()
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError("must be an https:// URL without query or fragment")
        if not value.startswith(f"{parts.scheme}://") or parts.netloc != parts.netloc.lower():
            raise ValueError("must spell its scheme and host in lower case, exactly as the issuer's ID tokens do")
        if "@" in parts.netloc:
            raise ValueError("must not hold a user name or password")
        try:
            port_ok = parts.port != 0 and not parts.netloc.endswith(":")
        except ValueError:  # not a number, or above 65535
            port_ok = False
        if not port_ok:
            raise ValueError("must have a port from 1 to 65535, or none")
        if parts.scheme == "http" and parts.hostname not in ("localhost", "127.0.0.1", "::1"):
            raise ValueError("must be https:// (plain http only for a loopback test issuer)")
        return value

    @field_validator("oidc_client_secret")
    @classmethod
    def _oidc_complete(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if "oidc_issuer" not in info.data or "oidc_client_id" not in info.data:
            return value  # one of them is malformed: its own error says so
        given = [info.data["oidc_issuer"] is not None, info.data["oidc_client_id"] is not None, value is not None]
        if any(given) and not all(given):
            raise ValueError("VERDICTS_OIDC_ISSUER, VERDICTS_OIDC_CLIENT_ID and VERDICTS_OIDC_CLIENT_SECRET are set "
                             "together (single sign-on) or not at all")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis:// or rediss:// URL")
        return value

    @field_validator("mail_from")
    @classmethod
    def _mail_from(cls, value: str) -> str:
        address = value.rsplit("<", 1)[-1].rstrip(">").strip()
        try:
            validate_email(address, check_deliverability=False)
        except EmailNotValidError as exc:
            raise ValueError(f"not an email address: {exc}") from exc
        return value

    @field_validator("unsubscribe_mailto", mode="before")
    @classmethod
    def _mailto(cls, value: object) -> object:
        if value in (None, ""):
            return None
        try:
            validate_email(str(value), check_deliverability=False)
        except EmailNotValidError as exc:
            raise ValueError(f"not an email address: {exc}") from exc
        return value

    @field_validator("email_logo_url", mode="before")
    @classmethod
    def _https_logo(cls, value: object) -> object:
        if value in (None, ""):
            return None
        if not str(value).startswith("https://"):
            raise ValueError("must be an https:// URL (mail clients block plain http images)")
        return value

    @field_validator("hub_endpoint")
    @classmethod
    def _hub_endpoint(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError("must be an http(s):// URL: scheme, host, optional port and path prefix, no query")
        return value.strip().rstrip("/")

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _trusted_proxies(cls, value: object) -> object:
        entries = [item.strip() for item in value.split(",") if item.strip()] if isinstance(value, str) else value
        for entry in entries if isinstance(entries, list | tuple) else ():
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError as exc:
                raise ValueError(f"not an IP address or network: {entry!r}") from exc
        return entries

    @field_validator("digest_timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("digest_cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        if len(value.split()) != 5:
            raise ValueError("must have five fields: minute hour day month weekday")
        return value

    @property
    def oidc_enabled(self) -> bool:
        """Staff may sign in with the configured OpenID Connect issuer."""
        return self.oidc_issuer is not None and self.oidc_client_id is not None and self.oidc_client_secret is not None

    @property
    def embedded(self) -> bool:
        """No broker configured: one process with an in-process worker."""
        return self.redis_url is None

    @property
    def public_url(self) -> str:
        return str(self.base_url).rstrip("/")

    def served_at(self, host: str, port: int) -> Settings:
        """These settings for a process that serves the web app on ``host``:``port``.

        In embedded mode with no ``VERDICTS_BASE_URL`` given, links and mail point at the port actually
        served, ``http://host:port`` (a wildcard host, 0.0.0.0 or ::, as 127.0.0.1); otherwise they are
        returned unchanged: a configured base URL, or production behind its proxy, keeps its public URL.
        """
        if not self.embedded or "base_url" in self.model_fields_set:
            return self
        if host in ("", "0.0.0.0", "::"):
            host = "127.0.0.1"
        elif ":" in host:
            host = f"[{host}]"
        return self.model_copy(update={"base_url": AnyHttpUrl(f"http://{host}:{port}")})

    def secret(self) -> str:
        if self.secret_key is None:
            raise SettingsError("VERDICTS_SECRET_KEY is not set")
        return self.secret_key.get_secret_value()


def _file_overrides(environ: Mapping[str, str]) -> dict[str, str]:
    overrides: dict[str, str] = {}
    for name in FILE_SETTINGS:
        variable = f"{PREFIX}{name.upper()}_FILE"
        path = environ.get(variable)
        if not path:
            continue
        if environ.get(f"{PREFIX}{name.upper()}"):
            raise SettingsError(f"{variable}: set either {PREFIX}{name.upper()} or {variable}, not both")
        try:
            overrides[name] = Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SettingsError(f"{variable}: cannot read {path}: {exc.strerror}") from exc
    return overrides


def _embedded_secret(var_dir: Path) -> str:
    """The key kept in ``var/secret_key`` so sessions and links survive a restart of the demo."""
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key)
    return key


def load_settings(environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    """Read the settings once at start; raise SettingsError naming the variable on a bad value."""
    environ = os.environ if environ is None else environ
    values: dict[str, object] = {**_file_overrides(environ), **overrides}
    try:
        if environ is os.environ:
            settings = Settings(**values)
        else:
            settings = _settings_from_mapping(environ, values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{PREFIX}{str(err['loc'][0]).upper()}: {err['msg']}" for err in exc.errors()
        )
        raise SettingsError(f"invalid settings: {problems}") from exc
    if settings.secret_key is None:
        if not settings.embedded:
            raise SettingsError("VERDICTS_SECRET_KEY is required in production (VERDICTS_REDIS_URL is set)")
        settings = settings.model_copy(update={"secret_key": SecretStr(_embedded_secret(settings.var_dir))})
    return settings


def _settings_from_mapping(environ: Mapping[str, str], values: dict[str, object]) -> Settings:
    """Build from an explicit mapping instead of the process environment (used by tests and tools)."""
    from_env = {
        name: environ[f"{PREFIX}{name.upper()}"]
        for name in Settings.model_fields
        if f"{PREFIX}{name.upper()}" in environ
    }
    return Settings.model_validate({**from_env, **values})
