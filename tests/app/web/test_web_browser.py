"""``lake serve`` in a real browser: Debian's Chromium driven by Selenium and chromedriver.

One server per module (``lake serve`` started as users start it, on a free 127.0.0.1 port,
against the test MinIO), one browser. Every request the browser makes is read from Chromium's
performance log, and every other host is unresolvable (``--host-resolver-rules``): the network
is off except for loopback, so a page that needed a CDN would show it.
"""

from __future__ import annotations

import json
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import web_lake

from lake.processes import free_port
from lake.settings import Settings

pytestmark = [pytest.mark.minio, pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def require_driver() -> None:
    """Fail (never skip) without Debian's Chromium and its driver (`make browser` installs both)."""
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not Path(p).is_file()]
    if missing or not shutil.which("chromedriver"):
        pytest.fail(
            f"missing {', '.join(missing) or 'chromedriver on PATH'}: run `make browser` "
            "(apt-get install -y chromium chromium-driver)",
            pytrace=False,
        )


@pytest.fixture(scope="module")
def lake(lake_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> web_lake.WebLake:
    tmp = tmp_path_factory.mktemp("web")
    settings = web_lake.web_settings(lake_settings, tmp)
    web_lake.write_tables(settings)
    web_lake.write_reviews(settings)
    web_lake.build_data_docs(settings)
    env = web_lake.serve_env(settings)
    web_lake.add_accounts(settings, env)
    return web_lake.WebLake(settings, env, tmp)


@pytest.fixture(scope="module")
def server(lake: web_lake.WebLake) -> Iterator[str]:
    port = free_port()
    proc = web_lake.start_server(lake.env, port, lake.tmp / "serve.log")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        web_lake.stop_server(proc)


@pytest.fixture(scope="module")
def browser(server: str) -> Iterator[Any]:
    require_driver()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1280,1600",
        # Network off except loopback: any other host fails to resolve.
        "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-features=OptimizationHints,MediaRouter,Translate",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(120)
    driver.implicitly_wait(10)  # a form submit returns before the next page is there
    try:
        yield driver
    finally:
        driver.quit()


REQUESTS: list[str] = []


def requests_made(driver: Any) -> list[str]:
    """Every URL the browser requested since the last call (kept for the module's final check)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    REQUESTS.extend(urls)
    return urls


def sign_in(driver: Any, server: str, login: str, password: str | None = None) -> None:
    from selenium.webdriver.common.by import By

    driver.delete_all_cookies()
    driver.get(server + "/connexion")
    driver.find_element(By.ID, "login").send_keys(login)
    driver.find_element(By.ID, "password").send_keys(password or web_lake.PASSWORDS[login])
    driver.find_element(By.ID, "se-connecter").click()
    # Wait for the answer (signed in, or refused) before anything reads the session cookie.
    driver.find_element(By.CSS_SELECTOR, "#compte, #erreur")


def card_value(driver: Any, server: str, key: str) -> str:
    from selenium.webdriver.common.by import By

    driver.get(server + "/tableau-de-bord")
    return str(driver.find_element(By.CSS_SELECTOR, f"#indicateur-{key} .value").text)


def session_cookie(driver: Any) -> str:
    found = driver.get_cookie("lake_session")
    assert found, "no session cookie after signing in"
    return str(found["value"])


def http(
    server: str, path: str, *, cookie: str | None = None, data: dict[str, str] | None = None
) -> tuple[int, str, dict[str, str]]:
    """One request outside the browser (status, body, headers), no redirect followed."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    body = urllib.parse.urlencode(data).encode() if data is not None else None
    request = urllib.request.Request(server + path, data=body)
    if cookie:
        request.add_header("Cookie", f"lake_session={cookie}")
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=120) as response:
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(), dict(exc.headers)


def test_wrong_password_is_refused(browser: Any, server: str) -> None:
    from selenium.webdriver.common.by import By

    sign_in(browser, server, "dfae.revue", "pas le bon mot de passe")
    assert browser.find_element(By.ID, "erreur").text == "Identifiant ou mot de passe incorrect."
    assert browser.current_url == server + "/connexion"
    assert not browser.find_elements(By.ID, "compte")  # not signed in
    status, _body, _ = http(server, "/")
    assert status == 303  # nobody signed in: the home page sends to the sign-in page
    status, _, _ = http(
        server, "/connexion", data={"login": "dfae.revue", "password": "x", "csrf": "forged"}
    )
    assert status == 403  # a sign-in form not issued by the server is refused too


def test_direction_signs_off_its_review_and_the_dashboard_counts_it(
    browser: Any, server: str
) -> None:
    from selenium.webdriver.common.by import By

    sign_in(browser, server, "dfae.revue")
    assert browser.find_element(By.ID, "compte").text == "dfae.revue"
    before = card_value(browser, server, "quality_reviews_held")
    assert before.startswith("0 revue"), before
    browser.get(server + "/qualite/")
    browser.find_element(By.LINK_TEXT, "Administration consulaire").click()
    assert browser.current_url.endswith("/qualite/administration-consulaire")
    form = browser.find_element(By.ID, "decision-1")
    form.find_element(By.CSS_SELECTOR, "input[value=accepted]").click()
    form.find_element(By.NAME, "comment").send_keys("Revue lue en comité : <b>d'accord</b>")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    history = browser.find_element(By.ID, "decisions-titre").find_element(By.XPATH, "..")
    assert "Revue lue en comité : <b>d'accord</b>" in history.text  # shown as text, escaped
    assert "revue validée par la direction" in history.text
    assert "dfae.revue (DFAE)" in history.text
    after = card_value(browser, server, "quality_reviews_held")
    assert after.startswith("1 revue"), after
    requests_made(browser)


def test_a_level_4_reader_cannot_open_a_level_1_table(
    browser: Any, server: str, lake: web_lake.WebLake
) -> None:
    from selenium.webdriver.common.by import By

    sign_in(browser, server, "lecteur4")
    cookie = session_cookie(browser)
    for path in ("/tables/silver/consular_register", "/qualite/administration-consulaire"):
        browser.get(server + path)
        assert browser.find_element(By.ID, "titre-erreur").text == "Accès refusé"
        assert web_lake.BIRTH_DATE not in browser.page_source
        status, body, _ = http(server, path, cookie=cookie)
        assert status == 403, (path, status)
        assert web_lake.BIRTH_DATE not in body and "INS-0001" not in body
    status, _, _ = http(server, "/tableau-de-bord", cookie=cookie)
    assert status == 403  # internal documents are for levels 1 and 2
    browser.get(server + "/tables/silver/travel_advice")  # a level-4 table is open to all
    rows = browser.find_elements(By.CSS_SELECTOR, "#lignes tbody tr")
    assert [r.text for r in rows] == ["ISL vert", "NOR rouge"]
    browser.get(server + "/catalogue")
    assert "consular_register" not in browser.page_source
    # The owning direction (level 1) sees the same table's values.
    sign_in(browser, server, "dfae.revue")
    browser.get(server + "/tables/silver/consular_register")
    assert web_lake.BIRTH_DATE in browser.find_element(By.ID, "lignes").text
    requests_made(browser)


def test_gx_data_docs_show_their_rows_with_the_network_off(browser: Any, server: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    sign_in(browser, server, "agent2")
    browser.get(server + "/gx/index.html")
    # GX's index lists the validations with bootstrap-table, from data in a script: rows exist
    # only if jQuery, Bootstrap and bootstrap-table loaded (from this server) and the script ran.
    rows = WebDriverWait(browser, 30).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "tr.clickable-row[data-href*='validations/']")
    )
    rows[0].click()  # GX's own script follows the row's link
    WebDriverWait(browser, 30).until(lambda d: "/gx/validations/" in d.current_url)
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".bootstrap-table"))
    cells = [c.text for c in browser.find_elements(By.CSS_SELECTOR, "table td")]
    assert any("vert" in c and "orange" in c for c in cells), cells[:20]
    urls = requests_made(browser)
    assert any("/gx/static/vendor/jquery@3.7.1/dist/jquery.min.js" in u for u in urls), urls
    severe = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not [e for e in severe if "Content Security Policy" in e["message"]], severe


def test_an_expired_session_is_refused(browser: Any, server: str, lake: web_lake.WebLake) -> None:
    import itsdangerous
    from selenium.webdriver.common.by import By

    from app.web.security import session_secret

    sign_in(browser, server, "dfae.revue")
    cookie = session_cookie(browser)
    status, _, _ = http(server, "/qualite/", cookie=cookie)
    assert status == 200
    # The same session signed 31 minutes ago (the idle timeout is 30): refused.
    payload = cookie.rsplit(".", 2)[0]

    class Earlier(itsdangerous.TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 31 * 60

    old = Earlier(session_secret(lake.settings)).sign(payload).decode()
    status, _, headers = http(server, "/qualite/", cookie=old)
    assert status == 303 and "expiree=1" in headers["location"], (status, headers)
    browser.delete_all_cookies()
    browser.get(server + "/connexion")
    browser.add_cookie({"name": "lake_session", "value": old, "path": "/"})
    browser.get(server + "/qualite/")
    assert browser.find_element(By.ID, "expiree").text.startswith("Votre session a expiré")
    requests_made(browser)


def test_a_forged_form_is_refused(browser: Any, server: str) -> None:
    from selenium.webdriver.common.by import By

    sign_in(browser, server, "dfae.revue")
    cookie = session_cookie(browser)
    browser.get(server + "/qualite/administration-consulaire")
    review = browser.find_element(By.CSS_SELECTOR, "#decision-1 input[name=review_id]")
    form = {
        "review_id": str(review.get_attribute("value")),
        "decision": "accepted",
        "comment": "forgé",
    }
    for token in ({}, {"csrf": "forged-token"}):
        status, body, _ = http(
            server,
            "/qualite/administration-consulaire/decision",
            cookie=cookie,
            data={**form, **token},
        )
        assert status == 403 and "Formulaire refusé" in body, status
    page = browser.page_source
    assert "forgé" not in page
    requests_made(browser)


def test_every_request_went_to_127_0_0_1_and_pages_carry_a_strict_csp(
    browser: Any, server: str
) -> None:
    requests_made(browser)
    assert REQUESTS, "no request recorded"
    hosts = {urllib.parse.urlsplit(u).hostname for u in REQUESTS if not u.startswith("data:")}
    assert hosts == {"127.0.0.1"}, sorted(u for u in REQUESTS if "127.0.0.1" not in u)
    sign_in(browser, server, "agent2")
    cookie = session_cookie(browser)
    for path, expected in (("/etude", 200), ("/cloud", 200), ("/catalogue", 200), ("/", 200)):
        status, body, _ = http(server, path, cookie=cookie)
        assert (path, status) == (path, expected), body[-2000:]
        assert "http://" not in body.split("<body", 1)[0].replace("http://www.w3.org", "")
    _, _, headers = http(server, "/", cookie=cookie)
    assert "script-src 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    _, _, headers = http(server, "/gx/index.html", cookie=cookie)
    assert "script-src 'self';" in headers["content-security-policy"]
    assert "'unsafe-inline'" not in headers["content-security-policy"].split("style-src")[0]
    set_cookie = http(server, "/connexion")[2].get("set-cookie", "")
    assert "httponly" in set_cookie.lower() and "samesite=strict" in set_cookie.lower()


def test_repeated_wrong_passwords_are_throttled(server: str) -> None:
    _status, body, headers = http(server, "/connexion")
    cookie = headers["set-cookie"].split("lake_session=", 1)[1].split(";", 1)[0]
    token = body.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    form = {"login": "inconnu", "password": "mauvais mot de passe", "csrf": token}
    statuses = [http(server, "/connexion", cookie=cookie, data=form)[0] for _ in range(6)]
    assert statuses == [401, 401, 401, 401, 401, 429]


def test_no_page_of_the_data_docs_site_loads_from_another_host(
    lake: web_lake.WebLake, server: str
) -> None:
    from quality.data_docs_offline import remote_assets
    from quality.validation import data_docs_index

    site = data_docs_index(lake.settings.reports.dir).parent
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))
    assert "index.html" in pages and any(p.startswith("validations/") for p in pages)
    assert remote_assets(site) == {}
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "<script>" not in text and " onclick=" not in text, page
