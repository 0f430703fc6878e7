"""The Docker image, built and run for real with the README's own lines.

`docker build -t emma-mock .` and `docker run -p <port>:8080 emma-mock` (detached,
with a unique name, on a free host port when 8080 is taken), then what a CI user
relies on: health within seconds, an authenticated API call, the HEALTHCHECK
command's exit status, a mounted fixture, MOCKSERVER_PORT moving the port (and
the health check following it), a non-root uid, a clean `docker stop`, and an
image without build tools or test files.

Needs a working `docker` (on these machines: ../shared/tools/container-engine.sh,
then ../shared/tools/bin first on PATH). Without one the tests are skipped,
unless EMMA_MOCK_REQUIRE_CONTAINER=1 (CI sets it): then they fail.

The health check tests that need no engine (the `mockserver.serving.healthcheck` module
against an in-process server) run everywhere.
"""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from mockserver import MockServer
from mockserver.serving import healthcheck

from helpers import DEMO_AUTH

ROOT = Path(__file__).resolve().parent.parent
IMAGE = "emma-mock"
HEALTH_DEADLINE = 10.0  # seconds from `docker run` to an answering /__admin/health
STOP_DEADLINE = 3.0     # seconds for `docker stop` to return on a SIGTERM-aware PID 1

container = pytest.mark.container


# --- the engine, the image, and containers that are always removed --------------------------

def docker(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    if check and result.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} exited {result.returncode}\n"
                             f"stdout: {result.stdout}\nstderr: {result.stderr}")
    return result


def _engine_problem() -> str | None:
    if shutil.which("docker") is None:
        return "no `docker` command on PATH"
    try:
        result = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"`docker info` did not run: {exc}"
    if result.returncode != 0:
        return f"`docker info` failed (no usable engine): {(result.stderr or result.stdout).strip()[:300]}"
    return None


@pytest.fixture(scope="module")
def engine() -> None:
    problem = _engine_problem()
    if problem is None:
        return
    if os.environ.get("EMMA_MOCK_REQUIRE_CONTAINER") == "1":
        pytest.fail(f"EMMA_MOCK_REQUIRE_CONTAINER=1 but {problem}", pytrace=False)
    pytest.skip(f"container engine not usable: {problem} "
                "(on these machines: ../shared/tools/container-engine.sh, then ../shared/tools/bin on PATH)")


@pytest.fixture(scope="module")
def image(engine: None, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> str:
    """The README's build line, as written, from the repository root: once a run, whichever workers
    (xdist's) run these tests. Each worker building it side by side rebuilt the same layers at once."""
    run_folder = tmp_path_factory.getbasetemp()
    if hasattr(request.config, "workerinput"):  # an xdist worker
        run_folder = run_folder.parent  # shared by this run's workers, and by no other run
    with open(run_folder / "image.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        built = run_folder / "image.built"
        if not built.exists():
            started = time.monotonic()
            result = subprocess.run(["docker", "build", "-t", IMAGE, "."], cwd=ROOT, capture_output=True,
                                    text=True, timeout=900)
            assert result.returncode == 0, f"docker build failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
            print(f"docker build -t {IMAGE} . took {time.monotonic() - started:.1f}s")
            built.write_text(IMAGE)
    return IMAGE


@pytest.fixture
def containers() -> Iterator[list[str]]:
    names: list[str] = []
    yield names
    for name in names:
        docker("rm", "--force", name, check=False, timeout=60)


def free_port(preferred: int | None = None) -> int:
    candidates = [preferred] if preferred else []
    for port in [*candidates, 0]:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise AssertionError("no free port")


def run(containers: list[str], *options: str, container_port: int = 8080, host_port: int | None = None,
        args: tuple[str, ...] = ()) -> tuple[str, str]:
    """`docker run -p <host>:<container> emma-mock`, detached and named; returns (name, base url)."""
    name = f"emma-mock-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    host_port = host_port or free_port()
    containers.append(name)
    # detached and without the README's --rm: a test reads a stopped container's logs and exit code
    docker("run", "-d", "--name", name, *options, "-p", f"{host_port}:{container_port}", IMAGE, *args)
    return name, f"http://127.0.0.1:{host_port}"


def wait_healthy(name: str, url: str, deadline: float = HEALTH_DEADLINE) -> float:
    """Seconds until /__admin/health answers {"status": "ok"} through the published port."""
    started = time.monotonic()
    last: object = None
    while time.monotonic() - started < deadline:
        try:
            response = requests.get(f"{url}/__admin/health", timeout=1)
            if response.status_code == 200 and response.json() == {"status": "ok"}:
                return time.monotonic() - started
            last = f"HTTP {response.status_code}: {response.text[:200]}"
        except requests.RequestException as exc:
            last = exc
        state = docker("inspect", "--format", "{{.State.Status}}", name, check=False).stdout.strip()
        if state in ("exited", "dead", "stopped"):
            break
        time.sleep(0.2)
    logs = docker("logs", name, check=False)
    raise AssertionError(f"{name} not healthy on {url} after {time.monotonic() - started:.1f}s "
                         f"(last: {last})\nlogs:\n{logs.stdout}\n{logs.stderr}")


def engine_health_check(name: str) -> tuple[int, str]:
    """Run the image's HEALTHCHECK through the engine; (exit status, output).

    Podman runs it on demand (`healthcheck run`); Docker runs it on its own
    schedule, so there we wait for the status it reports.
    """
    if docker("healthcheck", "--help", check=False).returncode == 0:
        result = docker("healthcheck", "run", name, check=False, timeout=30)
        return result.returncode, (result.stdout + result.stderr).strip()
    started = time.monotonic()
    status = ""
    while time.monotonic() - started < 30:
        status = docker("inspect", "--format", "{{.State.Health.Status}}", name).stdout.strip()
        if status in ("healthy", "unhealthy"):
            break
        time.sleep(0.5)
    return (0 if status == "healthy" else 1), status


def configured_health_command() -> list[str]:
    """The HEALTHCHECK command as the image records it (CMD form: ["CMD", ...])."""
    config = json.loads(docker("image", "inspect", "--format", "{{json .Config.Healthcheck}}", IMAGE).stdout)
    test = config["Test"]
    assert test[0] == "CMD", f"HEALTHCHECK should use the exec form, got {test}"
    return test[1:]


# --- the image ----------------------------------------------------------------------------

@container
def test_readme_run_line_serves_healthy_authenticated_api_as_non_root(image, containers):
    # The README's `docker run --rm -p 8080:8080 emma-mock`: on 8080 when it is free here.
    name, url = run(containers, host_port=free_port(preferred=8080))
    took = wait_healthy(name, url)
    print(f"healthy {took:.1f}s after docker run")

    touchpoints = requests.get(f"{url}/100/touchpoints", auth=DEMO_AUTH, timeout=5)
    assert touchpoints.status_code == 200
    assert touchpoints.headers["Content-Type"].startswith("application/json")
    assert isinstance(touchpoints.json(), list) and touchpoints.json()
    assert {"visited_website", "purchased_tickets"} <= {t["type_name"] for t in touchpoints.json()}
    assert requests.get(f"{url}/100/touchpoints", timeout=5).status_code == 401  # auth on by default

    status, output = engine_health_check(name)
    assert status == 0, f"engine health check failed: {output}"
    command = configured_health_command()
    assert "curl" not in " ".join(command) and "wget" not in " ".join(command)
    exec_check = docker("exec", name, *command, check=False)
    assert exec_check.returncode == 0, exec_check.stderr

    uid = docker("exec", name, "id", "-u").stdout.strip()
    assert uid.isdigit() and int(uid) != 0, f"runs as uid {uid}"
    user = docker("image", "inspect", "--format", "{{.Config.User}}", IMAGE).stdout.strip()
    assert user and user.split(":")[0] not in ("0", "root"), f"image USER is {user!r}"

    started = time.monotonic()
    docker("stop", "--time", "10", name, timeout=30)
    stopped_in = time.monotonic() - started
    exit_code = docker("inspect", "--format", "{{.State.ExitCode}}", name).stdout.strip()
    logs = docker("logs", name).stdout
    print(f"docker stop took {stopped_in:.2f}s, exit code {exit_code}")
    assert exit_code == "0", f"exit code {exit_code} after docker stop\n{logs}"
    assert stopped_in < STOP_DEADLINE, f"docker stop took {stopped_in:.1f}s: SIGTERM not handled by PID 1?"
    assert "emma-mock: stopped" in logs


@container
def test_port_from_environment_and_health_check_follows_it(image, containers):
    name, url = run(containers, "-e", "MOCKSERVER_PORT=9090", container_port=9090)
    wait_healthy(name, url)
    assert requests.get(f"{url}/100/touchpoints", auth=DEMO_AUTH, timeout=5).status_code == 200

    status, output = engine_health_check(name)
    assert status == 0, f"health check did not follow MOCKSERVER_PORT=9090: {output}"
    # The check really probes the port it reads: pointed at the old port, it fails.
    command = configured_health_command()
    wrong = docker("exec", "-e", "MOCKSERVER_PORT=8080", name, *command, check=False)
    assert wrong.returncode == 1, f"health check passed on a port nothing listens on: {wrong.stdout}"


def _fixture(account_id: int, type_name: str) -> dict:
    return {"accounts": [{"account_id": account_id, "public_key": f"pk-{account_id}",
                          "private_key": f"sk-{account_id}", "name": f"CI account {account_id}"}],
            "members": [],
            "touchpoint_types": [{"account_id": account_id, "touchpoint_type_id": account_id * 10,
                                  "type_name": type_name, "display_name": type_name.title(),
                                  "created_at": "@D:2025-01-02T03:04:05"}],
            "touchpoints": []}


@container
def test_mounted_fixture_file_replaces_the_demo(image, containers, tmp_path):
    mine = tmp_path / "my.json"
    mine.write_text(json.dumps(_fixture(700, "signed_up")))
    mine.chmod(0o644)  # the server reads it as uid 10001
    name, url = run(containers, "-v", f"{mine}:/fixtures/default.json:ro")
    wait_healthy(name, url)

    types = requests.get(f"{url}/700/touchpoints", auth=("pk-700", "sk-700"), timeout=5)
    assert types.status_code == 200, types.text
    assert [t["type_name"] for t in types.json()] == ["signed_up"]
    assert requests.get(f"{url}/100/touchpoints", auth=DEMO_AUTH, timeout=5).status_code == 401


@container
def test_mounted_fixture_folder_named_by_environment(image, containers, tmp_path):
    folder = tmp_path / "fixtures"
    folder.mkdir()
    (folder / "a.json").write_text(json.dumps(_fixture(701, "opened_app")))
    (folder / "b.json").write_text(json.dumps(_fixture(702, "left_review")))
    folder.chmod(0o755)
    tmp_path.chmod(0o755)
    name, url = run(containers, "-v", f"{folder}:/ci-fixtures:ro", "-e", "MOCKSERVER_FIXTURES=/ci-fixtures")
    wait_healthy(name, url)

    for account_id, type_name in ((701, "opened_app"), (702, "left_review")):
        types = requests.get(f"{url}/{account_id}/touchpoints",
                             auth=(f"pk-{account_id}", f"sk-{account_id}"), timeout=5)
        assert types.status_code == 200, types.text
        assert [t["type_name"] for t in types.json()] == [type_name]


@container
def test_options_after_the_image_name_reach_the_cli(image, containers):
    name, url = run(containers, args=("--auth", "off"))
    wait_healthy(name, url)
    assert requests.get(f"{url}/100/touchpoints", timeout=5).status_code == 200


@container
def test_image_holds_no_build_tools_no_tests_no_caches(image):
    size = int(docker("image", "inspect", "--format", "{{.Size}}", IMAGE).stdout.strip())
    print(f"image {IMAGE}: {size / 1e6:.1f} MB ({size} bytes)")
    script = r"""
        for tool in gcc cc c++ g++ make ld as git; do command -v "$tool" && echo "TOOL $tool"; done
        for path in /src /wheels /tmp/wheels /tmp/requirements.txt /root/.cache/pip /data/.cache; do
            [ -e "$path" ] && echo "LEFTOVER $path"
        done
        site=$(python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
        find "$site" /data /fixtures /tmp \( -name conftest.py -o -name 'test_*.py' -o -name '*_test.py' \
             -o -name tests -o -name benchmarks \) -print | sed 's/^/TESTFILE /'
        for path in /tests /benchmarks /app /work; do [ -e "$path" ] && echo "TESTFILE $path"; done
        python -c 'import mockserver; print("PACKAGE", mockserver.__file__)'
        python -m pip list --format=freeze 2>/dev/null | grep -i -E '^(pytest|hypothesis|hadolint|build)==' | sed 's/^/DEVPKG /'
        ls -A /fixtures | sed 's/^/FIXTURE /'
        stat -c 'DATA %u' /data
    """
    result = docker("run", "--rm", "--user", "0", "--entrypoint", "sh", IMAGE, "-c", script, timeout=120)
    lines = result.stdout.splitlines()
    print("\n".join(lines))
    assert not [line for line in lines if line.startswith(("TOOL", "LEFTOVER", "TESTFILE", "DEVPKG"))], result.stdout
    package = next(line for line in lines if line.startswith("PACKAGE "))
    assert "-packages/mockserver/" in package, f"installed from the wheel into site-packages? {package}"
    assert "FIXTURE default.json" in lines
    assert "DATA 10001" in lines


# --- the health check module, no engine needed ---------------------------------------------

def test_healthcheck_follows_environment_port(monkeypatch, capsys):
    with MockServer() as server:
        port = int(server.url.rsplit(":", 1)[1])
        monkeypatch.setenv("MOCKSERVER_HOST", "0.0.0.0")
        monkeypatch.setenv("MOCKSERVER_PORT", str(port))
        monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # must not be used
        monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
        assert healthcheck.main([]) == 0
    assert healthcheck.main([]) == 1  # the same port, nothing listening any more
    assert "no answer" in capsys.readouterr().err


@pytest.mark.parametrize("port", ["0", "http", "70000"])
def test_healthcheck_refuses_unprobeable_port(monkeypatch, capsys, port):
    monkeypatch.setenv("MOCKSERVER_PORT", port)
    assert healthcheck.main([]) == 1
    assert "MOCKSERVER_PORT" in capsys.readouterr().err


@pytest.mark.parametrize(("bind", "probe"), [("0.0.0.0", "127.0.0.1"), ("", "127.0.0.1"), ("::", "::1"),
                                             ("[::]", "::1"), ("127.0.0.1", "127.0.0.1"), ("[::1]", "::1")])
def test_healthcheck_probe_host(bind, probe):
    assert healthcheck.probe_host(bind) == probe
