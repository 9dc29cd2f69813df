"""The project's promises about installation stay true."""

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"torch": "pytorch"}  # PyPI name -> conda-forge name


def pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def conda_requirements() -> set[str]:
    """The requirements of environment.yml, its pip section included (python, pip, -e . left out)."""
    found = set()
    text = (ROOT / "environment.yml").read_text()
    for line in text[text.index("\ndependencies:"):].splitlines():
        match = re.match(r"^(?:  |      )- ([A-Za-z0-9_.-]+.*)$", line)
        if match and not match.group(1).startswith(("python", "pip", "-e")):
            found.add(match.group(1).replace(" ", ""))
    return found


def test_environment_yml_matches_pyproject():
    project = pyproject()["project"]
    wanted = set()
    for requirement in project["dependencies"] + project["optional-dependencies"]["dev"]:
        name = re.match(r"[A-Za-z0-9_.-]+", requirement).group(0)
        wanted.add(CONDA_NAMES.get(name, name) + requirement[len(name):].replace(" ", ""))
    have = conda_requirements()
    assert wanted == have, (f"only in pyproject.toml: {sorted(wanted - have)}; "
                            f"only in environment.yml: {sorted(have - wanted)}")


def test_environment_yml_installs_the_package_editable():
    assert re.search(r"^      - -e \.$", (ROOT / "environment.yml").read_text(), re.M)


def test_readme_opens_with_the_two_commands():
    head = (ROOT / "README.md").read_text().split("\n## ")[0]
    assert "make lab" in head and "make test" in head


def test_ci_runs_the_readme_test_command_with_the_cpu_torch():
    script = (ROOT / ".ci" / "run").read_text()
    assert "torch==2.13.0" in script
    assert script.index("torch==2.13.0") < script.index("make test")


def test_every_module_declares_its_public_api():
    missing = [str(p.relative_to(ROOT)) for p in (ROOT / "rnncourse").rglob("*.py")
               if p.name != "__init__.py" and "__all__" not in p.read_text()]
    assert not missing, f"modules without __all__: {missing}"


def _requirement_name(requirement: str) -> str:
    return re.match(r"[A-Za-z0-9_.-]+", requirement).group(0).lower().replace("_", "-")


def test_python_version_matches_what_the_code_uses():
    """The tests use tomllib and the corpus is Python 3.11 source: the package says so."""
    assert pyproject()["project"]["requires-python"] == ">=3.11"
    assert sys.version_info >= (3, 11)


def test_every_imported_distribution_is_declared():
    """A third-party module imported by the package, its tests or its benchmarks comes
    from a distribution that pyproject.toml names itself (not one that happens to
    arrive with another, such as filelock with torch)."""
    project = pyproject()["project"]
    declared = {_requirement_name(r) for r in
                project["dependencies"] + project["optional-dependencies"]["dev"]}
    local = {p.stem for p in (ROOT / "tests").glob("*.py")} | {"rnncourse"}
    owners = importlib.metadata.packages_distributions()
    missing = {}
    files = [*(ROOT / "rnncourse").rglob("*.py"), *(ROOT / "tests").glob("*.py"),
             *(ROOT / "benchmarks").glob("*.py")]
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in (m.split(".")[0] for m in modules):
                if module in sys.stdlib_module_names or module in local:
                    continue
                dists = {_requirement_name(d) for d in owners.get(module, [module])}
                if not dists & declared:
                    missing.setdefault(module, str(path.relative_to(ROOT)))
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"
