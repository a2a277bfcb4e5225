"""A department file imported from the page in a real browser, ending in
linked golden people with provenance, an error file for the bad rows, and the
quality chart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from wangge.testing import city

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]


@pytest.fixture
def clerk(small_city: None, settings: Any) -> Any:
    from wangge.accounts.services import create_user

    # The import runs as a task; here it runs at once instead of in a worker.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    return create_user("clerk", "pass-clerk", role="district_staff", area_code=city.DISTRICT)


def test_import_from_the_page_links_people_and_offers_the_error_file(
        clerk: Any, sources: Any, police_file: Any, health_file: Any, page: Any, login: Any,
        screenshot: Any) -> None:
    login("clerk")
    for source, path in (("police", police_file), ("health", health_file)):
        page.goto("/fusion/imports/")
        page.select_option("select[name=source]", str(sources[source].pk))
        page.set_input_files("input[name=file]", str(path))
        with page.expect_navigation():
            page.click("#import-form button[type=submit]")
        page.wait_for_selector("#batch-status[data-status=done]")
    screenshot("import-batch")
    assert "入库 2 行" in page.inner_text("#batch-counts")

    page.goto("/fusion/imports/")
    page.locator("table.data tbody a").last.click()  # newest first: the police batch is last
    page.wait_for_selector("#batch-status[data-status=done]")
    assert "错误 2 行" in page.inner_text("#batch-counts")
    assert "校验位错误" in page.inner_text("#batch-errors")
    with page.expect_download() as download:
        page.click("#error-file")
    body = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert body.startswith("行号,错误原因") and "GA-4" in body

    page.goto("/people/?q=王伟")
    page.click("#people-table a")
    provenance = page.inner_text("#provenance")
    assert "公安户籍" in provenance and "卫健" in provenance
    screenshot("person-provenance")

    page.goto("/fusion/quality/")
    page.wait_for_selector("#quality-chart canvas")
    assert "3" in page.inner_text("#quality-summary")
