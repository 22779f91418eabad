"""The web view's pages and JSON API through Starlette's test client (no browser)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

import integrad
from integrad import TextExplanation
from integrad.web.forms import LIMITS
from tests.web.conftest import ATTACK, EXPLAINED_TEXTS, FAST


class _Tags(HTMLParser):
    """Every start tag and its attributes, and the text, of an HTML fragment."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


class _Scores(HTMLParser):
    """The data-score values inside the first element whose class has ``within``."""

    def __init__(self, html: str, within: str) -> None:
        super().__init__()
        self.within, self.depth, self.done, self.scores = within, 0, False, []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if self.depth:
            self.depth += 1
            if "data-score" in attrs:
                self.scores.append(float(attrs["data-score"]))
        elif not self.done and self.within in (attrs.get("class") or "").split():
            self.depth = 1

    def handle_endtag(self, tag):
        if self.depth:
            self.depth -= 1
            self.done = self.depth == 0


def scores_in(html: str, within: str = "integrad-text") -> list[float]:
    """The data-score values inside the first element whose class has ``within``."""
    return _Scores(html, within).scores


def stat(html: str, key: str) -> float:
    return float(re.search(rf'data-stat="{key}" data-value="([^"]+)"', html).group(1))


def test_explain_gives_the_library_result_and_complete_scores(client, tiny_bert_folder):
    text = "the movie was fantastic, never again"
    response = client.post("/api/explain", json={"text": text, "target": "POSITIVE", **FAST})
    assert response.status_code == 200, response.text
    data = response.json()
    served = TextExplanation.from_dict(data["result"])
    direct = integrad.explain(str(tiny_bert_folder), text, target="POSITIVE", **FAST)
    assert served == direct
    # the colored words and special tokens carry the scores; they add up to F(x) - F(x')
    shown = scores_in(data["html"])
    assert len(shown) == len(direct.words) + sum(direct.special_tokens)
    assert sum(shown) == pytest.approx(direct.total, abs=1e-12)
    change = stat(data["html"], "change")
    assert change == pytest.approx(direct.output - direct.baseline_output, abs=1e-12)
    assert abs(sum(shown) - change) <= abs(stat(data["html"], "delta")) + 1e-6


def test_each_setting_reaches_the_library(client, tiny_bert_folder):
    request = {"text": "good food", "baseline": "zero", "method": "adaptive", "tol": 1e-2,
               "noise": 2, "score": "probability", "target": 0}  # fmt: skip
    data = client.post("/api/explain", json=request).json()
    served = TextExplanation.from_dict(data["result"])
    direct = integrad.explain(
        str(tiny_bert_folder), "good food", baseline="zero", method="adaptive", tol=1e-2,
        noise=2, score="probability", target=0,
    )  # fmt: skip
    assert served == direct
    assert served.options.noise.n_samples == 2 and served.method == "adaptive"
    assert served.target_label == "NEGATIVE" and served.score == "probability"


def test_compare_two_baselines_side_by_side(client, tiny_bert_folder):
    sides = {"a": {"baseline": "mask"}, "b": {"baseline": "unk", "target": "NEGATIVE"}}
    request = {"text": "i love you but dislike the movie", **FAST, **sides}
    data = client.post("/api/compare", json=request).json()
    a, b = (TextExplanation.from_dict(data[side]["result"]) for side in "ab")
    assert a.baseline == "mask" and b.baseline == "unk" and b.target_label == "NEGATIVE"
    assert b == integrad.explain(
        str(tiny_bert_folder), request["text"], baseline="unk", target="NEGATIVE", **FAST
    )
    assert "A: target predicted, baseline mask" in data["html"]
    assert "B: target NEGATIVE, baseline unk" in data["html"]
    # the word-by-word table holds B - A for each word
    cells = re.findall(r"<td class='num'>([^<]+)</td>", data["html"])
    differences = [float(c) for c in cells[2::3]]
    expected = [y - x for x, y in zip(a.word_scores, b.word_scores, strict=True)]
    assert differences == pytest.approx(expected, rel=1e-3, abs=1e-6)


def test_markup_in_the_text_renders_as_text(client):
    data = client.post("/api/explain", json={"text": f"good {ATTACK} food", **FAST}).json()
    parsed = _Tags(data["html"])
    assert not any(tag in ("img", "script") for tag, _ in parsed.tags)
    assert not any(name.startswith("on") for _, attrs in parsed.tags for name in attrs)
    assert "<" in "".join(parsed.text) and "onerror" in "".join(parsed.text)


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"text": "good", "n_step": 16}, 400, "'n_step' (did you mean 'n_steps'?)"),
        ({"txt": "good"}, 400, "unknown field 'txt' (did you mean 'text'?)"),
        ({"text": "good", "target": "HAPPY"}, 400, "unknown label 'HAPPY'; the model's labels are"),
        ({"text": "good", "target": 7}, 400, "not a class index of this model (0 to 1)"),
        ({"text": "good", "baseline": "blank"}, 400, "unknown baseline 'blank'; choose one of"),
        ({"text": "good", "method": "gausslegendre", "tol": 0.01}, 400, "tol applies to"),
        ({"text": "good", "n_steps": 5000}, 400, "n_steps = 5000 is more than this server"),
        ({"text": "good", "noise": 1000}, 400, "noise = 1000 is more than this server allows"),
        ({"text": "good", "batch_size": 4}, 400, "batch_size is set by the server"),
        ({"text": "   "}, 400, "'text' is empty"),
        ({"text": 5}, 400, "'text' must be a string"),
        ({"text": "a" * (LIMITS["text"] + 1)}, 400, "more than the 5000 this server explains"),
        ({}, 400, "the request needs 'text'"),
        (["good"], 400, "the request must be a JSON object"),
        ({"text": "good", "model": "other"}, 400, "unknown model 'other'"),
    ],
)
def test_bad_requests_get_a_clear_message(client, body, status, message):
    response = client.post("/api/explain", json=body)
    assert response.status_code == status
    assert message in response.json()["error"]


def test_compare_needs_both_sides(client):
    response = client.post("/api/compare", json={"text": "good", "a": {}})
    assert response.status_code == 400 and "'b' is missing" in response.json()["error"]


def test_requests_that_are_not_json_or_too_large_are_refused(client):
    form = client.post("/api/explain", data={"text": "good"})  # a cross-site form would do this
    assert form.status_code == 415 and "as JSON" in form.json()["error"]
    broken = client.post("/api/explain", content=b"{", headers={"content-type": "application/json"})
    assert broken.status_code == 400 and "not valid JSON" in broken.json()["error"]
    huge = client.post("/api/explain", json={"text": "a" * (LIMITS["body"] + 10)})
    assert huge.status_code == 413


def test_a_failure_inside_the_server_shows_no_stack_trace(client, monkeypatch):
    from integrad.web.models import ModelSlot

    def broken(self, text, **arguments):
        raise RuntimeError("secret internals at /home/someone")

    monkeypatch.setattr(ModelSlot, "explain", broken)
    response = client.post("/api/explain", json={"text": "good"})
    assert response.status_code == 500
    error = response.json()["error"]
    assert "RuntimeError" in error and "secret" not in error and "Traceback" not in error


def test_other_host_names_are_refused(client):
    # DNS rebinding: another site's name pointing at 127.0.0.1 must not reach the API
    response = client.get("/api/info", headers={"host": "evil.example"})
    assert response.status_code == 400


def test_every_response_forbids_outside_scripts_and_resources(client):
    for path in ("/", "/runs", "/api/info", "/static/app.js"):
        policy = client.get(path).headers["content-security-policy"]
        assert "default-src 'none'" in policy and "script-src 'self'" in policy
    page = client.get("/").text
    assert "http://" not in page and "https://" not in page  # no CDN, no fonts from afar
    assert "<script>" not in page  # the one script is a file of the package


def test_info_and_pages(client):
    info = client.get("/api/info").json()
    assert info["models"][0]["labels"] == ["NEGATIVE", "POSITIVE"]
    assert "neutral" in info["baselines"] and "adaptive" in info["methods"]
    home = client.get("/").text
    assert 'name="text"' in home and 'type="submit"' in home and 'value="POSITIVE"' in home
    assert client.get("/compare").status_code == 200
    assert client.get("/generate").status_code == 404  # a classifier has no generation page
    missing = client.get("/api/nothing")
    assert missing.status_code == 404 and "error" in missing.json()


def test_runs_listing(client):
    runs = client.get("/api/runs").json()["runs"]
    expected = {("tiny", len(EXPLAINED_TEXTS)), ("large", 1200)}
    assert {(r["name"], r["rows"]) for r in runs} == expected
    page = client.get("/runs").text
    assert 'href="/runs/tiny"' in page and 'href="/runs/large"' in page


def test_run_rows_and_row_detail(client, explained_run):
    listed = client.get("/api/runs/tiny/rows", params={"status": "error"}).json()
    assert listed["total"] == 2 and [r["id"] for r in listed["rows"]] == ["r4", "r8"]
    row = client.get("/api/runs/tiny/rows/2").json()
    assert row["text"] == ATTACK and row["status"] == "ok"
    page = client.get("/runs/tiny/rows/2").text
    parsed = _Tags(page)
    assert not any(tag == "img" for tag, _ in parsed.tags) and ATTACK in "".join(parsed.text)
    words = scores_in(page)
    assert words == pytest.approx(row["word_scores"])
    rest = sum(row["token_scores"]) - sum(row["word_scores"])
    assert abs(sum(words) + rest - stat(page, "change")) <= abs(row["delta"]) + 1e-6
    failed = client.get("/runs/tiny/rows/4").text
    assert "could not be explained" in failed and "empty or only whitespace" in failed
    assert client.get("/runs/tiny/rows/99").status_code == 404
    assert "corpus summary" in client.get("/runs/tiny").text


def test_run_rows_parameters_are_checked(client):
    bad = client.get("/api/runs/large/rows", params={"sort": "colour"})
    assert bad.status_code == 400 and "unknown sort 'colour'" in bad.json()["error"]
    unknown = client.get("/api/runs/large/rows", params={"lable": "POSITIVE"})
    assert unknown.status_code == 400 and "unknown parameter(s) 'lable'" in unknown.json()["error"]
    big = client.get("/api/runs/large/rows", params={"limit": 100000})
    assert big.status_code == 400 and "limit from 1 to 500" in big.json()["error"]


@pytest.mark.parametrize(
    "path",
    [
        "/runs/tiny/files/%2E%2E%2F%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
        "/runs/tiny/files/..%2Flarge%2Fmanifest.json",
        "/runs/tiny/files/%2Fetc%2Fpasswd",
        "/runs/%2E%2E/files/manifest.json",
        "/runs/..%2F..%2Fetc/summary",
        "/api/runs/%2E%2E%2Ftiny/rows",
        "/static/%2E%2E%2Fapp.py",
    ],
)
def test_files_outside_the_runs_folders_are_refused(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "root:" not in response.text and "integrad_version" not in response.text


def test_a_link_out_of_a_run_folder_is_refused(client, explained_run, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("do not serve", encoding="utf-8")
    link = explained_run / "outside.txt"
    link.symlink_to(secret)
    try:
        assert client.get("/runs/tiny/files/outside.txt").status_code == 404
    finally:
        link.unlink()
    shard = client.get("/runs/tiny/files/part-00000.parquet")  # a run's own files are served
    assert shard.status_code == 200 and shard.content[:4] == b"PAR1"


def test_generation_through_the_api(tiny_llama_folder):
    from starlette.testclient import TestClient

    from integrad.web.app import create_app

    with TestClient(create_app(str(tiny_llama_folder)), base_url="http://127.0.0.1") as c:
        assert c.get("/", follow_redirects=False).headers["location"] == "/generate"
        assert 'name="text"' in c.get("/generate").text
        request = {"text": "the cat sat on the", "max_new_tokens": 3, "method": "gausslegendre",
                   "n_steps": 24}  # fmt: skip
        data = c.post("/api/generate", json=request).json()
        settings = {k: v for k, v in request.items() if k != "text"}
        direct = integrad.explain_generation(str(tiny_llama_folder), request["text"], **settings)
        served = integrad.GenerationExplanation.from_dict(data["result"])
        assert served == direct
        parsed = _Tags(data["html"])
        assert not any(tag == "script" for tag, _ in parsed.tags)  # a generated <script> token
        for j in range(3):  # each token's context scores add up to its change
            block = data["html"].split(f'data-row="{j}" data-change="')[1]
            change = float(block.split('"')[0])
            context = block.split("</div>")[0]
            shown = [float(v) for v in re.findall(r'data-score="([^"]+)"', context)]
            assert abs(sum(shown) - change) <= abs(direct.delta[j]) + 1e-6
        too_many = c.post("/api/generate", json={"text": "the cat", "max_new_tokens": 500})
        assert too_many.status_code == 400 and "from 1 to 64" in too_many.json()["error"]
        assert c.post("/api/explain", json={"text": "the cat"}).status_code == 400


def test_two_models_to_choose_from_and_compare(tiny_bert_folder, tiny_tokenizer, tmp_path):
    from starlette.testclient import TestClient

    from integrad.web.app import create_app
    from tests.tiny_bert import make_bert

    other = tmp_path / "moods"
    make_bert(labels=("SAD", "HAPPY", "MEH"), seed=1).save_pretrained(other)
    tiny_tokenizer.save_pretrained(other)
    app = create_app([str(tiny_bert_folder), str(other)])
    with TestClient(app, base_url="http://127.0.0.1") as c:
        models = c.get("/api/info").json()["models"]
        assert [(m["key"], m["labels"]) for m in models] == [
            (tiny_bert_folder.name, ["NEGATIVE", "POSITIVE"]),
            ("moods", ["SAD", "HAPPY", "MEH"]),
        ]
        assert (
            'data-labels="[&quot;SAD&quot;, &quot;HAPPY&quot;, &quot;MEH&quot;]"' in c.get("/").text
        )
        one = c.post("/api/explain", json={"text": "good", "model": "moods", "target": "MEH"})
        assert TextExplanation.from_dict(one.json()["result"]).target_label == "MEH"
        wrong = c.post("/api/explain", json={"text": "good", "target": "MEH"})  # the first model
        assert wrong.status_code == 400 and "NEGATIVE, POSITIVE" in wrong.json()["error"]
        pair = c.post("/api/compare", json={"text": "good food", "a": {}, "b": {"model": "moods"}})
        a, b = (TextExplanation.from_dict(pair.json()[s]["result"]) for s in "ab")
        assert a.model_name == str(tiny_bert_folder) and b.model_name == str(other)
        assert a.words == b.words  # one tokenizer: compared word by word
        assert "B: model moods" in pair.json()["html"]
