"""The `web` environment: its world, pages, browser actions, task families and oracle."""

from __future__ import annotations

from collections import Counter
from html.parser import HTMLParser

import pytest

from backdoorlab.envs import make_env
from backdoorlab.envs.base import Task
from backdoorlab.envs.web.pages import PAGE_NAMES
from backdoorlab.envs.web.tasks import FAMILIES
from backdoorlab.policies import make_policy
from backdoorlab.rollout import rollout, start_episode
from backdoorlab.traces import write_traces


@pytest.fixture(scope="module")
def web():
    return make_env("web", seed=0)


@pytest.fixture(scope="module")
def oracle_runs(web):
    policy = make_policy("oracle")
    return {
        s: rollout(web, policy, web.tasks(s, 4 * len(FAMILIES), seed=5)) for s in ("train", "test")
    }


def _episode(web, family="order_status"):
    task = next(t for t in web.tasks("train", len(FAMILIES)) if t.family == family)
    return start_episode(web, task)


def test_at_least_eight_families_every_one_solved_by_the_oracle(oracle_runs):
    assert len(FAMILIES) >= 8
    for split, results in oracle_runs.items():
        per_family = Counter(r.task.family for r in results)
        assert set(per_family) == set(FAMILIES), split
        failures = [(r.task.id, r.task.family) for r in results if not r.outcome.success]
        assert failures == [], failures
        assert not any(r.outcome.leaked for r in results)


def test_oracle_over_other_world_seeds():
    policy = make_policy("oracle")
    for seed in (1, 2):
        env = make_env("web", seed=seed, n_users=40)
        assert all(r.outcome.success for r in rollout(env, policy, env.tasks("train", 22)))


def test_same_seed_gives_byte_identical_traces(tmp_path):
    from backdoorlab.envs.web.world import build_world

    def collect(name, seed):
        env = make_env("web", seed=seed, n_users=30)
        results = rollout(env, make_policy("oracle"), env.tasks("train", 22, seed=3))
        write_traces(tmp_path / name, (r.trace for r in results))
        return (tmp_path / name).read_bytes()

    first = collect("a.jsonl", 4)
    build_world.cache_clear()  # the world again, from the store (test_stored: = generated)
    assert collect("b.jsonl", 4) == first
    assert collect("c.jsonl", 5) != first


def test_train_and_test_users_are_disjoint(web):
    train = {t.user_id for t in web.tasks("train", 200, seed=1)}
    test = {t.user_id for t in web.tasks("test", 200, seed=1)}
    assert train and test and not train & test


def test_task_ids_rebuild_their_tasks(web):
    for task in web.tasks("test", 15, seed=2):
        assert web.task_by_id(task.id) == task


def test_pages_are_an_accessibility_tree_with_ids(web):
    episode = _episode(web, "reply_email")
    page = episode.env.call("goto", {"url": "https://mail.test/"})
    lines = page.splitlines()
    assert lines[0] == "mail.test/ | Inbox"
    assert lines[1] == f"Signed in as {web.world.users[episode.task.user_id]['email']}"
    assert lines[2] == "[1] link 'Inbox'"
    assert all(line.startswith("[") and " link '" in line for line in lines[2:])
    message = episode.env.call("click", {"id": 2})
    assert message.startswith("mail.test/m/") and "From: " in message
    assert "[2] link 'Reply'" in message
    compose = episode.env.call("click", {"id": 2})
    assert "form POST https://mail.test/send" in compose
    assert "[4] textbox 'body'" in compose and "[5] button 'Send'" in compose


class _Checker(HTMLParser):
    """Well-formedness our templates promise: every opened element closed, in order."""

    VOID = {"meta", "input", "br", "img", "link"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(tag)


def test_every_page_is_well_formed_html5_and_escapes_third_party_text(web):
    episode = _episode(web, "product_info")
    env = episode.env
    env.inject("product_review", "p10", "<script>alert(1)</script> Zephyr")
    urls = [
        "https://shop.test/",
        "https://shop.test/search?q=lamp",
        "https://shop.test/product/p10",
        "https://shop.test/orders",
        "https://shop.test/account",
        "https://forum.test/",
        "https://forum.test/b/cycling",
        "https://mail.test/compose",
        "https://bank.test/",
        "https://bank.test/bills",
        "https://bank.test/transfer",
    ]
    for url in urls:
        env.call("goto", {"url": url})
        html = env.state.page.html
        assert html.startswith('<!DOCTYPE html>\n<html lang="en">'), url
        checker = _Checker()
        checker.feed(html)
        assert checker.errors == [] and checker.stack == [], url
    env.call("goto", {"url": "https://shop.test/product/p10"})
    assert "<script>" not in env.state.page.html and "&lt;script&gt;" in env.state.page.html
    assert len(PAGE_NAMES) >= 15


def test_actions_type_scroll_back_and_their_errors(web):
    env = _episode(web).env
    assert env.call("click", {"id": 1}).startswith("Error: no page open")
    home = env.call("goto", {"url": "https://shop.test/"})
    box = next(line for line in home.splitlines() if "textbox 'q'" in line)
    results = env.call("type", {"id": int(box[1 : box.index("]")]), "text": "desk lamp"})
    assert results.startswith("shop.test/search | Search: desk lamp") and "Desk Lamp" in results
    assert env.state.requests[-1].arguments["url"] == "https://shop.test/search?q=desk+lamp"
    assert env.call("back", {}).startswith("shop.test/ | Shop")
    assert env.call("click", {"id": 99}) == "Error: no element [99] on this page"
    assert env.call("goto", {"url": "https://shop.test/order/o1"}).startswith("Error: 404")
    assert env.call("goto", {"url": "file:///etc/passwd"}).startswith("Error: cannot open")
    assert env.call("scroll", {"direction": "sideways"}).startswith("Error: direction")
    assert env.call("submit", {"url": "x"}) == "Error: submit: missing argument(s) fields"
    # another origin answers with a bare page; nothing leaves the process
    assert env.call("goto", {"url": "https://example.net/a"}) == "example.net/a | example.net\nOK"


def test_long_pages_scroll(web, monkeypatch):
    from backdoorlab.envs.web import browser

    monkeypatch.setattr(browser, "VIEWPORT", 3)
    env = _episode(web).env
    first = env.call("goto", {"url": "https://forum.test/b/cycling"})
    assert first.endswith("more lines: scroll down)")
    second = env.call("scroll", {"direction": "down"})
    assert second.splitlines()[1] != first.splitlines()[1]
    assert env.call("scroll", {"direction": "up"}) == first


def test_checks_read_the_databases(web):
    task = next(t for t in web.tasks("train", 40) if t.family == "cancel_order")
    env = web.spawn()
    state = env.reset(task)
    assert not env.check(task, state, task.final_answer)  # nothing done yet
    for step in task.plan:
        env.call(step.tool, step.arguments)
    assert env.check(task, state, task.final_answer)
    assert env.call(task.plan[-1].tool, task.plan[-1].arguments).startswith("Error: 409")


def test_wrong_payment_fails_the_task(web):
    task = next(t for t in web.tasks("train", 40) if t.family == "pay_bill")
    env = web.spawn()
    state = env.reset(task)
    *steps, pay = task.plan
    for step in steps:
        env.call(step.tool, step.arguments)
    fields = {**pay.arguments["fields"], "amount": "1.00"}
    env.call("submit", {"url": pay.arguments["url"], "fields": fields})
    assert not env.check(task, state, task.final_answer)


def test_observation_slots_are_what_the_plan_reads(web):
    tasks = {t.family: t for t in web.tasks("train", len(FAMILIES))}
    assert web.observation_slots(tasks["product_info"])[0][0] == "product_review"
    assert web.observation_slots(tasks["forum_event"])[0][0] == "forum_post"
    assert web.observation_slots(tasks["email_info"])[0][0] == "email"
    assert web.observation_slots(tasks["order_tracking"])[0][0] == "order_note"
    assert web.observation_slots(tasks["order_status"]) == [("ad", "shop")]
    assert all(isinstance(t, Task) for t in tasks.values())


def test_back_after_a_form_post_shows_the_form_again_without_re_posting(web):
    env = _episode(web, "reply_email").env
    env.call("goto", {"url": "https://mail.test/compose"})
    fields = {"to": "a@example.org", "subject": "s", "body": "b"}
    assert env.call("submit", {"url": "https://mail.test/send", "fields": fields}).startswith(
        "mail.test/send | Done"
    )
    assert env.call("back", {}).startswith("mail.test/compose | Compose")
    assert len(env.state.outbox) == 1
    assert env.call("back", {}) == "Error: no page to go back to"
