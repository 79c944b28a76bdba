"""The files of deploy/ as the stack tests use them: every setting the code reads is in the environment file,
the nginx site renders only with every placeholder given, and the units' command lines are this project's."""
from __future__ import annotations

import re

import pytest

from tests.stack.stack import ROOT, SITE_TEMPLATE, WEB_UNIT, WORKER_UNIT, env_file, render_site, unit_command

pytestmark = pytest.mark.stack
_READ = re.compile(r"""(?:environ\.get|environ\[|_env_(?:bool|int|float))\(?\s*"""
                   r"""["']((?:ELEARN|DATABASE)_[A-Z0-9_]+)["']""")
# Read by the code but not a setting of a site: the test suite's database.
_NOT_SITE_SETTINGS = {"DATABASE_URL_TEST"}


def test_every_setting_the_code_reads_is_in_the_environment_file():
    read = set()
    for path in (ROOT / "elearn").rglob("*.py"):
        read |= set(_READ.findall(path.read_text(encoding="utf-8")))
    read |= {"ELEARN_PII_KEYS"}  # elearn.security.keyring.ENV_NAME
    documented = env_file(commented=True)
    missing = sorted(read - _NOT_SITE_SETTINGS - set(documented))
    assert not missing, f"add to deploy/elearn.env.example (with a comment): {missing}"


def test_the_site_renders_only_with_every_placeholder_given():
    template = SITE_TEMPLATE.read_text(encoding="utf-8")
    with pytest.raises(KeyError, match="ELEARN_DATA_DIR"):
        render_site(template, {"ELEARN_LISTEN": "80"})
    names = set(re.findall(r"\$\{(ELEARN_[A-Z0-9_]+)\}", template))
    site = render_site(template, {name: f"<{name}>" for name in names})
    assert not re.search(r"\$\{ELEARN_[A-Z0-9_]+\}", site)
    assert "$http_host" in site and "$proxy_add_x_forwarded_for" in site  # nginx's own variables kept


def test_the_units_run_this_projects_commands():
    env = {"WEB_CONCURRENCY": "3"}
    web = unit_command(WEB_UNIT, env, "8001")
    assert web[0].endswith("/gunicorn") and "127.0.0.1:8001" in web and web[-1] == "elearn:create_app()"
    worker = unit_command(WORKER_UNIT, env)
    assert worker[0].endswith("/elearn") and worker[1] == "worker"
    assert env_file()["ELEARN_X_ACCEL"] == "1" and env_file()["ELEARN_PROXY_COUNT"] == "1"
