"""The CLI's options for settings come from the one settings table, and a bad level is refused."""

from __future__ import annotations

import os
import subprocess

import click
import pytest

from cee.cli import main
from cee.settings import SETTINGS
from tests.conftest import CEE

SETTING_BY_NAME = {s.name: s for s in SETTINGS}


def setting_params() -> list[tuple[str, click.Option]]:
    out = []
    for path, command in (("serve", main.commands["serve"]), ("worker", main.commands["worker"])):
        for param in command.params:
            if isinstance(param, click.Option) and param.name in SETTING_BY_NAME:
                out.append((f"{path} {param.opts[0]}", param))
    return out


def test_serve_takes_its_settings_from_the_table() -> None:
    names = {param.name for path, param in setting_params() if path.startswith("serve")}
    assert {"data_dir", "database", "host", "port", "worker", "processes"} <= names


@pytest.mark.parametrize("param", [p for _, p in setting_params()], ids=lambda p: p.opts[0])
def test_an_option_has_its_settings_env_var_and_help(param: click.Option) -> None:
    setting = SETTING_BY_NAME[str(param.name)]
    assert param.envvar == setting.env
    assert param.help == setting.help
    if setting.name != "database":  # None there: "SQLite in --data-dir" is worked out later
        assert param.default == setting.default


def test_an_unknown_log_level_is_a_usage_error(tmp_path: os.PathLike[str]) -> None:
    env = {**os.environ, "CEE_LOG_LEVEL": "loud"}
    out = subprocess.run(
        [CEE, "worker", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert out.returncode == 2
    assert "log level: 'loud' is not one of debug, info, warning, error" in out.stderr
    assert "Traceback" not in out.stderr
