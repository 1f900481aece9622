"""`report.html` in a real browser: headless Chromium (Debian's ``chromium``; `make test` installs it through apt)
driven over its own DevTools protocol on a pipe (``--remote-debugging-pipe``: no websocket, no extra package, no
browser download).

Checks: the page loads with no console error and no network request (only the file itself and data: URIs); every
<img> is an embedded data URI that decoded and is not blank on the screenshot; the element with class ``headline``
is visible. The report is built from synthetic rows written into a real store; the assertions are on structure, not
on wording, because the report's contents are being rewritten.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from synthetic_store import write_synthetic_store

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--remote-debugging-pipe")


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    if shutil.which("apt-get") is None:
        pytest.skip("no Chromium and no apt-get to install it (Debian: apt-get install chromium)")
    pytest.skip("Chromium is not installed; `make test` installs the Debian package chromium through apt")


class DevTools:
    """A minimal Chrome DevTools Protocol client over the pipe pair Chromium reads on fd 3 and writes on fd 4."""

    def __init__(self, binary: str, profile: Path) -> None:
        cmd_r, self._cmd_w = os.pipe()
        self._res_r, res_w = os.pipe()
        # `sh` puts our pipe ends on fds 3 and 4, where --remote-debugging-pipe expects them
        self.proc = subprocess.Popen(
            ["sh", "-c", 'exec "$0" "$@" 3<&0 4>&1 0</dev/null 1>/dev/null', binary, *CHROMIUM_FLAGS,
             f"--user-data-dir={profile}", "about:blank"],
            stdin=cmd_r, stdout=res_w, stderr=subprocess.DEVNULL,
        )
        os.close(cmd_r)
        os.close(res_w)
        self._buf = b""
        self._next = 0
        self.events: list[dict[str, Any]] = []

    def _read_message(self, deadline: float) -> dict[str, Any]:
        import select

        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("Chromium did not answer")
            ready, _, _ = select.select([self._res_r], [], [], left)
            if ready:
                chunk = os.read(self._res_r, 1 << 20)
                if not chunk:
                    raise RuntimeError(f"Chromium closed the pipe (exit status {self.proc.poll()})")
                self._buf += chunk
        raw, _, self._buf = self._buf.partition(b"\0")
        return json.loads(raw)

    def send(self, method: str, params: dict | None = None, *, session: str | None = None,
             timeout: float = 60.0) -> dict[str, Any]:
        self._next += 1
        msg: dict[str, Any] = {"id": self._next, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._cmd_w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, *, timeout: float = 60.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        for ev in self.events:
            if ev.get("method") == method:
                return ev
        while True:
            ev = self._read_message(deadline)
            self.events.append(ev)
            if ev.get("method") == method:
                return ev

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, TimeoutError, OSError):
            self.send("Browser.close", timeout=10)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=30)
        os.close(self._cmd_w)
        os.close(self._res_r)


def _blank(png: bytes) -> bool:
    """True when a screenshot region is (nearly) one flat colour."""
    import numpy as np
    from PIL import Image

    px = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=np.float64)
    return px.std() < 2.0 or len(np.unique(px)) < 8


@pytest.fixture(scope="module")
def report_html(tmp_path_factory) -> Path:
    import helmholtz as hz

    run = write_synthetic_store(tmp_path_factory.mktemp("browser") / "run")
    return hz.report(run, n_boot=100).html


def test_report_renders_in_headless_chromium(report_html, tmp_path):
    browser = DevTools(_chromium(), tmp_path / "profile")
    try:
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            browser.send(f"{domain}.enable", session=session)
        browser.send("Emulation.setDeviceMetricsOverride",
                     {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}, session=session)
        browser.send("Page.navigate", {"url": report_html.as_uri()}, session=session)
        browser.wait_for("Page.loadEventFired")

        def evaluate(expr: str) -> Any:
            out = browser.send("Runtime.evaluate", {"expression": expr, "returnByValue": True}, session=session)
            return out["result"]["value"]

        height = evaluate("Math.ceil(document.documentElement.scrollHeight)")
        browser.send("Emulation.setDeviceMetricsOverride",   # the whole page in the viewport: every figure laid out
                     {"width": 1280, "height": height, "deviceScaleFactor": 1, "mobile": False}, session=session)
        images = evaluate("""Array.from(document.images).map(i => { const r = i.getBoundingClientRect();
            return {src: i.src.slice(0, 22), complete: i.complete, natural: i.naturalWidth * i.naturalHeight,
                    x: r.left + scrollX, y: r.top + scrollY, w: r.width, h: r.height}; })""")
        headline = evaluate("""(() => { const e = document.querySelector('.headline'); if (!e) return null;
            const r = e.getBoundingClientRect(), s = getComputedStyle(e);
            return {text: e.innerText.trim(), w: r.width, h: r.height, x: r.left + scrollX, y: r.top + scrollY,
                    visible: s.display !== 'none' && s.visibility !== 'hidden' && Number(s.opacity) > 0}; })()""")

        assert len(images) >= 3, "the report should embed its figures"
        for img in images:
            assert img["src"].startswith("data:image/"), f"a figure is not embedded: {img['src']}"
            assert img["complete"] and img["natural"] > 0, f"a figure did not decode: {img}"
            assert img["w"] > 50 and img["h"] > 50, f"a figure has no room on the page: {img}"
            shot = browser.send("Page.captureScreenshot", {"format": "png", "clip": {
                "x": img["x"], "y": img["y"], "width": img["w"], "height": img["h"], "scale": 1}}, session=session)
            assert not _blank(base64.b64decode(shot["data"])), f"a figure renders blank: {img}"
        assert headline is not None, "no element with class 'headline'"
        assert headline["visible"] and headline["w"] > 0 and headline["h"] > 0 and headline["text"]
        shot = browser.send("Page.captureScreenshot", {"format": "png", "clip": {
            "x": headline["x"], "y": headline["y"], "width": headline["w"], "height": headline["h"], "scale": 1}},
            session=session)
        assert not _blank(base64.b64decode(shot["data"])), "the headline renders blank"

        errors = [ev for ev in browser.events if
                  (ev.get("method") == "Runtime.consoleAPICalled" and ev["params"].get("type") == "error")
                  or ev.get("method") == "Runtime.exceptionThrown"
                  or (ev.get("method") == "Log.entryAdded" and ev["params"]["entry"].get("level") == "error")]
        assert errors == [], errors
        urls = [ev["params"]["request"]["url"] for ev in browser.events
                if ev.get("method") == "Network.requestWillBeSent"]
        assert report_html.as_uri() in urls                      # the probe sees requests at all ...
        network = [u for u in urls if not u.startswith(("file:", "data:"))]
        assert network == [], f"the report reached for the network: {network}"   # ... and there are none
    finally:
        browser.close()
