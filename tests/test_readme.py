"""The README's examples are the tests in tests/examples/, quoted exactly: the docs cannot rot."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SNIPPET = re.compile(r"# --8<-- \[start:(\w+)\]\n(.*?)# --8<-- \[end:\1\]\n", re.S)


def test_every_example_snippet_is_quoted_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    snippets = [m for path in sorted((ROOT / "tests" / "examples").glob("*.py"))
                for m in SNIPPET.finditer(path.read_text())]
    assert len(snippets) >= 3
    for match in snippets:
        assert match.group(2) in readme, f"README does not quote the example {match.group(1)!r} as it is now"


def test_the_readme_starts_with_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    first_section = readme.split("\n## ")[1]
    assert first_section.startswith("Two commands")
    assert ".venv/bin/pip install . && .venv/bin/emma-mock" in first_section
    assert ".venv/bin/pip install '.[test]' && .venv/bin/pytest" in first_section
    assert ".venv/bin/pip install '.[test]' && .venv/bin/pytest" in (ROOT / ".ci" / "run").read_text()
