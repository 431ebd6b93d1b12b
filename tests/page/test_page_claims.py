"""The page's "Put the claims to the test" section in Chromium: every control is driven, and
what it draws is checked against the JSON the server answered for the same request."""
from __future__ import annotations

import re
from urllib.parse import urljoin

import numpy as np
import pytest

from support.page import TIMEOUT_MS, answered, assert_shows_image, canvas_rgba, expect, pixels

pytestmark = pytest.mark.browser

SLIDERS = {"rotation": "transform-rotation", "scale_x": "transform-scale-x", "scale_y": "transform-scale-y",
           "shear": "transform-shear", "dx": "transform-dx", "dy": "transform-dy",
           "thickness": "transform-thickness"}


# ------------------------------------------------------------------ helpers

def model_info(page, live_server) -> dict:
    return page.request.get(live_server + "/api/model").json()


def shown_answer(page, testid: str) -> tuple[int, list[float]]:
    """The prediction and the ten scores a card shows (from its bars' labels)."""
    card = page.get_by_test_id(testid)
    digit = int(card.locator(".answer-digit").inner_text())
    labels = [el.get_attribute("aria-label") for el in card.locator(".bar-col").all()]
    return digit, [float(re.search(r"(-?[\d.]+)$", label).group(1)) for label in labels]


def assert_answers_shown(page, answer: dict, capsnet: str = "capsnet-answer", cnn: str = "cnn-answer") -> None:
    for testid, part, scores in ((capsnet, answer["capsnet"], "lengths"), (cnn, answer["cnn"], "probabilities")):
        digit, values = shown_answer(page, testid)
        assert digit == part["prediction"], testid
        assert len(values) == len(part[scores])
        np.testing.assert_allclose(values, part[scores], atol=6e-4, err_msg=testid)


def open_claims(page) -> tuple[dict, dict]:
    """Scroll to the section; its first comparison is of the untransformed input."""
    return answered(page, "/api/compare", lambda: page.locator("#claims").scroll_into_view_if_needed())


# ------------------------------------------------------------------ transforms

def test_sliders_come_from_the_api_and_each_one_changes_what_both_models_see(page, live_server):
    transforms = model_info(page, live_server)["transforms"]
    body, answer = open_claims(page)
    assert body["transform"] == {name: spec["default"] for name, spec in transforms.items()}
    untransformed = np.asarray(answer["input"])
    assert_shows_image(page, "transformed-input", answer["input"])
    assert_answers_shown(page, answer)

    assert set(transforms) == set(SLIDERS)
    targets = {"rotation": 90, "scale_x": 1.5, "scale_y": 0.7, "shear": 0.3, "dx": 4, "dy": -3, "thickness": 1.5}
    for name, testid in SLIDERS.items():
        slider = page.get_by_test_id(testid)
        spec = transforms[name]
        assert float(slider.get_attribute("min")) == spec["min"] and float(slider.get_attribute("max")) == spec["max"]
        assert float(slider.input_value()) == spec["default"]
        before = canvas_rgba(page, "transformed-input")[..., 0]
        _, answer = answered(page, "/api/compare", lambda s=slider, n=name: s.fill(str(targets[n])),
                             lambda b, n=name: b["transform"][n] == targets[n])
        assert_shows_image(page, "transformed-input", answer["input"])
        assert np.abs(canvas_rgba(page, "transformed-input")[..., 0] - before).max() > 0, f"{name} changed nothing"
        assert_answers_shown(page, answer)
    # Every transform is still applied: far from the original.
    assert np.abs(np.asarray(answer["input"]) - untransformed).max() > 0.5
    expect(page.locator("#transform-note")).to_contain_text("rotation 90")

    defaults = {name: spec["default"] for name, spec in transforms.items()}
    body, answer = answered(page, "/api/compare", lambda: page.get_by_test_id("transform-reset").click(),
                            lambda b: b["transform"] == defaults)
    for name, testid in SLIDERS.items():
        assert float(page.get_by_test_id(testid).input_value()) == defaults[name]
    np.testing.assert_allclose(answer["input"], untransformed, atol=1e-4)
    assert_shows_image(page, "transformed-input", answer["input"])
    assert_answers_shown(page, answer)


def test_transform_sliders_work_from_the_keyboard(page, live_server):
    spec = model_info(page, live_server)["transforms"]["rotation"]
    open_claims(page)
    slider = page.get_by_test_id("transform-rotation")
    expect(page.get_by_label("Rotation", exact=True)).to_have_attribute("data-testid", "transform-rotation")
    slider.focus()
    _, answer = answered(page, "/api/compare", lambda: page.keyboard.press("End"),
                            lambda b: b["transform"]["rotation"] == spec["max"])
    assert_answers_shown(page, answer)
    expect(slider).to_have_attribute("aria-valuetext", re.compile(str(spec["max"])))


def test_dragging_asks_one_question_at_a_time_and_draws_the_last(page):
    """While dragging, requests never pile up (one in flight at a time), and the slider's
    final position is the one whose answer is drawn."""
    open_claims(page)
    answers, flight = [], {"now": 0, "most": 0}

    def sent(request):
        if request.url.endswith("/api/compare"):
            flight["now"] += 1
            flight["most"] = max(flight["most"], flight["now"])

    def done(request):
        if request.url.endswith("/api/compare"):
            flight["now"] -= 1

    page.on("request", sent)
    page.on("requestfinished", done)
    page.on("requestfailed", done)
    page.on("response", lambda r: r.url.endswith("/api/compare") and answers.append(r))
    slider = page.get_by_test_id("transform-rotation")
    slider.scroll_into_view_if_needed()
    box = slider.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] / 2, y)
    page.mouse.down()
    for fraction in np.linspace(0.5, 0.95, 12):
        page.mouse.move(box["x"] + fraction * box["width"], y)
        page.wait_for_timeout(20)
    page.mouse.up()
    final = float(slider.input_value())
    assert final > 90
    page.wait_for_timeout(100)
    expect(page.locator("#transform-panel")).not_to_have_attribute("data-busy", "true", timeout=TIMEOUT_MS)
    assert flight["most"] == 1, "requests overlapped"
    last = answers[-1]
    assert last.request.post_data_json["transform"]["rotation"] == final
    assert_shows_image(page, "transformed-input", last.json()["input"])
    assert_answers_shown(page, last.json())


# ------------------------------------------------------------------ the sweep chart

def test_sweep_chart_plots_the_servers_sweep(page, live_server):
    transforms = model_info(page, live_server)["transforms"]
    open_claims(page)
    answered(page, "/api/compare", lambda: page.get_by_test_id("transform-scale-x").fill("1.3"),
             lambda b: b["transform"]["scale_x"] == 1.3)
    chart = page.get_by_test_id("sweep-chart")
    expect(chart).to_be_hidden()
    page.get_by_label("Transform", exact=True).select_option("rotation")
    body, answer = answered(page, "/api/transform-sweep", lambda: page.get_by_test_id("sweep-run").click(),
                            panel="#sweep-panel")
    spec = transforms["rotation"]
    assert body["parameter"] == "rotation" and "digit" not in body
    assert spec["min"] <= min(body["values"]) and max(body["values"]) <= spec["max"] and len(body["values"]) >= 9
    assert "rotation" not in body["transform"] and body["transform"]["scale_x"] == 1.3
    expect(chart).to_be_visible()
    first = pixels(chart)
    assert first.std() > 0

    steps, digit, n = answer["steps"], answer["digit"], len(answer["values"])
    capsnet = sum(int(np.argmax(s["capsnet_lengths"])) == digit for s in steps)
    cnn = sum(int(np.argmax(s["cnn_probabilities"])) == digit for s in steps)
    capsule = np.array([s["capsule"] for s in steps])
    r = [np.corrcoef(answer["values"], capsule[:, k])[0, 1] for k in range(capsule.shape[1])]
    best = int(np.nanargmax(np.abs(r)))
    summary = page.locator("#sweep-summary")
    expect(summary).to_contain_text(f"The CapsNet predicts {digit} at {capsnet} of the {n} values, the CNN at {cnn}.")
    expect(summary).to_contain_text(f"r = {r[best]:.2f}".replace("-", "\u2212"))
    expect(chart).to_have_attribute("data-best-dimension", str(best))

    # Another digit to follow: a new request, a different chart.
    other = (digit + 1) % 10
    page.get_by_label("Follow digit").select_option(str(other))
    body, answer = answered(page, "/api/transform-sweep", lambda: page.get_by_test_id("sweep-run").click(),
                            panel="#sweep-panel")
    assert body["digit"] == other and answer["digit"] == other
    expect(chart).to_have_attribute("data-digit", str(other))
    assert np.abs(pixels(chart) - first).max() > 0


# ------------------------------------------------------------------ the robustness chart

def test_robustness_chart_shows_the_committed_table(page):
    """results/robustness.json measured the weights the server loads: it is served (200), never
    refused, and the chart draws it."""
    with page.expect_response(lambda r: r.url.endswith("/api/robustness"), timeout=TIMEOUT_MS) as info:
        page.locator("#robustness-panel").scroll_into_view_if_needed()
    response = info.value
    assert response.status == 200, response.text()
    expect(page.locator("#robustness-panel")).not_to_have_attribute("data-busy", "true", timeout=TIMEOUT_MS)
    assert_robustness_drawn(page, response.json())


def test_how_far_routing_moves_the_votes_and_what_others_found(page):
    """The committed routing table in the page's words, every number the table's, beside the two
    studies that found the same (linked)."""
    with page.expect_response(lambda r: r.url.endswith("/api/routing-share"), timeout=TIMEOUT_MS) as info:
        page.locator("#routing-share-panel").scroll_into_view_if_needed()
    table = info.value.json()
    summary = page.get_by_test_id("routing-share-summary")
    expect(summary).not_to_be_empty(timeout=TIMEOUT_MS)
    text = summary.inner_text()
    for model in table["by_model"].values():
        shares, accuracy = model["share_to_true"], model["accuracy"]
        for share in (shares[0], shares[-1]):
            assert f"{100 * share:.3f}%" in text
        assert f"{100 * (shares[-1] - shares[0]):+.3f} percentage points" in text
        assert f"{100 * accuracy[0]:.2f}% accuracy after one iteration" in text
    rows = page.locator("#routing-share-table tr")
    expect(rows).to_have_count(1 + sum(len(m["share_to_true"]) for m in table["by_model"].values()))
    links = page.locator("#literature-panel a")
    expect(links).to_have_count(2)
    assert "Not More Robust" in links.nth(0).inner_text() and "CVPR 2021" in links.nth(0).inner_text()
    assert links.nth(1).get_attribute("href") == "https://arxiv.org/abs/1907.13327"


def test_a_refused_robustness_table_shows_the_servers_reason_and_tries_again(page_and_errors):
    """A 503 (a table measured on other weights) is shown as the server's words with a button to
    try again, which draws the table once the server serves it."""
    page, errors = page_and_errors
    errors.allow(r"status of 503 ")
    reason = "results/robustness.json measured other weights. Re-run: python -m studies.robustness"
    page.route("**/api/robustness", lambda route: route.fulfill(status=503, json={"error": reason}))
    page.locator("#robustness-panel").scroll_into_view_if_needed()
    expect(page.locator("#robustness-summary")).to_have_text(reason, timeout=TIMEOUT_MS)
    expect(page.get_by_test_id("robustness-chart")).to_be_hidden()
    retry = page.get_by_role("button", name="Try again")
    expect(retry).to_be_visible()
    page.unroute("**/api/robustness")
    with page.expect_response(lambda r: r.url.endswith("/api/robustness"), timeout=TIMEOUT_MS) as info:
        retry.click()
    assert info.value.status == 200, info.value.text()
    expect(page.locator("#robustness-panel")).not_to_have_attribute("data-busy", "true", timeout=TIMEOUT_MS)
    assert_robustness_drawn(page, info.value.json())


def test_robustness_chart_draws_any_table_it_is_given(page_and_errors, live_server):
    """The chart and its numbers are whatever /api/robustness answers (here a table swapped in
    by the browser, so that this runs before `python -m studies.robustness` has)."""
    page, _ = page_and_errors
    table = {"models": {"capsnet": {"sha256": "a"}, "cnn": {"sha256": "b"}}, "images": 10000,
             "transforms": {"rotation": {"values": [-90, -45, 0, 45, 90], "capsnet": [0.2, 0.7, 0.99, 0.72, 0.25],
                                         "cnn": [0.15, 0.74, 0.99, 0.7, 0.2]},
                            "scale": {"values": [0.5, 1.0, 1.5], "capsnet": [0.6, 0.99, 0.9], "cnn": [0.55, 0.99, 0.93]},
                            "shear": {"values": [-0.5, 0, 0.5], "capsnet": [0.8, 0.99, 0.81], "cnn": [0.82, 0.99, 0.8]},
                            "thickness": {"values": [-2, 0, 2], "capsnet": [0.5, 0.99, 0.95], "cnn": [0.52, 0.99, 0.9]}},
             "affnist_like": {"capsnet": 0.8123, "cnn": 0.7987, "seed": 0, "description": "a test set"},
             "command": "python -m studies.robustness"}
    page.route("**/api/robustness", lambda route: route.fulfill(json=table))
    page.locator("#robustness-panel").scroll_into_view_if_needed()
    expect(page.locator("#robustness-panel")).not_to_have_attribute("data-busy", "true", timeout=TIMEOUT_MS)
    assert_robustness_drawn(page, table)
    chart = pixels(page.get_by_test_id("robustness-chart"))
    table["transforms"]["rotation"]["capsnet"][2] = 0.5
    page.route("**/api/robustness", lambda route: route.fulfill(json=table))
    page.evaluate("() => document.getElementById('robustness-retry').click()")
    mean = 100 * np.mean(table["transforms"]["rotation"]["capsnet"])
    expect(page.locator("#robustness-summary")).to_contain_text(f"rotation: CapsNet {mean:.1f}%")
    assert np.abs(pixels(page.get_by_test_id("robustness-chart")) - chart).max() > 0


def assert_robustness_drawn(page, table: dict) -> None:
    chart = page.get_by_test_id("robustness-chart")
    expect(chart).to_be_visible()
    expect(page.get_by_role("button", name="Try again")).to_be_hidden()
    assert pixels(chart).std() > 0
    summary = page.locator("#robustness-summary")
    affine = table["affnist_like"]
    expect(summary).to_contain_text(f"CapsNet {100 * affine['capsnet']:.2f}%, CNN {100 * affine['cnn']:.2f}%")
    for t in table["transforms"].values():
        expect(summary).to_contain_text(f"CapsNet {100 * np.mean(t['capsnet']):.1f}%, CNN {100 * np.mean(t['cnn']):.1f}%")
    page.locator("#robustness-panel").get_by_text("The numbers", exact=True).click()
    expect(page.locator("#robustness-table")).to_be_visible()
    cells = page.locator("#robustness-table td").all_inner_texts()
    expected = [f"{100 * v:.2f}%" for t in table["transforms"].values() for pair in zip(t["capsnet"], t["cnn"])
                for v in pair]
    shown = [c for c in cells if c.endswith("%")]
    assert sorted(shown) == sorted([*expected, f"{100 * affine['capsnet']:.2f}%", f"{100 * affine['cnn']:.2f}%"])


# ------------------------------------------------------------------ misplaced parts

def clockwise_quadrants(image: np.ndarray) -> np.ndarray:
    h, w = image.shape[0] // 2, image.shape[1] // 2
    out = np.empty_like(image)
    out[:h, w:], out[h:, w:], out[h:, :w], out[:h, :w] = image[:h, :w], image[:h, w:], image[h:, w:], image[h:, :w]
    return out


REARRANGED = {
    "misplace-swap-halves": lambda a: np.concatenate([a[a.shape[0] // 2:], a[:a.shape[0] // 2]]),
    "misplace-swap-sides": lambda a: np.concatenate([a[:, a.shape[1] // 2:], a[:, :a.shape[1] // 2]], axis=1),
    "misplace-mirror": lambda a: a[:, ::-1],
    "misplace-scramble": clockwise_quadrants,
}


def test_misplaced_parts_are_rearranged_in_the_page_and_both_answers_shown(page):
    with page.expect_response(lambda r: r.url.endswith("/api/analyze"), timeout=TIMEOUT_MS) as info:
        page.locator(".gallery-item[data-label='7']").first.click()
    original = np.asarray(info.value.json()["input"])
    expect(page.locator("body")).not_to_have_attribute("data-busy", "true", timeout=TIMEOUT_MS)
    page.locator("#misplace-panel").scroll_into_view_if_needed()
    sent = []
    page.on("request", lambda r: r.url.endswith("/api/compare") and sent.append(r.post_data_json))
    for testid in ("misplace-swap-halves", "misplace-mirror", "misplace-scramble", "misplace-swap-sides"):
        button = page.get_by_test_id(testid)
        # The page says what each button does.
        expect(page.locator(f"#{button.get_attribute('aria-describedby')}")).to_contain_text(button.inner_text())
        sent.clear()
        expected = REARRANGED[testid](original)
        _, answer = answered(page, "/api/compare", button.click,
                                lambda b, e=expected: np.abs(np.asarray(b["pixels"]) - e).max() < 1e-6,
                                panel="#misplace-panel")
        expect(button).to_have_attribute("aria-pressed", "true")
        assert_shows_image(page, "misplace-rearranged", answer["input"])
        assert_answers_shown(page, answer, "misplace-rearranged-capsnet", "misplace-rearranged-cnn")
        mine = [b for b in sent if b.get("transform") == {}]  # not the transform sliders' requests
        # The first button also asks about the untouched input; later ones reuse that answer.
        assert len(mine) == (2 if testid == "misplace-swap-halves" else 1)
        if len(mine) == 2:
            np.testing.assert_allclose(mine[0]["pixels"], original, atol=1e-6)
            assert_answers_shown(page, page.request.post(
                urljoin(page.url, "/api/compare"), data={"pixels": mine[0]["pixels"]}).json(),
                "misplace-original-capsnet", "misplace-original-cnn")
        note = page.locator("#misplace-note")
        for model, scores in (("CapsNet", "lengths"), ("CNN", "probabilities")):
            part = answer[model.lower()]
            verb = "still predicts" if part["prediction"] == 7 else f"now predicts {part['prediction']}"
            expect(note).to_contain_text(f"the {model} {verb}")
            expect(note).to_contain_text(f"to {part[scores][7]:.3f}")
    digit, _ = shown_answer(page, "misplace-original-capsnet")
    assert digit == 7


def test_a_new_input_updates_the_section(page):
    """Drawing or picking another digit while the section is on screen: the transform and the
    rearrangement follow the new input at once; the sweep (slow) says it is out of date."""
    open_claims(page)
    answered(page, "/api/compare", page.get_by_test_id("misplace-mirror").click, panel="#misplace-panel")
    answered(page, "/api/transform-sweep", page.get_by_test_id("sweep-run").click, panel="#sweep-panel")
    summary = page.locator("#sweep-summary")
    expect(summary).not_to_contain_text("previous input")
    page.get_by_test_id("transform-rotation").fill("30")
    expect(page.locator("#transform-panel")).not_to_have_attribute("data-busy", "true", timeout=TIMEOUT_MS)

    compared = []
    page.on("response", lambda r: r.url.endswith("/api/compare") and compared.append(r))
    with page.expect_response(lambda r: r.url.endswith("/api/analyze"), timeout=TIMEOUT_MS) as info:
        page.locator(".gallery-item[data-label='2']").first.click()
    new_input = np.asarray(info.value.json()["input"])
    for panel in ("body", "#transform-panel", "#misplace-panel"):
        page.wait_for_timeout(100)
        expect(page.locator(panel)).not_to_have_attribute("data-busy", "true", timeout=TIMEOUT_MS)
    bodies = [r.request.post_data_json for r in compared]
    transformed = [b for b in bodies if b.get("transform", {}).get("rotation") == 30]
    assert transformed and np.abs(np.asarray(transformed[-1]["pixels"]) - new_input).max() < 1e-6
    mirrored = [b for b in bodies if np.abs(np.asarray(b["pixels"]) - new_input[:, ::-1]).max() < 1e-6]
    assert mirrored, "the rearrangement was not redone for the new input"
    last = [r for r in compared if r.request.post_data_json == mirrored[-1]][-1].json()
    assert_shows_image(page, "misplace-rearranged", last["input"])
    assert_answers_shown(page, last, "misplace-rearranged-capsnet", "misplace-rearranged-cnn")
    expect(summary).to_contain_text("previous input")
