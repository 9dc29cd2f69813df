"""The cell explorer in a real browser: JupyterLab in headless Chromium.

The headless tests (test_cell_explorer.py) drive the widget objects from Python; this one
checks what a student gets: JupyterLab renders the widget, the *top cells* menu selects
a cell, the gate buttons recolour the text, and typed text reruns the model. Chromium is
driven through its DevTools protocol (with tornado's websocket client, which JupyterLab
already brings). Skipped where no ``chromium`` is installed (Debian: ``apt-get install
chromium``).
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [pytest.mark.notebook,
              pytest.mark.skipif(CHROMIUM is None, reason="no chromium to drive JupyterLab")]

CELL = """import torch
torch.set_num_threads(1)
from rnncourse.pretrained import load
from rnncourse.viz.cell_explorer import CellExplorer
model = load("char_lstm_python", "cpu")
explorer = CellExplorer(model, 'def f(x):\\n    return (x + "1")  # one\\n')
view = explorer.widget()
view.box"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(condition, timeout, what):
    start = time.time()
    while time.time() - start < timeout:
        value = condition()
        if value:
            return value
        time.sleep(1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class DevTools:
    """Minimal Chrome DevTools protocol client: evaluate JS, click, press keys."""

    def __init__(self, port: int):
        from tornado.ioloop import IOLoop
        from tornado.websocket import websocket_connect

        pages = _wait(lambda: self._pages(port), 60, "chromium's DevTools endpoint")
        self.loop = IOLoop(make_current=False)
        url = pages[0]["webSocketDebuggerUrl"]
        self.ws = self.loop.run_sync(lambda: websocket_connect(url, max_message_size=2**27))
        self.next_id = 0

    @staticmethod
    def _pages(port):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json", timeout=2) as r:
                return [p for p in json.load(r) if p["type"] == "page"]
        except OSError:
            return None

    def call(self, method, **params):
        self.next_id += 1
        n = self.next_id
        self.ws.write_message(json.dumps({"id": n, "method": method, "params": params}))

        async def reply():
            while True:
                message = json.loads(await self.ws.read_message())
                if message.get("id") == n:
                    return message

        return self.loop.run_sync(reply, timeout=60)

    def js(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                           awaitPromise=True)
        return result.get("result", {}).get("result", {}).get("value")

    def click(self, selector):
        x, y = self.js(f"(() => {{ const r = document.querySelector({selector!r})"
                       ".getBoundingClientRect(); return [r.x + r.width / 2, r.y + 8]; })()")
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    def key(self, key, code, shift=False):
        for kind in ("rawKeyDown", "keyUp"):
            self.call("Input.dispatchKeyEvent", type=kind, key=key, code=code,
                      windowsVirtualKeyCode={"Enter": 13, "Escape": 27}[key],
                      modifiers=8 if shift else 0)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    root = tmp_path_factory.mktemp("lab")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(CELL)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, root / "explorer.ipynb")
    lab_port, debug_port = _free_port(), _free_port()
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--allow-root", "--no-browser", f"--port={lab_port}",
         "--ServerApp.ip=127.0.0.1", "--IdentityProvider.token=t", f"--ServerApp.root_dir={root}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True)
    browser = None
    try:
        _wait(lambda: _reachable(f"http://127.0.0.1:{lab_port}/lab?token=t"), 120, "JupyterLab")
        browser = subprocess.Popen(
            [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu",
             f"--remote-debugging-port={debug_port}", f"--user-data-dir={root / 'chromium'}",
             f"http://127.0.0.1:{lab_port}/lab/tree/explorer.ipynb?token=t"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        yield DevTools(debug_port)
    finally:
        for process in (browser, server):
            if process is not None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=30)


def _reachable(url):
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except OSError:
        return False


def _header(tab):
    return tab.js("document.querySelector('.widget-html-content b').innerText")


def test_the_explorer_works_in_jupyterlab(lab):
    tab = lab
    _wait(lambda: tab.js("document.querySelectorAll('.jp-Notebook .jp-Cell').length"), 180,
          "the notebook to open")
    _wait(lambda: tab.js("(document.querySelector('.jp-Notebook-ExecutionIndicator') || {})"
                         ".dataset?.status") == "idle", 180, "the kernel to start")

    def run_cell_until_widget():
        # press Shift+Enter on the cell until it has run (a busy page can drop a key press)
        if tab.js("document.querySelector('.jp-Cell .jp-InputPrompt').innerText").strip() in ("[ ]:", ""):
            tab.click(".jp-Notebook .jp-Cell .jp-InputPrompt")
            tab.key("Escape", "Escape")
            tab.key("Enter", "Enter", shift=True)
            time.sleep(10)
        return tab.js("document.querySelectorAll('.widget-dropdown select').length")

    _wait(run_cell_until_widget, 300, "the widget to render")
    assert _header(tab) == "layer 0, cell 0"

    # the top-cells menu: one entry per feature present in the text, and it selects
    options = [o.replace("\xa0", " ") for o in
               tab.js("[...document.querySelector('.widget-dropdown select').options].map(o => o.text)")]
    features = {o.split(":")[0] for o in options[1:]}
    assert {"inside quotes", "inside brackets", "inside a comment", "position in line"} <= features
    index = next(i for i, o in enumerate(options) if o.startswith("inside brackets"))
    layer, cell = options[index].split("layer ")[1].split(" (")[0].split(", cell ")
    tab.js("(() => { const s = document.querySelector('.widget-dropdown select'); "
           f"s.selectedIndex = {index}; s.dispatchEvent(new Event('change', {{bubbles: true}})); }})()")
    _wait(lambda: _header(tab) == f"layer {layer}, cell {cell}", 30, "the menu to select the cell")

    # colouring by a gate
    tab.js("[...document.querySelectorAll('.widget-toggle-button')]"
           ".find(b => b.innerText.includes('forget gate')).click()")
    _wait(lambda: "forget gate f_t" in tab.js("document.querySelector('.widget-html-content').innerText"),
          30, "the forget-gate colouring")
    assert "green open (1), blue closed (0)" in tab.js(
        "document.querySelector('.widget-html-content').innerText")

    # typed text reruns the model: one coloured character per typed character
    tab.js("(() => { const t = document.querySelector('.widget-textarea textarea'); "
           "t.value = 'x = [1, 2]'; t.dispatchEvent(new Event('change', {bubbles: true})); })()")
    _wait(lambda: tab.js("document.querySelectorAll('.widget-html-content .ch').length") == 10, 60,
          "the typed text to be coloured")
    assert not tab.js("[...document.querySelectorAll('.jp-OutputArea-output')]"
                      ".some(e => e.innerText.includes('Traceback'))")
