"""The workforce API over real HTTP requests: who may call what, and what a
phone's offline queue sends."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from django.utils import timezone

from wangge.core.coords import wgs84_to_gcj02
from wangge.testing import city
from wangge.workforce import services
from wangge.workforce.models import Task
from wangge.workforce.tests.conftest import spec

API = "/api/v1/workforce"


def _post(client: Any, url: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json", **headers)


@pytest.mark.parametrize("method,url", [
    ("get", "/tasks"), ("post", "/patrols"), ("get", "/live"), ("get", "/scores"), ("post", "/visits"),
    ("get", "/households"), ("post", "/tasks/reassign"),
])
def test_anonymous_callers_are_refused(api_client: Any, small_city: None, method: str, url: str) -> None:
    r = getattr(api_client, method)(API + url, content_type="application/json")
    assert r.status_code == 401


def test_an_offline_queue_resent_lands_each_fix_once(api_client: Any, worker: Any, auth_header: Any) -> None:
    h = auth_header(worker.user)
    now = timezone.now()
    r = _post(api_client, f"{API}/patrols", {"client_id": "abc", "at": (now - timedelta(minutes=10)).isoformat()}, h)
    assert r.status_code == 201
    patrol = r.json()["id"]
    assert _post(api_client, f"{API}/patrols", {"client_id": "abc"}, h).json()["id"] == patrol
    lon, lat = wgs84_to_gcj02(np.full(20, city.POINT_A[0]) + np.arange(20) * 1e-4, np.full(20, city.POINT_A[1]))
    body = {"crs": "gcj02", "points": [
        {"at": (now - timedelta(minutes=5) + timedelta(seconds=5 * i)).isoformat(), "lon": float(x), "lat": float(y)}
        for i, (x, y) in enumerate(zip(lon, lat, strict=True))]}
    first = _post(api_client, f"{API}/patrols/{patrol}/points", body, h).json()
    again = _post(api_client, f"{API}/patrols/{patrol}/points", body, h).json()
    assert (first["accepted"], first["duplicates"]) == (20, 0)
    assert (again["accepted"], again["duplicates"]) == (0, 20)
    assert again["patrol"]["points"] == 20
    stopped = _post(api_client, f"{API}/patrols/{patrol}/stop", {}, h).json()
    assert stopped["status"] == "ended" and stopped["distance_m"] > 100


def test_a_malformed_fix_is_a_field_error(api_client: Any, worker: Any, auth_header: Any) -> None:
    h = auth_header(worker.user)
    patrol = _post(api_client, f"{API}/patrols", {}, h).json()["id"]
    r = _post(api_client, f"{API}/patrols/{patrol}/points", {"points": [{"at": "yesterday", "lon": 1}]}, h)
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_input"


def test_a_worker_lists_only_their_own_tasks(api_client: Any, worker: Any, worker_c: Any,
                                              auth_header: Any) -> None:
    services.raise_tasks([spec(city.GRID_A, "a"), spec(city.GRID_C, "c")])
    rows = api_client.get(f"{API}/tasks", **auth_header(worker.user)).json()["items"]
    assert [r["subject_id"] for r in rows] == ["a"]
    assert "年满 60 周岁" in rows[0]["reason"]
    other = Task.objects.get(subject_id="c")
    r = api_client.get(f"{API}/tasks/{other.pk}", **auth_header(worker.user))
    missing = api_client.get(f"{API}/tasks/999999", **auth_header(worker.user))
    assert r.status_code == missing.status_code == 404
    assert r.json()["message"].replace(str(other.pk), "N") == missing.json()["message"].replace("999999", "N")


def test_completing_a_task_over_http(api_client: Any, worker: Any, auth_header: Any) -> None:
    services.raise_tasks([spec(city.GRID_A, "a")])
    task = Task.objects.get()
    r = _post(api_client, f"{API}/tasks/{task.pk}/complete", {"result": "已上门，老人已申请优待证"},
              auth_header(worker.user))
    assert r.status_code == 200 and r.json()["status"] == "done"


def test_a_visit_outside_the_workers_grids_is_refused_over_http(api_client: Any, worker: Any,
                                                                  auth_header: Any) -> None:
    from wangge.workforce.tests.conftest import make_household

    other = make_household(city.GRID_C)
    r = _post(api_client, f"{API}/visits", {"household_id": other.pk, "outcome": "met"}, auth_header(worker.user))
    assert r.status_code == 404
    assert "不在您负责的网格内" in r.json()["message"]


def test_live_positions_and_tracks_follow_scope(api_client: Any, worker: Any, worker_c: Any, viewer: Any,
                                                 street_admin: Any, auth_header: Any) -> None:
    now = timezone.now()
    for w, point in ((worker, city.POINT_A), (worker_c, city.POINT_C)):
        p = services.start_patrol(by=w.user, at=now - timedelta(minutes=3))
        services.add_points(by=w.user, patrol_id=p.pk, points=[services.PointIn(now - timedelta(minutes=1), *point)])
    everyone = api_client.get(f"{API}/live", **auth_header(viewer)).json()
    west = api_client.get(f"{API}/live", **auth_header(street_admin)).json()
    assert {p["worker_id"] for p in everyone} == {worker.pk, worker_c.pk}
    assert [p["worker_id"] for p in west] == [worker.pk]
    track = api_client.get(f"{API}/workers/{worker.pk}/track", **auth_header(viewer)).json()
    assert track["features"][0]["geometry"]["coordinates"] == [[city.POINT_A[0], city.POINT_A[1]]]
    assert api_client.get(f"{API}/workers/{worker_c.pk}/track", **auth_header(street_admin)).status_code == 404


def test_scores_are_for_overseers_and_export_as_xlsx(api_client: Any, worker: Any, street_admin: Any,
                                                    auth_header: Any) -> None:
    import io

    from openpyxl import load_workbook

    month = timezone.localdate().strftime("%Y-%m")
    assert _post(api_client, f"{API}/scores/compute?month={month}", {}, auth_header(street_admin)).json() == {
        "workers": 1}
    rows = api_client.get(f"{API}/scores?month={month}", **auth_header(street_admin)).json()
    assert [(r["worker_id"], r["rank"], r["of"]) for r in rows] == [(worker.pk, 1, 1)]
    assert api_client.get(f"{API}/scores", **auth_header(worker.user)).status_code == 403
    bad = api_client.get(f"{API}/scores?month=2026/11", **auth_header(street_admin))
    assert bad.status_code == 422 and "YYYY-MM" in bad.json()["message"]
    xlsx = api_client.get(f"{API}/scores.xlsx?month={month}", **auth_header(street_admin))
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None and sheet.cell(row=3, column=3).value == str(worker.user)
