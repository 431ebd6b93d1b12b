"""The static edition opened once per module in Chromium (the site itself: tests/conftest.py's
`static_site`), recording every request the page makes."""
from __future__ import annotations

import pytest

from support.page import DESKTOP, open_page


@pytest.fixture(scope="module")
def site(browser, static_site):
    context, page, errors = open_page(browser, static_site, DESKTOP)
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    yield page, requests
    context.close()
    assert not errors.unexpected(), errors.unexpected()
