"""Scale-out: nginx in front of two servers survives one dying; the Kubernetes manifests are valid.

The cluster test starts the real thing on loopback ports (bench/cluster.py: two copies of the
Dockerfile's CMD, nginx with deploy/nginx.conf), drives six seconds of load through nginx and
crashes one server (SIGKILL) mid-run. The manifests are checked against Kubernetes' own schemas,
bundled in the kubernetes-validate package (no download at run time), in strict mode.
"""
from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal

import pytest
import yaml

from app.http.endpoints import costly_paths
from bench import _common as common
from bench import cluster
from support.digits import PROJECT_ROOT
from support.tools import program

K8S = PROJECT_ROOT / "deploy" / "k8s"
KUBERNETES_VERSION = "1.34"


def documents() -> list[dict]:
    return [doc for path in sorted(K8S.glob("*.yaml")) for doc in yaml.safe_load_all(path.read_text()) if doc]


def manifests() -> dict[str, dict]:
    """One of each kind but the Ingress (two: one rate-limited)."""
    return {doc["kind"]: doc for doc in documents() if doc["kind"] != "Ingress"}


def ingresses() -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc for doc in documents() if doc["kind"] == "Ingress"}


# ---------------------------------------------------------------- Kubernetes

def test_manifests_are_valid_kubernetes_objects():
    import kubernetes_validate

    found = manifests()
    assert set(found) == {"Deployment", "Service", "HorizontalPodAutoscaler"}
    for document in documents():
        assert kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True), document["kind"]
    # the validator does reject what Kubernetes would: a misspelt field, a string for a number
    misspelt = json.loads(json.dumps(found["Deployment"]))
    misspelt["spec"]["replica"] = misspelt["spec"].pop("replicas")
    wrong_type = json.loads(json.dumps(found["Service"]))
    wrong_type["spec"]["ports"][0]["port"] = "eighty"
    for broken in (misspelt, wrong_type):
        with pytest.raises(kubernetes_validate.ValidationError):
            kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_manifests_fit_together_and_probe_the_server():
    found = manifests()
    deployment, service, autoscaler = found["Deployment"], found["Service"], found["HorizontalPodAutoscaler"]
    pod = deployment["spec"]["template"]
    labels = pod["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert service["spec"]["selector"].items() <= labels.items()
    target = autoscaler["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])
    assert autoscaler["spec"]["minReplicas"] >= 2  # one pod may die while another answers

    (container,) = pod["spec"]["containers"]
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    exposed = [line.split()[1] for line in (PROJECT_ROOT / "Dockerfile").read_text().splitlines()
               if line.startswith("EXPOSE")]
    assert ports["http"] == int(exposed[0])
    assert service["spec"]["ports"][0]["targetPort"] in ("http", ports["http"])
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    # the slow model load is the startup probe's to wait for, not the liveness probe's
    startup = container["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 120  # gunicorn.conf.py's timeout

    memory = {kind: quantity(container["resources"][kind]["memory"]) for kind in ("requests", "limits")}
    cpu = {kind: float(container["resources"][kind]["cpu"]) for kind in ("requests", "limits")}
    assert memory["requests"] <= memory["limits"] and cpu["requests"] <= cpu["limits"]
    env = {item["name"]: item["value"] for item in container["env"]}
    # one worker a pod, its TensorFlow threads within the pod's CPU limit
    assert env["GUNICORN_WORKERS"] == "1" and int(env["TF_NUM_INTRAOP_THREADS"]) <= cpu["limits"]
    assert env.get("KERAS_BACKEND", "tensorflow") == "tensorflow"
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True


def quantity(text: str) -> int:
    """A Kubernetes memory quantity in bytes (the suffixes these manifests use)."""
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "K": 10**3, "M": 10**6, "G": 10**9}
    for suffix, factor in units.items():
        if text.endswith(suffix):
            return int(float(text[:-len(suffix)]) * factor)
    return int(text)


# ---------------------------------------------------------------- per-client rate limits

NGINX_CONF = PROJECT_ROOT / "deploy" / "nginx.conf"


def nginx_limits() -> tuple[list[str], float, int]:
    """The costly paths deploy/nginx.conf rate-limits, its rate per second and its burst."""
    text = NGINX_CONF.read_text()
    names = re.search(r"location ~ \^/api/\(([^)]*)\)\$ \{\s*limit_req zone=costly burst=(\d+) nodelay;", text)
    rate = re.search(r"limit_req_zone \$binary_remote_addr zone=costly:\S+ rate=(\d+)r/s;", text)
    return [f"/api/{name}" for name in names.group(1).split("|")], float(rate.group(1)), int(names.group(2))


def test_nginx_and_the_ingress_limit_exactly_the_costly_endpoints_alike():
    paths, rate, burst = nginx_limits()
    assert sorted(paths) == sorted(costly_paths())
    found = ingresses()
    limited, = [ingress for ingress in found.values()
                if "nginx.ingress.kubernetes.io/limit-rps" in ingress["metadata"].get("annotations", {})]
    notes = limited["metadata"]["annotations"]
    assert float(notes["nginx.ingress.kubernetes.io/limit-rps"]) == rate
    assert float(notes["nginx.ingress.kubernetes.io/limit-burst-multiplier"]) * rate == burst
    rules = [path for rule in limited["spec"]["rules"] for path in rule["http"]["paths"]]
    assert sorted(path["path"] for path in rules) == sorted(costly_paths())
    assert {path["pathType"] for path in rules} == {"Exact"}
    service = manifests()["Service"]["metadata"]["name"]
    for ingress in found.values():  # both send to the Service, the other one everything else
        for rule in ingress["spec"]["rules"]:
            assert {p["backend"]["service"]["name"] for p in rule["http"]["paths"]} == {service}
    everything, = [i for i in found.values() if i is not limited]
    assert [p["path"] for r in everything["spec"]["rules"] for p in r["http"]["paths"]] == ["/"]


@pytest.mark.parametrize("ci, outcome", [("true", pytest.fail.Exception), ("", pytest.skip.Exception)])
def test_a_missing_tool_is_skipped_but_fails_under_ci(monkeypatch, ci, outcome):
    """How the `nginx` fixture (and Chromium's, wrk's) looks for its program: where it is missing
    the test is skipped, except under CI (CI=true), where it fails saying what to install."""
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match=r"no-such-tool is not installed.*apt-get install no-such-tool"):
        program("no-such-tool", "/nonexistent/no-such-tool", install="apt-get install no-such-tool")
    assert program("sh", install="apt-get install dash") == shutil.which("sh")
    assert program("no-such-tool", "/bin/sh", install="-") == "/bin/sh"  # a fallback where it exists


def post(port: int, path: str, body: bytes) -> tuple[int, dict, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("POST", path, body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), json.loads(response.read())
    finally:
        connection.close()


@pytest.mark.slow
def test_nginx_refuses_a_clients_costly_requests_past_the_limit_with_a_json_429(nginx, live_server, tmp_path):
    """deploy/nginx.conf in front of the app: a burst of costly requests from one address is cut
    off at the configured burst; the cheap endpoints are not limited."""
    _, _, burst = nginx_limits()
    port = common.free_port()
    conf = tmp_path / "nginx.conf"
    conf.write_text(cluster.render_nginx_conf(port, [int(live_server.rsplit(":", 1)[1])], tmp_path))
    nginx = cluster.start_nginx(conf, tmp_path)
    try:
        cluster.wait_for_port(port)
        # An empty body: the app refuses it in a millisecond (422), so the burst outruns the refill.
        costly = [post(port, "/api/votes", b"{}") for _ in range(2 * burst)]
        cheap = [post(port, "/api/digit-caps", b"{}") for _ in range(2 * burst)]
    finally:
        cluster.stop(nginx)
    statuses = [status for status, _, _ in costly]
    assert statuses[:burst + 1] == [422] * (burst + 1), statuses  # the request, then its burst
    assert statuses.count(429) >= burst - 2 and set(statuses) == {422, 429}, statuses
    _, headers, body = next(answer for answer in costly if answer[0] == 429)
    assert headers["Retry-After"] == "1" and body["error"].startswith("Too many costly requests")
    assert {status for status, _, _ in cheap} == {422}


# ---------------------------------------------------------------- nginx and two servers

def test_nginx_conf_is_rewritten_only_where_the_harness_says(tmp_path):
    shipped = (PROJECT_ROOT / "deploy" / "nginx.conf").read_text()
    rendered = cluster.render_nginx_conf(18080, [18001, 18002, 18003], tmp_path)
    assert rendered.count("server 127.0.0.1:180") == 3 and "listen 127.0.0.1:18080;" in rendered
    # every other directive, the retry policy included, is the shipped file's
    for line in shipped.splitlines():
        if not any(word in line for word in ("server 127.0.0.1:", "listen ", "pid ", "error_log ", "access_log ")):
            assert line in rendered.splitlines()
    assert "proxy_next_upstream error timeout http_502 http_503 http_504 non_idempotent;" in shipped


@pytest.mark.slow
def test_two_servers_behind_nginx_survive_one_crashing(nginx, tmp_path):
    result = cluster.run_cluster(duration=6.0, kill_after=2.5, clients=6, kill_signal=signal.SIGKILL,
                                 workdir=tmp_path)
    summary = {k: v for k, v in result.items() if k != "errors"}
    assert result["victim_exit"] == -signal.SIGKILL, summary
    assert result["served_before_kill"] > 0 and result["requests"] > result["served_before_kill"], summary
    killed, = [address for address in result["answered_by"] if address == result["killed"]]
    survivor, = [address for address in result["answered_by"] if address != killed]
    assert result["answered_by"][killed] > 0 and result["answered_by"][survivor] > 0, summary
    # Whatever the crashed server had not begun to answer, nginx retried on the other one. Only
    # an answer already under way when the process died can be lost (nginx had passed its status
    # line on): so failures, if any, are requests in flight at the crash, never one sent after it.
    assert result["failed"] <= result["in_flight_at_kill"], result
    for error in result["errors"]:
        assert error["start_s"] < result["kill_after_s"] < error["end_s"] + 0.5, result
    # and nothing it started is left running: no process in any of their process groups
    for group in result["process_groups"]:
        with pytest.raises(ProcessLookupError):
            os.killpg(group, 0)
