"""The web view in a real headless Chromium (Debian's ``chromium``, driven by Playwright).

Each test types and clicks as a person would, then reads the page: the explained words'
``data-score`` values must add up to the F(x) - F(x') the page shows, within the delta it
shows. Screenshots go to each test's temporary folder. The browser is the system's
(``apt-get install chromium``); Playwright never downloads one here.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import integrad
from tests.web.conftest import ATTACK

CHROMIUM = os.environ.get("INTEGRAD_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]  # fmt: skip
# Sums the data-score values under a selector, and reads a shown number's exact value.
SUM = "els => els.reduce((s, e) => s + parseFloat(e.dataset.score), 0)"


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).is_file():
        pytest.fail(
            f"no Chromium at {CHROMIUM}: install Debian's (apt-get install -y chromium) or set "
            "INTEGRAD_CHROMIUM to a Chromium binary"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, tmp_path):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))  # alert() from markup
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    context.close()
    assert dialogs == [] and errors == []


@pytest.fixture(scope="module")
def server(tiny_bert_folder, explained_run, large_run):
    with integrad.serve(
        str(tiny_bert_folder), runs=[explained_run.parent, large_run], port=0, block=False
    ) as running:
        yield running.url


def value(page, selector: str) -> float:
    return float(page.get_attribute(selector, "data-value"))


def test_explain_a_sentence(page, server, tmp_path):
    page.goto(server + "/")
    page.fill('textarea[name="text"]', "the movie was fantastic, never again")
    page.select_option('select[name="target"]', "POSITIVE")
    page.click('button[type="submit"]')
    page.wait_for_selector("#result .integrad-text [data-score]")
    page.screenshot(path=tmp_path / "explain.png", full_page=True)
    scores = page.eval_on_selector_all("#result .integrad-text [data-score]", SUM)
    count = page.locator("#result .integrad-text [data-score]").count()
    change = value(page, '#result [data-stat="change"]')
    delta = value(page, '#result [data-stat="delta"]')
    assert count == 9  # 7 words, [CLS] and [SEP]
    assert abs(scores - change) <= abs(delta) + 1e-6
    assert "explaining the logit of POSITIVE" in page.inner_text("#result")


def test_markup_shows_as_text(page, server, tmp_path):
    page.goto(server + "/")
    page.fill('textarea[name="text"]', ATTACK)
    page.click('button[type="submit"]')
    page.wait_for_selector("#result .integrad-text [data-score]")
    page.screenshot(path=tmp_path / "markup.png", full_page=True)
    assert page.locator("#result img").count() == 0
    assert ATTACK in page.inner_text("#result .integrad-text")


def test_a_mistake_shows_its_message(page, server):
    page.goto(server + "/")
    page.fill('textarea[name="text"]', "   ")
    page.click('button[type="submit"]')
    page.wait_for_selector(".error:not([hidden])")
    assert "'text' is empty" in page.inner_text(".error")


def test_pin_one_and_compare_with_the_next(page, server, tmp_path):
    page.goto(server + "/")
    page.fill('textarea[name="text"]', "good food")
    page.click('button[type="submit"]')
    page.wait_for_selector("#result button.pin")
    page.click("#result button.pin")
    page.select_option('select[name="baseline"]', "unk")
    page.click('button[type="submit"]')
    page.wait_for_selector("#result button.pin")
    page.screenshot(path=tmp_path / "pinned.png", full_page=True)
    assert "baseline neutral" in page.inner_text("#pinned .setup")
    assert "baseline unk" in page.inner_text("#result .setup")
    page.goto(server + "/compare")
    page.click('button[type="submit"]')
    page.wait_for_selector("#result .pair")
    page.screenshot(path=tmp_path / "compare.png", full_page=True)
    assert page.locator("#result .pair article").count() == 2
    assert "Word by word" in page.inner_text("#result")


def test_open_a_run_and_a_row(page, server, tmp_path):
    page.goto(server + "/runs")
    page.click('a[href="/runs/tiny"]')
    page.wait_for_selector("table.rows tbody tr")
    page.screenshot(path=tmp_path / "run.png", full_page=True)
    page.click(f'table.rows tbody tr:has-text("{ATTACK}") td.text')
    page.wait_for_selector(".integrad-text [data-score]")
    page.screenshot(path=tmp_path / "row.png", full_page=True)
    assert page.url.endswith("/runs/tiny/rows/2")
    assert page.locator("img").count() == 0 and ATTACK in page.inner_text(".integrad-text")
    words = page.eval_on_selector_all(".integrad-text [data-score]", SUM)
    special = value(page, '[data-stat="special"]')
    change = value(page, '[data-stat="change"]')
    assert abs(words + special - change) <= abs(value(page, '[data-stat="delta"]')) + 1e-6
    page.click("text=all rows")
    page.click("text=corpus summary")
    assert "Rows that failed" in page.inner_text("main")


def test_sort_filter_and_page_a_large_run(page, server):
    page.goto(server + "/runs/large")
    page.wait_for_selector("text=rows 1–50 of 1200")
    page.click('button.sort[data-sort="abs_delta"]')  # largest |delta| first
    page.wait_for_selector("table.rows tbody tr:first-child >> text=id-1199")
    page.click(".pager .next")
    page.wait_for_selector("text=rows 51–100 of 1200")
    page.select_option('select[name="status"]', "error")
    page.click('#rows-form button[type="submit"]')
    failed = len(range(5, 1200, 97))  # made_up_rows: row i fails when i % 97 == 5
    page.wait_for_selector(f"text=rows 1–{failed} of {failed}")
    assert page.locator("table.rows tbody tr.failed").count() == failed


@pytest.fixture(scope="module")
def generation_server(tiny_llama_folder):
    with integrad.serve(str(tiny_llama_folder), port=0, block=False) as running:
        yield running.url


def test_click_a_generated_token(page, generation_server, tmp_path):
    page.goto(generation_server + "/")  # a language model's server opens on generation
    page.fill('textarea[name="text"]', "the cat sat on the")
    page.fill('input[name="max_new_tokens"]', "3")
    page.click('button[type="submit"]')
    page.wait_for_selector('button.gen-token[data-row="1"]')
    page.click('button.gen-token[data-row="1"]')
    shown = '.gen-context[data-row="1"]'
    assert page.is_visible(shown) and not page.is_visible('.gen-context[data-row="all"]')
    page.screenshot(path=tmp_path / "generation.png", full_page=True)
    scores = page.eval_on_selector_all(f"{shown} [data-score]", SUM)
    change = float(page.get_attribute(shown, "data-change"))
    assert abs(scores - change) <= value(page, '[data-stat="delta"]') + 1e-6
    assert page.locator("#result script").count() == 0  # the model generates "<script>..."
