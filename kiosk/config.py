"""The TOML configuration of every program in the product.

One file serves the kiosk, the counter, the board and the server; each reads the sections it
needs. Everything is validated when the file is loaded: a wrong key or value stops start-up with
one line naming the key, the bad value and what is allowed (`ConfigError`), never a traceback.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import logging
import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

log = logging.getLogger(__name__)

APP_NAME = "hospital-queue-kiosk"
SYSTEM_CONFIG_PATH = Path("/etc/kiosk/kiosk.toml")
CONFIG_ENV = "KIOSK_CONFIG"

# The groups the Law on Medical Examination and Treatment 2023, Art. 3(2), puts first.
DEFAULT_PRIORITY_REASONS = (
    "emergency",
    "child_under_6",
    "pregnant",
    "disability",
    "elderly_75",
    "merit",
)

_CONNECTION_RE = re.compile(
    r"^(none|usb:[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{1,4}|network:[^:\s]+(:\d{1,5})?"
    r"|serial:[^:\s]+(:\d+)?|file:.+|cups:[^\s]+|preview(:.+)?)$"
)
CONNECTION_FORMS = (
    "usb:VID:PID, network:HOST[:PORT], serial:DEVICE[:BAUD], file:PATH, cups:QUEUE, "
    "preview[:DIR] or none"
)


Language = Literal["vi", "en"]


class ConfigError(Exception):
    """The configuration cannot be used; the message is one line for the person fixing it."""


class _Section(BaseModel):
    # defer_build: each class's validator is built when a config is first validated, not when
    # this module is imported; a start over a config it has checked before (`load_checked_config`)
    # builds none before its first screen.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


def default_data_dir() -> Path:
    """Where the demo keeps its database when the config names none."""
    override = os.environ.get("KIOSK_DATA_DIR")
    if override:
        return Path(override)
    # Here, not at the top: platformdirs (with tempfile, shutil, random) is not needed to
    # validate a config, which every command does before anything else.
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def _default_languages() -> list[Language]:
    return ["vi", "en"]


class HospitalConfig(_Section):
    name: str = Field("Bệnh viện Đa khoa tỉnh", min_length=1)
    name_en: str = "Provincial General Hospital"
    timezone: str = "Asia/Ho_Chi_Minh"
    languages: list[Language] = Field(default_factory=_default_languages, min_length=1)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("an IANA time zone name such as Asia/Ho_Chi_Minh") from None
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class KioskConfig(_Section):
    id: str = Field("kiosk-1", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    database_url: str = ""  # empty: SQLite file under the data directory
    fullscreen: bool = False
    idle_seconds: int = Field(60, ge=5, le=3600)
    cooldown_seconds: int = Field(3, ge=0, le=300)
    result_seconds: int = Field(15, ge=3, le=300)
    # Touches are ignored this long after every page change (and until the finger that changed
    # it lifts): a second tap, a tremor or an unsure "did it work?" never chooses anything.
    tap_guard_ms: int = Field(500, ge=200, le=2000)
    admin_pin_hash: str = ""


class NumberingConfig(_Section):
    width: int = Field(3, ge=1, le=6)
    offset: int = Field(0, ge=0, le=999_000)
    # This kiosk's numbers are offset + 1 ... offset + block_size (registered alike on the
    # server with `add-device --numbering-offset --block-size`); beyond it the kiosk stops.
    block_size: int = Field(100_000, ge=1, le=1_000_000)


class PrinterConfig(_Section):
    connection: str = "preview"
    paper_width_mm: Literal[58, 80] = 80
    profile: str = "TM-T20II"
    encoding: Literal["raster", "compact"] = "raster"
    timeout_seconds: float = Field(10.0, gt=0, le=120)
    footer: str = "Xin cảm ơn! Vui lòng giữ phiếu này."

    @field_validator("connection")
    @classmethod
    def _known_connection(cls, value: str) -> str:
        if not _CONNECTION_RE.match(value):
            raise ValueError(f"one of {CONNECTION_FORMS}")
        return value


MAX_SERVER_WORKERS = 32


class ServerConfig(_Section):
    url: str = ""  # the central server the kiosk syncs with; empty: no sync
    token_file: str = ""
    ca_file: str = ""
    timeout_seconds: float = Field(10.0, gt=0, le=120)
    sync_interval_seconds: float = Field(5.0, gt=0, le=3600)
    # The server process itself:
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    database_url: str = ""  # empty: SQLite file under the data directory
    public_url: str = ""  # base of the QR status link; empty: `url`
    cert_file: str = ""
    key_file: str = ""
    allow_plain_http: bool = False
    # /docs and /redoc (the API's browsable documentation); off in production if wanted.
    api_docs: bool = True
    # Server processes on the one port (uvicorn's process model); more than one needs
    # PostgreSQL, whose notifications wake the long-polls of every process.
    workers: int = Field(1, ge=1, le=MAX_SERVER_WORKERS, strict=True)
    # The patient's status page says "Sắp đến lượt" (your turn is near) when at most this many
    # people are ahead (0: only when next).
    status_near_ahead: int = Field(3, ge=0, le=50)

    @model_validator(mode="after")
    def _tls_unless_loopback(self) -> ServerConfig:
        # Tokens and queue data cross the hospital network: plain HTTP only on this machine,
        # or when the config says so explicitly.
        parsed = urlsplit(self.url)
        if self.url and parsed.scheme not in ("http", "https"):
            raise ValueError(f"url = {self.url!r} is not allowed; expected an https:// address")
        if parsed.scheme == "http" and not self.allow_plain_http:
            host = parsed.hostname or ""
            if host != "localhost" and not _is_loopback(host):
                raise ValueError(
                    f"url = {self.url!r} is not allowed: plain HTTP to another machine; "
                    "expected https:// (or set server.allow_plain_http = true on a network you "
                    "trust)"
                )
        return self


def _on_this_machine(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host == "localhost" or _is_loopback(host)


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class QueueConfig(_Section):
    priority_reasons: list[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")]] = Field(
        default_factory=lambda: list(DEFAULT_PRIORITY_REASONS)
    )
    # At most this many priority calls in a row while normal tickets wait.
    max_priority_in_row: int = Field(3, ge=1, le=100)


class CounterConfig(_Section):
    max_recalls: int = Field(3, ge=1, le=20)


class BoardConfig(_Section):
    language: Language = "vi"
    announcement: str = "Mời số {code} vào {room}"
    notice: str = ""
    chime: bool = True
    speech: bool = True
    history: int = Field(6, ge=1, le=20)


class ConsoleConfig(_Section):
    """The operations console at /admin and the Prometheus endpoint /metrics."""

    session_hours: float = Field(10.0, gt=0, le=24 * 7)
    # Failed logins for one name (or from one address) within the window before it locks.
    login_max_failures: int = Field(5, ge=1, le=100)
    login_window_minutes: float = Field(15.0, gt=0, le=24 * 60)
    # Each new device problem is POSTed here as JSON once (hospital chat, province centre).
    webhook_url: str = ""
    # /metrics answers a bearer token from this file, or a scraper from these networks.
    metrics_token_file: str = ""
    metrics_allow: list[str] = Field(default_factory=lambda: ["127.0.0.1/32", "::1/128"])

    @field_validator("webhook_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and urlsplit(value).scheme not in ("http", "https"):
            raise ValueError("an http:// or https:// address, or empty")
        return value

    @field_validator("metrics_allow")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"networks such as 10.0.0.0/8 ({item!r} is not one)") from None
        return value


class Config(_Section):
    hospital: HospitalConfig = Field(default_factory=HospitalConfig)
    kiosk: KioskConfig = Field(default_factory=KioskConfig)
    numbering: NumberingConfig = Field(default_factory=NumberingConfig)
    printer: PrinterConfig = Field(default_factory=PrinterConfig)
    server: ServerConfig = Field(default_factory=ServerConfig)
    queue: QueueConfig = Field(default_factory=QueueConfig)
    counter: CounterConfig = Field(default_factory=CounterConfig)
    board: BoardConfig = Field(default_factory=BoardConfig)
    console: ConsoleConfig = Field(default_factory=ConsoleConfig)

    source: str = Field("built-in defaults", exclude=True)

    @property
    def data_dir(self) -> Path:
        return default_data_dir()

    @property
    def kiosk_database_url(self) -> str:
        return self.kiosk.database_url or f"sqlite:///{self.data_dir / 'kiosk.db'}"

    @property
    def server_database_url(self) -> str:
        return self.server.database_url or f"sqlite:///{self.data_dir / 'server.db'}"

    @property
    def public_base_url(self) -> str:
        """Where patients' phones reach the server, as the server itself announces it."""
        base = self.server.public_url or self.server.url
        return (base or f"http://{self.server.host}:{self.server.port}").rstrip("/")

    def status_url(self, ticket_id: str) -> str:
        """The ticket's status page for a patient's phone (the QR on the ticket and the number
        screen), or "" when there is none: a kiosk working alone (no server.url) has a page
        only if server.public_url names one; an address on this machine is never printed."""
        base = (self.server.public_url or self.server.url).rstrip("/")
        if not base or _on_this_machine(base):
            return ""
        return f"{base}/t/{ticket_id}"

    def server_status_url(self, ticket_id: str) -> str:
        """The status page as the central server answers it (its own address by default)."""
        return f"{self.public_base_url}/t/{ticket_id}"


def _describe(error: ErrorDetails, source: str) -> str:
    key = ".".join(str(part) for part in error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        section = error["loc"][:-1]
        model: type[BaseModel] = Config
        for part in section:
            annotation = model.model_fields[str(part)].annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                model = annotation
        allowed = ", ".join(k for k in model.model_fields if k != "source")
        return f"{source}: unknown key '{key}'; allowed here: {allowed}"
    value = error.get("input")
    # "Input should be 58 or 80" -> "expected 58 or 80"
    message = str(error["msg"]).removeprefix("Value error, ").removeprefix("Input should be ")
    if kind == "missing":
        return f"{source}: '{key}' is required"
    if isinstance(value, dict):  # a rule across keys of a section names its key itself
        return f"{source}: {key}.{message}"
    return f"{source}: {key} = {value!r} is not allowed; expected {_lower_first(message)}"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text else text


def parse_config(data: dict[str, Any], source: str = "config") -> Config:
    """Validate a parsed TOML document; raise ConfigError naming the first bad key."""
    try:
        return Config.model_validate({**data, "source": source})
    except ValidationError as exc:
        raise ConfigError(one_line(_describe(exc.errors()[0], source))) from None


def one_line(text: str) -> str:
    """Escape control characters (a TOML key may hold a newline): messages stay one line."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def resolve_config_path(explicit: str | os.PathLike[str] | None) -> Path | None:
    """--config, else $KIOSK_CONFIG, else /etc/kiosk/kiosk.toml, else None (built-in defaults)."""
    if explicit:
        return Path(explicit)
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env)
    try:
        present = SYSTEM_CONFIG_PATH.exists()
    except OSError:
        present = True  # there but not ours to read: load_config says so in one line
    return SYSTEM_CONFIG_PATH if present else None


def load_config(explicit: str | os.PathLike[str] | None = None) -> Config:
    path = resolve_config_path(explicit)
    if path is None:
        return Config()
    return _parse_text(_read_text(path), path)


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file ({exc.strerror})") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: the file is not UTF-8 text") from None


def _parse_text(text: str, path: Path) -> Config:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return parse_config(data, str(path))


# What a program that starts often (the kiosk: every boot, every restart by its watchdog) keeps
# of the config it validated: the file's exact text and the values pydantic made of it.
CHECKED_CONFIG_FILE = "config-checked.json"


def load_checked_config(explicit: str | os.PathLike[str] | None = None) -> tuple[Config, bool]:
    """`load_config`, quicker over a file validated before: when the data directory keeps this
    very text of this file, checked by these very rules, the Config is made from the values
    kept there (`model_construct`: no validator is built; building them, and the
    importlib.metadata their plugin lookup imports, is a tenth of the kiosk's start). The
    second value is then True, and the caller runs `confirm_config` before it relies on more
    than its first screen. Otherwise the file is validated as `load_config` does (a bad one
    raises ConfigError) and its values are kept for the next start."""
    path = resolve_config_path(explicit)
    text = "" if path is None else _read_text(path)
    key = _checked_key(path, text)
    kept = default_data_dir() / CHECKED_CONFIG_FILE
    try:
        document = json.loads(kept.read_text(encoding="utf-8"))
        if document["key"] == key:
            return _construct(Config, {**document["values"], "source": key["file"]}), True
    except FileNotFoundError:
        pass
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
        log.debug("not using %s: %s", kept, exc)
    config = Config() if path is None else _parse_text(text, path)
    document = {"key": key, "values": config.model_dump(mode="json")}
    try:
        write_atomically(kept, json.dumps(document, ensure_ascii=False))
    except OSError as exc:
        log.debug("cannot keep the checked config in %s: %s", kept, exc)
    return config, False


def confirm_config(config: Config, explicit: str | os.PathLike[str] | None = None) -> None:
    """Validate the file `load_checked_config` read from its kept values; ConfigError if it is
    invalid now, or says anything else than `config` (the kept values are then dropped: the
    next start validates the file before anything, and says what is wrong)."""
    try:
        checked = load_config(explicit)
        if checked.model_dump() != config.model_dump() or checked.source != config.source:
            raise ConfigError(
                f"{config.source}: the config's kept values differ from the file's; restart to "
                "read the file again"
            )
    except ConfigError:
        (default_data_dir() / CHECKED_CONFIG_FILE).unlink(missing_ok=True)
        raise


def _checked_key(path: Path | None, text: str) -> dict[str, str]:
    """The file, its exact text, and the rules that checked it (this module as installed, and
    pydantic's version): any change to one of them validates the file again."""
    from pydantic.version import VERSION

    rules = Path(__file__).stat()
    return {
        "file": "built-in defaults" if path is None else str(path),
        "text": text,
        "rules": f"{rules.st_size}:{rules.st_mtime_ns} pydantic {VERSION}",
    }


def _construct(model: type[_Section], values: dict[str, Any]) -> Any:
    fields: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        if name in values:
            kind = field.annotation
            if isinstance(kind, type) and issubclass(kind, _Section):
                fields[name] = _construct(kind, values[name])
            else:
                fields[name] = values[name]
    return model.model_construct(**fields)


def write_atomically(path: Path, text: str, mode: int = 0o600) -> None:
    """Replace a file so that a power cut leaves either the old or the new one, never half.

    An existing file keeps its mode, owner and group (root editing /etc/kiosk/kiosk.toml must
    leave it readable by the kiosk user and no one else); a new one gets `mode`.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        old = path.stat()
    except FileNotFoundError:
        old = None
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            if old is not None:
                os.fchmod(handle.fileno(), old.st_mode & 0o7777)
                if (old.st_uid, old.st_gid) != (os.getuid(), os.getgid()):
                    with contextlib.suppress(PermissionError):
                        os.fchown(handle.fileno(), old.st_uid, old.st_gid)
            os.fsync(handle.fileno())
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
