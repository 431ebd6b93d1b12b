"""The page in Chromium against the live server: a page opened on the first analysis, failing the
test on any console error it did not allow."""
from __future__ import annotations

import pytest

from support.page import DESKTOP, open_page


@pytest.fixture()
def page_and_errors(browser, live_server):
    context, page, errors = open_page(browser, live_server, DESKTOP)
    yield page, errors
    unexpected = errors.unexpected()
    context.close()
    assert not unexpected, f"console errors: {unexpected}"


@pytest.fixture()
def page(page_and_errors):
    return page_and_errors[0]


@pytest.fixture(scope="module")
def scripts_page(browser, live_server):
    """One Flask page for a module whose tests call the page's scripts and change nothing it
    shows; the module fails on any console error."""
    context, page, errors = open_page(browser, live_server, DESKTOP)
    yield page
    unexpected = errors.unexpected()
    context.close()
    assert not unexpected, f"console errors: {unexpected}"
