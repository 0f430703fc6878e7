"""Every example of the README (and docs/curl.md) runs as written, against a real server.

The server is the CLI, `emma-mock`, on http://127.0.0.1:8080 as the README says, so these tests
share one xdist worker (group "port-8080"). When something else on the machine holds 8080 (other
suites share CI machines), the server takes a free port and every `:8080` of the docs' commands,
files and shown output is read as that port; the test output says so.
Shell sessions run in bash with this virtual environment first on PATH, in a folder holding the
README's Python files; their output is compared with the shown output, dates and durations
masked. Every test file of the README also runs with `python -m pytest`, once against the
in-process server and once attached to the running one with `--emma-mock-url`.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path

import pytest
import requests
import yaml
from readme_blocks import Block, blocks, matches, run_session, session, user_env

from mockserver import Config

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
RUNNABLE_DOCS = [README, ROOT / "docs" / "curl.md"]
DOCS_PORT = 8080
BIN = Path(sys.executable).parent



# Shell blocks that cannot run inside this suite, and what runs them instead.
RUN_ELSEWHERE = {
    "python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/emma-mock":
        "the server these tests start is this virtual environment's emma-mock",
    "python3 -m venv .venv && .venv/bin/pip install '.[test]' && .venv/bin/pytest":
        ".ci/run runs it (test_the_contributors_command_is_the_one_ci_runs)",
    "pip install pytest /path/to/emma-mock": "a placeholder path: run by hand from a fresh clone (docs/testing.md)",
    "docker build -t emma-mock . && docker run --rm -p 8080:8080 emma-mock":
        "tests/test_container.py runs these lines where a container engine is set up (CI)",
}


PORT = DOCS_PORT  # the port the server got: 8080 unless something else holds it
URL = f"http://127.0.0.1:{PORT}"


def here(text: str) -> str:
    """The docs' text with their port read as the port these tests use."""
    return re.sub(rf"\b(127\.0\.0\.1|localhost):{DOCS_PORT}\b", rf"\1:{PORT}", text)


class CLIServer:
    """`emma-mock` on 8080, or on a free port when 8080 is held; its console read in the background."""

    def __init__(self, workdir: Path, port: int):
        self.lines: list[str] = []
        self.folder = workdir
        env = {**user_env(BIN, workdir), "MOCKSERVER_PORT": str(port)}
        self.process = subprocess.Popen([str(BIN / "emma-mock")], cwd=workdir, env=env, text=True,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        threading.Thread(target=self._read, daemon=True).start()
        self.wait_for(lambda: any(line.startswith("  control:") for line in self.lines), "its banner")
        self.port = int(self.lines[0].rsplit(":", 1)[1])

    @classmethod
    def start(cls, workdir: Path) -> CLIServer:
        try:
            return cls(workdir, DOCS_PORT)
        except AssertionError as refused:
            if "cannot listen" not in str(refused):
                raise
        print(f"test_readme: port {DOCS_PORT} is taken on this machine; the docs' examples run on a free port")
        return cls(workdir, 0)

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, condition, what: str, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert self.process.poll() is None, "emma-mock exited:\n" + "\n".join(self.lines)
            assert time.monotonic() < deadline, f"emma-mock did not print {what} within {timeout} s:\n" + \
                "\n".join(self.lines)
            time.sleep(0.05)

    def reset(self) -> None:
        requests.post(f"{URL}/__admin/reset", timeout=10).raise_for_status()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CLIServer]:
    global PORT, URL
    running = CLIServer.start(tmp_path_factory.mktemp("reader"))
    PORT, URL = running.port, f"http://127.0.0.1:{running.port}"
    yield running
    running.stop()


@pytest.fixture(scope="module")
def workdir(server: CLIServer) -> Path:
    """The server's folder, holding every Python file the docs show, as a reader would save them."""
    folder = server.folder
    for block in python_blocks():
        (folder / block.file_name).write_text(here(block.text), encoding="utf-8")
    return folder


def doc_blocks(lang: str | None = None) -> list[Block]:
    return [b for doc in RUNNABLE_DOCS for b in blocks(doc) if lang is None or b.lang == lang]


def python_blocks() -> list[Block]:
    return doc_blocks("python")


def test_every_python_block_names_its_file():
    assert python_blocks()
    for block in python_blocks():
        assert block.file_name, f"{block}: start it with `# file_name.py`, the file a reader saves"


@pytest.mark.parametrize("block", doc_blocks("console"), ids=str)
def test_shell_session_runs_as_shown(block: Block, server: CLIServer, workdir: Path):
    server.reset()
    steps = [(here(command), here(shown)) for command, shown in session(block)]
    outputs = run_session([command for command, _ in steps], workdir, user_env(BIN, workdir))
    for (command, shown), real in zip(steps, outputs, strict=True):
        assert matches(shown, real), f"{block}: `{command}` printed\n{real}\n\nbut the docs show\n{shown}"


@pytest.mark.parametrize("where", ["in-process", "attached"])
def test_every_test_file_passes(where: str, server: CLIServer, workdir: Path):
    """`python -m pytest` on the docs' test files: the plugin loads by its entry point, no conftest."""
    files = [b.file_name for b in python_blocks() if "def test_" in b.text]
    attach = ["--emma-mock-url", URL] if where == "attached" else []
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *attach, *files],
                            cwd=workdir, env=user_env(BIN, workdir), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{files} failed {where}:\n{result.stdout}\n{result.stderr}"
    assert re.search(r"^\d+ passed in", result.stdout, re.M) and "skipped" not in result.stdout, result.stdout


def test_every_script_is_run_by_a_shell_session():
    commands = [command for block in doc_blocks("console") for command, _ in session(block)]
    for block in python_blocks():
        if "def test_" not in block.text or "unittest.main()" in block.text:
            assert f"python {block.file_name}" in commands, f"{block}: no `$ python {block.file_name}` runs it"


def test_the_banner_and_console_log_are_as_shown(server: CLIServer):
    (shown,) = [b for b in blocks(README) if b.lang == "text" and b.text.startswith("emma-mock ")]
    banner_end = next(i for i, line in enumerate(server.lines) if line.startswith("  control:"))
    banner = server.lines[:banner_end + 1]
    try_line = next(line for line in banner if line.startswith("  try:"))
    server.reset()  # other tests of this module share the server: start from the demo data
    printed = len(server.lines)  # ... and may have logged requests already
    requests.get(try_line.split()[-1], auth=("demo-public-key", "demo-private-key"), timeout=10)
    server.wait_for(lambda: any(" /100/touchpoints " in line for line in server.lines[printed:]), "a console line")
    first_log = next(line for line in server.lines[printed:] if " /100/touchpoints " in line)
    real = "\n".join([*banner, first_log])
    assert matches(here(shown.text), real), f"emma-mock printed\n{real}\n\nbut the README shows\n{shown.text}"


def test_the_fixture_example_loads(server: CLIServer):
    (fixture,) = [b for b in blocks(README) if b.lang == "json"]
    answer = requests.put(f"{URL}/__admin/state", data=fixture.text, timeout=10)
    server.reset()
    assert answer.status_code == 200, answer.text


def test_every_other_block_is_run_somewhere():
    handled = {"console", "python", "json"}
    for block in blocks(README):
        if block.lang in handled or (block.lang == "text" and block.text.startswith("emma-mock ")):
            continue
        assert block.lang == "sh", f"{block}: no test runs this block"
        for command in block.text.strip().split("\n"):
            assert command in RUN_ELSEWHERE, f"{block}: no test runs `{command}`"


def test_the_readme_starts_with_the_two_commands():
    text = README.read_text(encoding="utf-8")
    assert text.count("\n") <= 340, "the README is a user guide: keep it under 340 lines, details in docs/"
    run_it = text.split("\n## ")[2]
    assert run_it.startswith("Run it\n")
    first, second = [b.text.strip() for b in blocks(README)[:2]]
    assert first == "python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/emma-mock"
    assert second == "python3 -m venv .venv && .venv/bin/pip install '.[test]' && .venv/bin/pytest"
    assert "python3-venv" in run_it and "contributors" in run_it


def test_the_contributors_command_is_the_one_ci_runs():
    second = blocks(README)[1].text.strip()
    assert second in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_every_setting_is_in_the_configuration_table():
    table = README.read_text(encoding="utf-8").split("## Configuration", 1)[1].split("\n## ", 1)[0]
    for setting in fields(Config):
        option, variable = "--" + setting.name.replace("_", "-"), "MOCKSERVER_" + setting.name.upper()
        assert re.search(rf"^\| `{option}[ `].*\| `{variable}[=`]", table, re.M), f"{option} / {variable}"


def test_the_contents_list_links_every_section():
    text = README.read_text(encoding="utf-8")
    sections = re.findall(r"^## (.+)$", text, re.M)[1:]
    contents = text.split("## Contents", 1)[1].split("\n## ", 1)[0]
    for title in sections:
        anchor = re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")
        assert f"[{title}](#{anchor})" in contents, f"Contents lacks {title}"


def test_links_to_docs_exist():
    for doc in [README, *sorted((ROOT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(((?:\.\./|docs/)?[\w./-]+\.(?:md|png|yml))(?:#[\w-]+)?\)", doc.read_text()):
            assert (doc.parent / target).exists(), f"{doc.name} links to {target}, which does not exist"


def test_ci_recipes_parse_and_attach_the_plugin():
    ci = [b for b in blocks(ROOT / "docs" / "ci.md") if b.lang == "yaml"]
    assert len(ci) >= 4
    for block in ci:
        document = yaml.safe_load(block.text)
        assert isinstance(document, dict), f"{block}: not a YAML mapping"
    recipes = "\n".join(b.text for b in ci)
    assert "EMMA_MOCK_URL: http://127.0.0.1:8080" in recipes and "EMMA_MOCK_URL: http://emma-mock:8080" in recipes
    assert json.dumps(README.read_text()).count("--emma-mock-url") >= 2
