from __future__ import annotations

import socket
from pathlib import Path

import pytest

from bylab.cli import check_port_free
from bylab.errors import BylabError
from bylab.settings import Settings, settings_reference_markdown

DOCS = Path(__file__).resolve().parents[1] / "docs" / "settings.md"


def test_settings_reference_is_current() -> None:
    assert DOCS.read_text() == settings_reference_markdown(), "run: bylab settings-doc > docs/settings.md"


def test_every_setting_is_described() -> None:
    for name, field in Settings.model_fields.items():
        assert field.description, f"setting {name} has no description"


def test_environment_and_file_configure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings_file = tmp_path / "bylab.toml"
    settings_file.write_text('port = 9001\ncatalog_title = "Molde data"\n')
    monkeypatch.setenv("BYLAB_SETTINGS_FILE", str(settings_file))
    monkeypatch.setenv("BYLAB_PORT", "9002")
    settings = Settings(data_dir=tmp_path)
    assert settings.port == 9002  # the environment wins over the file
    assert settings.catalog_title == "Molde data"
    assert settings.effective_database_url == f"sqlite:///{tmp_path / 'bylab.db'}"


def test_unknown_setting_in_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings_file = tmp_path / "bylab.toml"
    settings_file.write_text("prot = 9001\n")
    monkeypatch.setenv("BYLAB_SETTINGS_FILE", str(settings_file))
    with pytest.raises(ValueError, match="prot"):
        Settings(data_dir=tmp_path)


def test_secret_key_is_generated_once(tmp_path: Path) -> None:
    first = Settings(data_dir=tmp_path).effective_secret_key()
    assert len(first) > 40 and first == Settings(data_dir=tmp_path).effective_secret_key()
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_taken_port_is_reported_clearly() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        with pytest.raises(BylabError, match=f"port {port} .* already in use"):
            check_port_free("127.0.0.1", port)
