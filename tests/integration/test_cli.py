"""The stratus command itself: help, version, configuration errors, jsonata."""
import json
import subprocess

from conftest import BIN


def run(*args, stdin=None):
    return subprocess.run([BIN, *args], input=stdin, capture_output=True, text=True, timeout=30)


def test_help_explains_how_to_start():
    out = run("--help")
    assert out.returncode == 0
    assert "stratus serve" in out.stdout and "endpoint-url" in out.stdout
    serve = run("serve", "--help")
    assert serve.returncode == 0
    for flag in ("--port", "--data-dir", "--in-memory", "--config", "STRATUS_PORT"):
        assert flag in serve.stdout


def test_version():
    out = run("version")
    assert out.returncode == 0 and out.stdout.startswith("stratus ")


def test_bad_settings_fail_fast_with_a_fix():
    out = run("serve", "--port", "99999")
    assert out.returncode == 2
    assert "0 to 65535" in out.stderr
    out = run("serve", "--log-level", "loud")
    assert out.returncode == 2 and "one of" in out.stderr


def test_jsonata_command():
    out = run("jsonata", "$sum(items.price)", "--input", "-",
              stdin='{"items":[{"price":2},{"price":3.5}]}')
    assert out.returncode == 0 and json.loads(out.stdout) == 5.5
    undefined = run("jsonata", "nothing")
    assert undefined.returncode == 0 and undefined.stdout == ""
    bad = run("jsonata", "1 +")
    assert bad.returncode == 1
    err = json.loads(bad.stderr)
    assert err["code"] == "S0207" and err["position"] == 3
    bound = run("jsonata", "$x * 2", "--bindings", '{"x": 21}')
    assert json.loads(bound.stdout) == 42
