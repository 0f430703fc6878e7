"""Run the docs' code blocks as a user would: the fenced blocks of a Markdown file, shell
sessions split into commands and their shown output, and the comparison of shown and real
output with what depends on "now" masked (dates, durations).

Conventions of the docs this reads:
* ```console blocks are shell sessions: `$ command` lines, each followed by its output;
* ```python blocks start with `# file_name.py`: the file a reader would save (and the
  console blocks then run);
* in shown output, `…` stands for any text on that line.
"""
from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

# This project's test dependencies (schemathesis, hypothesis) add pytest plugins that a user's project
# does not have, and that cost seconds per pytest start (all their modules rewritten): a pytest run
# "as a user" switches them off, its plugins otherwise found by entry point, emma-mock's included.
WITHOUT_OUR_TEST_PLUGINS = "-p no:schemathesis -p no:hypothesispytest"

FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```[ \t]*$", re.S | re.M)
SEPARATOR = "\x1e"  # between the outputs of two commands of one session


@dataclass
class Block:
    """One fenced block: where it is, its language, and its text."""
    source: str
    line: int
    lang: str
    text: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line} ({self.lang or 'no language'})"

    @property
    def file_name(self) -> str | None:
        """For a Python block, the file name in its first line (`# test_x.py`)."""
        first = self.text.split("\n", 1)[0]
        match = re.fullmatch(r"# (\w+\.py)", first)
        return match.group(1) if match else None


def blocks(path: Path) -> list[Block]:
    """Every fenced code block of a Markdown file, in order."""
    text = path.read_text(encoding="utf-8")
    return [Block(path.name, text.count("\n", 0, m.start()) + 1, m.group(1), m.group(2)) for m in FENCE.finditer(text)]


def session(block: Block) -> list[tuple[str, str]]:
    """A console block as (command, shown output) pairs."""
    steps: list[tuple[str, list[str]]] = []
    for line in block.text.rstrip("\n").split("\n"):
        if line.startswith("$ "):
            steps.append((line[2:], []))
        else:
            assert steps, f"{block}: output before the first `$ ` command"
            steps[-1][1].append(line)
    return [(command, "\n".join(output)) for command, output in steps]


def run_session(commands: list[str], cwd: Path, env: dict[str, str], timeout: float = 120) -> list[str]:
    """Run the commands in one bash, one after the other (variables carry over); each one's output."""
    script = "".join(f"printf '\\n{SEPARATOR}\\n'\n{command}\n" for command in commands)
    result = subprocess.run(["bash", "-c", script], cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, timeout=timeout)
    outputs = result.stdout.split(f"\n{SEPARATOR}\n")[1:]
    assert len(outputs) == len(commands), f"the session stopped early:\n{result.stdout}"
    return [output.rstrip("\n") for output in outputs]


MASKS = [
    (re.compile(r"@D:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d"), "@D:<date>"),
    (re.compile(r"\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"), "<time>"),
    (re.compile(r"^Date: .*GMT$", re.M), "Date: <date>"),
    (re.compile(r"\b\d+(\.\d+)? ?(ms|s)\b"), "<duration>"),
    (re.compile(r"[ \t]+"), " "),
]


def mask(text: str) -> str:
    """Output with what changes from run to run replaced, and runs of blanks made one."""
    for pattern, replacement in MASKS:
        text = pattern.sub(replacement, text)
    return "\n".join(line.rstrip() for line in text.strip("\n").split("\n"))


def matches(shown: str, real: str) -> bool:
    """Whether real output is what the docs show, once masked (`…` in shown output: any text)."""
    pattern = re.escape(mask(shown)).replace("…", ".*?")
    return re.fullmatch(pattern, mask(real), re.S) is not None


def user_env(bin_dir: Path, home: Path) -> dict[str, str]:
    """A shell as the reader's: this Python's virtual environment first on PATH, no emma-mock settings.

    curl shows no progress meter when it writes to a terminal; here its output is a pipe, so a
    `.curlrc` in `home` (CURL_HOME) turns the meter off as a terminal would. This project's own
    test-only pytest plugins are switched off (see below).
    """
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("EMMA_MOCK_", "MOCKSERVER_", "PYTEST_", "COV_", "CURL_"))}
    (home / ".curlrc").write_text("no-progress-meter\n")
    env["PYTEST_ADDOPTS"] = WITHOUT_OUR_TEST_PLUGINS
    env.update(PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", COLUMNS="80", PYTHONDONTWRITEBYTECODE="1",
               CURL_HOME=str(home))
    return env
