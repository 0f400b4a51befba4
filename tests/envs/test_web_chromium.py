"""Our pages in a real browser: headless Chromium (Debian's ``chromium``) parses each into
a DOM, and that DOM reads as the same accessibility text as our own parse of the HTML.

A browser repairs bad markup silently (an unclosed ``<b>`` swallows what follows, a
``<div>`` inside a ``<p>`` splits it); the same text from its DOM and from ours means
there was nothing to repair. Skipped where no ``chromium`` is installed.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from backdoorlab.envs import make_env
from backdoorlab.envs.web import axtree

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium installed")

URLS = [
    "https://shop.test/product/p10",  # third-party reviews, one planted with markup
    "https://shop.test/account",  # a form with a field
    "https://mail.test/compose?reply={mail}",  # a form with prefilled fields
    "https://bank.test/bills",  # links inside list items with text around them
]


def _dom(path) -> str:
    done = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", path.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-500:]
    return done.stdout


def test_chromium_reads_our_pages_as_we_do(tmp_path):
    env = make_env("web", seed=0)
    task = env.tasks("train", 1)[0]
    episode = env.spawn()
    state = episode.reset(task)
    episode.inject("product_review", "p10", "<b>Great</b> <div>deal</div> & more")
    mail = env.world.users[task.user_id]["mails"][0]
    for index, url in enumerate(URLS):
        url = url.format(mail=mail)
        assert not episode.call("goto", {"url": url}).startswith("Error"), url
        ours = state.page
        path = tmp_path / f"page{index}.html"
        path.write_text(ours.html, encoding="utf-8")
        theirs = axtree.parse(_dom(path), url)
        assert theirs.lines == ours.lines, url
        assert theirs.title == ours.title
        assert [f.action for f in theirs.forms] == [f.action for f in ours.forms]
