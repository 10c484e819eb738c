"""`stratus invoke` and `stratus logs`: the CLI as a client of a running server."""
import json
import subprocess
import time

from conftest import BIN, create_function, make_client


def run(*args, timeout=60):
    return subprocess.run([BIN, *args], capture_output=True, text=True, timeout=timeout)


def test_invoke_and_logs(lambda_server, tmp_path):
    lam = make_client(lambda_server, "lambda")
    create_function(lam, "cli-echo", {"app.py": (
        "def handler(e, c):\n"
        "    print('cli saw', e)\n"
        "    if e.get('fail'):\n"
        "        raise ValueError('bad')\n"
        "    return e\n")})
    url = lambda_server.url
    r = run("invoke", "cli-echo", "--payload", '{"a": 1}', "--endpoint-url", url)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"a": 1}
    assert "cli saw {'a': 1}" in r.stderr and "REPORT RequestId" in r.stderr
    event = tmp_path / "event.json"
    event.write_text('{"from": "file"}')
    r = run("invoke", "cli-echo", "-p", f"@{event}", "--endpoint-url", url)
    assert json.loads(r.stdout) == {"from": "file"}
    r = run("invoke", "cli-echo", "-p", '{"fail": true}', "--endpoint-url", url)
    assert r.returncode == 1 and json.loads(r.stdout)["errorType"] == "ValueError"
    r = run("invoke", "no-such-fn", "--endpoint-url", url)
    assert r.returncode == 2 and "ResourceNotFoundException" in r.stderr
    r = run("invoke", "cli-echo", "-p", "{not json", "--endpoint-url", url)
    assert r.returncode == 2
    # Function logs are shipped in the background (as CloudWatch Logs receives them on AWS, some
    # time after the invocation): wait for them instead of sleeping a fixed 0.5 s.
    deadline = time.time() + 10
    while True:
        r = run("logs", "cli-echo", "--endpoint-url", url)  # no log group until the first ship
        done = r.returncode == 0 and "cli saw {'a': 1}" in r.stdout and "START RequestId" in r.stdout
        if done or time.time() > deadline:
            break
        time.sleep(0.2)
    assert r.returncode == 0, r.stderr
    assert "cli saw {'a': 1}" in r.stdout and "START RequestId" in r.stdout
    # --follow prints new lines as they come.
    follow = subprocess.Popen([BIN, "logs", "cli-echo", "--follow", "--since", "0", "--endpoint-url", url],
                              stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(1)
        run("invoke", "cli-echo", "-p", '{"late": 1}', "--endpoint-url", url)
        deadline = time.time() + 10
        seen = ""
        while time.time() < deadline and "late" not in seen:
            seen += follow.stdout.readline()
        assert "cli saw {'late': 1}" in seen
    finally:
        follow.kill()
        follow.wait()
    r = run("invoke", "cli-echo", "--endpoint-url", "http://127.0.0.1:1")
    assert r.returncode == 2 and "cannot reach" in r.stderr
