"""The package works when installed from a wheel, away from the source tree.

Builds a wheel from a copy of the package, installs it (no dependencies, offline) into a
fresh virtual environment in a temporary folder whose only other path is the test
environment's site-packages (for numpy, torch, Jupyter: no ``.pth`` of it is run, so its
editable install of rnncourse stays out), then, from that folder: loads the Python
corpus from the packaged archive, runs ``rnncourse train --corpus python --steps 5``
and executes notebook 08 in a kernel of that environment.
"""

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "solutions" / "08_char_models.ipynb"

pytestmark = pytest.mark.wheel


def _run(argv, cwd, env, timeout=600):
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, f"{argv} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def _install(top: Path):
    """(python of the fresh environment, its bin folder, environment variables, work folder)."""
    source = top / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "rnncourse", source / "rnncourse",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
          "--no-index", "-q", "-w", str(top / "dist"), str(source)], top, os.environ)
    wheel = next((top / "dist").glob("rnncourse-*.whl"))

    env_dir = top / "env"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
          "--no-index", "-q", str(wheel)], top, os.environ)
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                     top, os.environ).strip())
    (site / "_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(PATH=f"{env_dir / 'bin'}{os.pathsep}{env['PATH']}", OMP_NUM_THREADS="1",
               JUPYTER_PATH=str(env_dir / "share" / "jupyter"), MPLBACKEND="Agg")
    _run([str(python), "-m", "ipykernel", "install", "--sys-prefix", "--name", "python3"],
         top, env)
    work = top / "work"
    work.mkdir()
    return python, env_dir / "bin", env, work


def test_wheel_installed_outside_the_tree_runs_the_course(tmp_path):
    """One test (one build), so that parallel workers never build the wheel twice."""
    python, bin_dir, env, work = _install(tmp_path)

    # the package is the wheel's, and the Python corpus loads from the packaged archive
    out = _run([str(python), "-c",
                "import json, rnncourse; from rnncourse.data.corpora import load_corpus, sha256_text;"
                "from rnncourse.pretrained import record;"
                "text = load_corpus('python', 'val');"
                "print(json.dumps([rnncourse.__file__, sha256_text(text),"
                " record('char_lstm_python')['training']['data']['sha256']['val']]))"], work, env)
    where, digest, recorded = json.loads(out)
    assert str(ROOT) not in where and "site-packages" in where
    assert digest == recorded

    # the CLI trains on the corpus that ships
    out = _run([str(bin_dir / "rnncourse"), "train", "--corpus", "python", "--steps", "5",
                "--hidden-size", "32", "--num-layers", "1", "--eval-chars", "2000",
                "--sample-chars", "20", "--no-progress"], work, env)
    assert "trained 5 steps" in out

    # notebook 08 runs in a kernel of that environment
    assert NOTEBOOK.exists(), "notebook 08 is not in solutions/"
    shutil.copy(NOTEBOOK, work / NOTEBOOK.name)
    script = ("import sys, nbformat; from nbclient import NotebookClient;"
              "nb = nbformat.read(sys.argv[1], as_version=4);"
              "NotebookClient(nb, kernel_name='python3', timeout=300,"
              " resources={'metadata': {'path': sys.argv[2]}}).execute();"
              "print('executed', len(nb.cells), 'cells')")
    out = _run([str(python), "-c", script, str(work / NOTEBOOK.name), str(work)], work, env)
    assert "executed" in out
