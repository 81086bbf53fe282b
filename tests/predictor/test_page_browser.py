"""The try-it page in a real browser (headless Chromium) against real server processes."""

import json

import pytest
import requests
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from tests.predictor.chromium import start_chromium, stop_chromium
from tests.support.blue_green import BLUE, GREEN, blue_green, per_revision
from tests.support.repo import MODEL_DATA

pytestmark = pytest.mark.slow
CARD = json.loads((MODEL_DATA / "model-v1.json").read_text())
NAMES = [feature["name"] for feature in CARD["features"]]


@pytest.fixture(scope="module")
def browser():
    driver, profile = start_chromium()
    yield driver
    stop_chromium(driver, profile)


@pytest.fixture
def server(pods):
    """One pod of blue (model v1), straight, not through the route."""
    return pods[2]["house-price-v1-pod-a"]


@pytest.fixture
def page(browser, server):
    """The page as that pod serves it; afterwards, no console error at all."""
    browser.set_window_size(1100, 1000)
    browser.get(server + "/")
    yield browser
    errors = [entry["message"] for entry in browser.get_log("browser")]
    assert errors == []  # a Content-Security-Policy violation or a script error shows here


@pytest.fixture(scope="module")
def pods():
    """Two pods of blue and one of green behind a route splitting 70/30."""
    with blue_green(seed=13) as running:
        yield running


def wait_for(driver, condition, timeout=20):
    return WebDriverWait(driver, timeout, poll_frequency=0.05).until(lambda _: condition())


def text(driver, element_id):
    return driver.find_element(By.ID, element_id).text


def field(driver, name):
    return driver.find_element(By.ID, f"f-{name}")


def dollars(prediction):
    return f"${round(prediction * CARD['target']['usd_per_unit']):,}"


def predicted_text(driver):
    return wait_for(
        driver, lambda: text(driver, "price") not in ("", "…") and text(driver, "price")
    )


def test_one_click_gives_the_price_the_api_gives(page, server):
    example = CARD["example"]["features"]
    assert {name: float(field(page, name).get_attribute("value")) for name in NAMES} == example
    page.find_element(By.CSS_SELECTOR, "#predict button").click()

    [api] = requests.post(f"{server}/predict", json=example, timeout=5).json()["prediction"]
    assert predicted_text(page) == dollars(api)
    assert text(page, "answered") == f"answered by revision {BLUE}, model v1"


def test_every_field_is_labelled_with_its_meaning_range_and_unit(page):
    for feature in CARD["features"]:
        label = page.find_element(By.CSS_SELECTOR, f"label[for='f-{feature['name']}']")
        assert label.text == f"{feature['name']}: {feature['description']}"
        hint = page.find_element(
            By.ID, field(page, feature["name"]).get_attribute("aria-describedby")
        )
        assert f"{feature['min']:g} to {feature['max']:g} ({feature['unit']})" in hint.text


def test_the_form_works_from_the_keyboard_alone(page, server):
    order = []
    for _ in range(len(NAMES) + 1):
        ActionChains(page).send_keys(Keys.TAB).perform()
        focused = page.switch_to.active_element
        order.append(focused.get_attribute("id") or focused.text)
    assert order == [f"f-{name}" for name in NAMES] + ["Predict price"]

    rm = field(page, "RM")
    rm.send_keys(Keys.CONTROL, "a")
    rm.send_keys("7.5", Keys.ENTER)  # Enter in a field submits the form
    row = {**CARD["example"]["features"], "RM": 7.5}
    [api] = requests.post(f"{server}/predict", json=row, timeout=5).json()["prediction"]
    assert predicted_text(page) == dollars(api)


@pytest.mark.parametrize(
    ("name", "typed", "sent"),
    [("RM", "six", "six"), ("LSTAT", "", None), ("TAX", "1e999", "1e999")],
    ids=["a word", "an empty field", "an overflow"],
)
def test_bad_input_shows_the_api_message(page, server, name, typed, sent):
    box = field(page, name)
    box.clear()
    box.send_keys(typed)
    page.find_element(By.CSS_SELECTOR, "#predict button").click()
    row = {k: v for k, v in {**CARD["example"]["features"], name: sent}.items() if v is not None}
    answer = requests.post(f"{server}/predict", json=row, timeout=5)
    assert answer.status_code == 400
    assert wait_for(page, lambda: text(page, "error")) == answer.json()["error"]
    assert text(page, "price") == ""
    assert page.find_element(By.ID, "error").get_attribute("role") == "alert"
    [logged] = page.get_log("browser")  # the browser notes the 400 itself; nothing else
    assert "status of 400" in logged["message"]


def test_readable_on_a_phone(page, tmp_path):
    page.set_window_size(390, 844)
    page.refresh()
    overflow = page.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    size = page.execute_script("return getComputedStyle(document.querySelector('input')).fontSize")
    assert float(size.removesuffix("px")) >= 16  # smaller makes phones zoom in on focus
    assert page.save_screenshot(str(tmp_path / "phone.png"))


def traffic_table(driver):
    """{revision: (requests, share, pods, failed)} as the page shows it."""
    rows = driver.find_elements(By.CSS_SELECTOR, "#split tbody tr")
    cells = [[cell.text for cell in row.find_elements(By.TAG_NAME, "td")] for row in rows]
    return {name: (int(n), share, pods, int(failed)) for name, n, share, _, pods, failed in cells}


def send_traffic(driver, count):
    box = driver.find_element(By.ID, "count")
    box.clear()
    box.send_keys(str(count))
    driver.find_element(By.ID, "send").click()


def test_the_traffic_panel_shows_how_the_route_split_the_requests(browser, pods):
    route_url, route, urls = pods
    browser.get(route_url + "/")
    send_traffic(browser, 200)
    wait_for(browser, lambda: text(browser, "progress").startswith("Done"), timeout=60)

    by_revision = per_revision(route, urls, "POST /predict")
    shown = traffic_table(browser)
    assert {name: row[0] for name, row in shown.items()} == by_revision
    assert sum(by_revision.values()) == 200
    assert 0.6 <= by_revision[BLUE] / 200 <= 0.8  # the route's 70/30, give or take chance
    assert shown[BLUE][1:] == (f"{round(100 * by_revision[BLUE] / 200)}%", "2", 0)
    assert shown[GREEN][1:] == (f"{round(100 * by_revision[GREEN] / 200)}%", "1", 0)
    assert text(browser, "progress") == "Done: 200 of 200 answered."
    assert browser.get_log("browser") == []


def test_the_traffic_panel_is_bounded(browser, pods):
    route_url, route, _urls = pods
    browser.get(route_url + "/")
    before = sum(route.count("POST /predict").values())
    send_traffic(browser, 5000)
    assert wait_for(browser, lambda: text(browser, "traffic-error")) == (
        "Requests: enter a whole number from 1 to 1000."
    )
    assert sum(route.count("POST /predict").values()) == before
