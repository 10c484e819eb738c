"""Fixtures that start a real stratus on an ephemeral port with a temporary data directory.

Run with Debian's interpreter (/usr/bin/python3 -m pytest), which has boto3 and pytest.
STRATUS_BIN names the binary (CTest sets it); the default is build/stratus.
"""
import contextlib
import os
import re
import signal
import subprocess
import tempfile
import threading
import time

import boto3
import pytest
from botocore.config import Config

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("STRATUS_BIN", os.path.join(ROOT, "build", "stratus"))
READY = re.compile(r"ready on http://([0-9.]+):(\d+)")


class Stratus:
    """A stratus process. `restart()` keeps the data directory; `kill()` is SIGKILL."""

    # Every server started in this pytest process, so that a failing test's report carries the
    # logs of the servers it used (see pytest_runtest_makereport below).
    started = []

    def __init__(self, data_dir, extra_args=()):
        self.data_dir = data_dir
        self.extra_args = list(extra_args)
        self.proc = None
        self.port = None
        self.log = []

    def start(self):
        args = [BIN, "serve", "--port", "0", "--data-dir", self.data_dir, "--log-level", "info",
                *self.extra_args]
        Stratus.started.append(self)
        self.proc = subprocess.Popen(args, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                     text=True, errors="replace")
        deadline = time.time() + 20
        while time.time() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                if self.proc.poll() is not None:
                    raise RuntimeError("stratus exited: " + "".join(self.log))
                continue
            self.log.append(line)
            m = READY.search(line)
            if m:
                self.port = int(m.group(2))
                break
        else:
            raise RuntimeError("stratus did not become ready: " + "".join(self.log))
        # Keep draining stderr so the server never blocks on a full pipe.
        threading.Thread(target=self._drain, daemon=True).start()
        return self

    def _drain(self):
        for line in self.proc.stderr:
            self.log.append(line)

    def wait_log(self, text, timeout=15.0):
        """True once a line of the server's log contains `text` (the log is read by a thread, and
        a line may be written after the response that caused it)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if any(text in line for line in list(self.log)):
                return True
            time.sleep(0.02)
        return False

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=timeout)
        return self.proc.returncode

    def kill(self):
        return self.stop(signal.SIGKILL)

    def restart(self):
        self.stop()
        return self.start()

    def alive(self):
        return self.proc.poll() is None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test's report ends with the log tail of each server that was alive when it ran
    or started during it: a hang or an error answer in CI is then diagnosable from the output."""
    outcome = yield
    report = outcome.get_result()
    if call.when == "setup":
        item.stash_servers = [s for s in Stratus.started if s.proc and s.proc.poll() is None]
        Stratus.started[:] = item.stash_servers
    if not report.failed:
        return
    seen = getattr(item, "stash_servers", []) + Stratus.started
    for s in dict.fromkeys(seen):
        state = "alive" if s.proc and s.proc.poll() is None else f"exited {s.proc.returncode}"
        report.sections.append((f"stratus on port {s.port} ({state}), last 80 log lines",
                                "".join(s.log[-80:])))


@pytest.fixture
def stratus():
    with tempfile.TemporaryDirectory(prefix="stratus-test-") as data_dir:
        s = Stratus(data_dir).start()
        yield s
        code = s.stop()
        assert code == 0, "stratus did not exit cleanly:\n" + "".join(s.log[-50:])


@pytest.fixture(scope="module")
def shared_stratus():
    """One server for a module of tests that do not disturb each other."""
    with tempfile.TemporaryDirectory(prefix="stratus-test-") as data_dir:
        s = Stratus(data_dir).start()
        yield s
        s.stop()


def make_client(server, service, region="us-east-1", access_key="test"):
    return boto3.client(
        service,
        endpoint_url=server.url,
        region_name=region,
        aws_access_key_id=access_key,
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=60),
    )


@pytest.fixture
def client(stratus):
    return lambda service, **kw: make_client(stratus, service, **kw)


def aws_cli(server, *args, region="us-east-1", check=True):
    """Runs Debian's aws CLI v2 against the server; returns (exit code, stdout, stderr)."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": tempfile.gettempdir(),
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": region,
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_PAGER": "",
    }
    proc = subprocess.run(["/usr/bin/aws", "--endpoint-url", server.url, "--output", "json", *args],
                          env=env, capture_output=True, text=True, timeout=120)
    if check and proc.returncode != 0:
        raise AssertionError(f"aws {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
    return proc.returncode, proc.stdout, proc.stderr


# ---- Lambda helpers (tests/integration/test_lambda*.py) ----

LAMBDA_ROLE = "arn:aws:iam::000000000000:role/lambda-role"


def make_zip(files):
    """A deployment package from {name: text} or {name: (text, unix mode)}; modes keep the x bit."""
    import io
    import zipfile
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, spec in files.items():
            content, mode = spec if isinstance(spec, tuple) else (spec, 0o100644)
            info = zipfile.ZipInfo(name)
            info.external_attr = mode << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, content)
    return buf.getvalue()


def create_function(lam, name, files, runtime="python3.12", handler="app.handler", **kw):
    """Creates a function and waits until it is Active (as SDK users do)."""
    lam.create_function(FunctionName=name, Runtime=runtime, Role=LAMBDA_ROLE, Handler=handler,
                        Code={"ZipFile": make_zip(files)}, **kw)
    lam.get_waiter("function_active_v2").wait(FunctionName=name,
                                              WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    return name


@contextlib.contextmanager
def in_threads(fn, count, stop):
    """Runs `fn` in `count` threads while the block runs; sets `stop` and joins them at its end.
    What a thread raised fails the test (an assert in a thread is otherwise only printed)."""
    errors = []

    def run():
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - reported below, in the test's thread
            errors.append(repr(e))
            stop.set()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for t in threads:
        t.start()
    try:
        yield
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not errors, errors


def at_once(*calls):
    """Runs each of `calls` in a thread of its own, all released together by a barrier, and returns
    their results in order. What a call raised fails the test (an assert in a thread is otherwise
    only printed)."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)
    errors = []

    def run(i, call):
        try:
            barrier.wait()
            results[i] = call()
        except Exception as e:  # noqa: BLE001 - reported below, in the test's thread
            errors.append(repr(e))

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return results


@pytest.fixture(scope="module")
def lambda_server():
    """One server for a module of Lambda tests (instances stay warm between tests)."""
    with tempfile.TemporaryDirectory(prefix="stratus-lambda-") as data_dir:
        s = Stratus(data_dir).start()
        yield s
        s.stop()
