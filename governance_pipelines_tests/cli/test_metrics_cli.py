"""`governance metrics`: printed exposition, the /metrics server, lean start-up, clean errors."""

from __future__ import annotations

import queue
import re
import shutil
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from governance_pipelines.cli import main
from governance_pipelines.cli.metrics import make_server, metrics
from governance_pipelines.operations.metrics_export import (
    OPENMETRICS_CONTENT_TYPE,
    PROMETHEUS_CONTENT_TYPE,
)
from governance_pipelines.store import GovernanceStore
from governance_pipelines_tests.operations.test_metrics_collection import (
    DAY,
    MODEL,
    VERSION,
    Seeded,
    seed_store,
)

TIMEOUT = 20  # seconds; every wait below is bounded by it

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)')

Series = dict[tuple[str, frozenset], float]


def parse_exposition(text: str, *, openmetrics: bool) -> Series:
    """A strict hand parser: HELP then TYPE per family, contiguous samples, EOF rules."""
    assert text.endswith("\n")
    lines = text.splitlines()
    if openmetrics:
        assert lines[-1] == "# EOF"
        assert lines.count("# EOF") == 1
        lines = lines[:-1]
    else:
        assert "# EOF" not in lines
    types: dict[str, str] = {}
    family: str | None = None
    series: Series = {}
    for number, line in enumerate(lines):
        if line.startswith("# HELP "):
            name = line.split(" ")[2]
            assert lines[number + 1].startswith(f"# TYPE {name} "), line
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert name not in types, f"family {name} declared twice"
            assert kind in ("gauge", "counter")
            types[name], family = kind, name
            continue
        match = _SAMPLE.match(line)
        assert match, f"not a sample line: {line!r}"
        assert family is not None, f"sample before any # TYPE: {line!r}"
        name, raw_labels, raw_value = match.groups()
        expected = family + "_total" if openmetrics and types[family] == "counter" else family
        assert name == expected, f"{name} outside its family {family}"
        labels = _LABEL.findall(raw_labels or "")
        if raw_labels:
            assert ",".join(f'{k}="{v}"' for k, v in labels) == raw_labels
        key = (name, frozenset(labels))
        assert key not in series, f"duplicate series {line!r}"
        series[key] = float(raw_value)
    return series


def get(series: Series, name: str, **labels: object) -> float:
    return series[(name, frozenset((k, str(v)) for k, v in labels.items()))]


@pytest.fixture
def seeded_home(tmp_path: Path) -> tuple[Path, Seeded]:
    home = tmp_path / "home"
    store = GovernanceStore.open(None, home)
    try:
        return home, seed_store(store)
    finally:
        store.dispose()


def test_prints_openmetrics_with_the_monitor_figures(seeded_home) -> None:
    home, seed = seeded_home
    result = CliRunner().invoke(main, ["metrics", "--home", str(home)])
    assert result.exit_code == 0, result.output
    series = parse_exposition(result.output, openmetrics=True)
    day = DAY.isoformat()
    assert "# TYPE governance_check_passed gauge" in result.output
    assert "# TYPE governance_audit_events counter" in result.output
    assert (
        f'governance_check_passed{{check="sla_report_within_sla",model="{MODEL}",version=""}} 0.0'
        in result.output.splitlines()
    )
    assert get(series, "governance_drift_share", model=MODEL, version=VERSION) == pytest.approx(
        seed.drift.drift_share
    )
    income = next(c for c in seed.drift.columns if c.column == "income")
    assert get(
        series, "governance_feature_psi", model=MODEL, version=VERSION, feature="income"
    ) == pytest.approx(income.psi)
    assert get(series, "governance_sla_availability", model=MODEL, day=day) == pytest.approx(
        seed.sla.availability
    )
    assert get(
        series, "governance_sla_latency_ms", model=MODEL, day=day, quantile="0.95"
    ) == pytest.approx(seed.sla.p95_latency_ms)
    assert get(
        series,
        "governance_performance_value",
        model=MODEL,
        version=VERSION,
        day=day,
        metric="roc_auc",
    ) == pytest.approx(seed.performance.value)
    assert (
        get(series, "governance_ingestion_rejected_rows", model=MODEL, reason="unparsable_features")
        == 1
    )
    assert get(series, "governance_usage_requests", model=MODEL, consumer="risk", day=day) == 35
    assert get(series, "governance_audit_chain_valid") == 1
    assert get(series, "governance_audit_events_total") == 6
    assert get(series, "governance_alerts_pending") == 0


def test_prometheus_format_and_model_filter(seeded_home) -> None:
    home, _ = seeded_home
    store = GovernanceStore.open(None, home)
    store.register_model(name="fraud", team="t", owner="o", description="d", config={}, actor="t")
    store.dispose()
    args = ["--home", str(home), "--format", "prometheus", "--model", MODEL]
    result = CliRunner().invoke(metrics, args)
    assert result.exit_code == 0, result.output
    series = parse_exposition(result.output, openmetrics=False)
    assert "# TYPE governance_audit_events_total counter" in result.output
    assert get(series, "governance_audit_events_total") == 7
    assert {dict(labels).get("model") for _, labels in series} == {MODEL, None}
    fraud = CliRunner().invoke(metrics, ["--home", str(home), "--model", "fraud"])
    assert fraud.exit_code == 0, fraud.output
    assert "model=" not in fraud.output  # registered but never checked: no per-model series


def test_output_parses_with_prometheus_client(seeded_home) -> None:
    pytest.importorskip("prometheus_client")
    from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_om
    from prometheus_client.parser import text_string_to_metric_families as parse_prom

    home, _ = seeded_home
    for output_format, parse in (("openmetrics", parse_om), ("prometheus", parse_prom)):
        result = CliRunner().invoke(metrics, ["--home", str(home), "--format", output_format])
        assert result.exit_code == 0, result.output
        names = {family.name for family in parse(result.output)}
        assert {"governance_check_passed", "governance_drift_share"} <= names


def test_unknown_model_names_the_known_ones(seeded_home) -> None:
    home, _ = seeded_home
    for extra in ([], ["--serve", "--port", "0"]):
        result = CliRunner().invoke(metrics, ["--home", str(home), "--model", "nope", *extra])
        assert result.exit_code == 1
        assert "unknown model(s) 'nope'; the store knows credit" in result.output
        assert "Traceback" not in result.output


def test_unreachable_database_is_a_clean_error() -> None:
    url = "postgresql+psycopg2://nobody@127.0.0.1:1/none"
    result = CliRunner().invoke(metrics, ["--database-url", url])
    assert result.exit_code == 1
    assert "cannot connect to the governance store" in result.output
    assert "Traceback" not in result.output


def test_port_in_use_is_a_clean_error(seeded_home) -> None:
    home, _ = seeded_home
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(metrics, ["--home", str(home), "--serve", "--port", str(port)])
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.output


def test_help_documents_scraping_without_heavy_imports() -> None:
    code = (
        "import sys\n"
        "from governance_pipelines.cli import main\n"
        "try:\n    main(['metrics', '--help'])\nexcept SystemExit:\n    pass\n"
        "assert 'dagster' not in sys.modules, 'dagster imported'\n"
        "assert 'pandas' not in sys.modules, 'pandas imported'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    for text in ("scrape_configs:", '- targets: ["127.0.0.1:9464"]', "openmetrics_endpoint:"):
        assert text in result.stdout


def _fetch(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read().decode()


def test_server_answers_metrics_404_and_500() -> None:
    pages = iter(["# EOF\n"])

    def render() -> str:
        page = next(pages, None)
        if page is None:
            raise RuntimeError("database went away")
        return page

    server = make_server("127.0.0.1", 0, render, OPENMETRICS_CONTENT_TYPE)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        assert _fetch(base + "/metrics") == (200, OPENMETRICS_CONTENT_TYPE, "# EOF\n")
        status, _, body = _fetch(base + "/nope")
        assert status == 404
        assert "/metrics" in body
        status, _, body = _fetch(base + "/metrics")
        assert status == 500
        assert "database went away" in body
        assert _fetch(base + "/metrics?x=1")[0] == 500  # still serving after a failure
    finally:
        server.shutdown()
        server.server_close()
        thread.join(TIMEOUT)
    assert not thread.is_alive()


def test_serve_subprocess_collects_fresh_figures_per_scrape(seeded_home) -> None:
    home, _ = seeded_home
    exe = shutil.which("governance") or str(Path(sys.executable).parent / "governance")
    args = [exe, "metrics", "--serve", "--port", "0", "--home", str(home), "--format", "prometheus"]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(process.stdout.readline()), daemon=True).start()
    try:
        try:
            banner = lines.get(timeout=TIMEOUT)
        except queue.Empty:
            pytest.fail("the server did not announce its address")
        match = re.search(r"http://127\.0\.0\.1:(\d+)/metrics", banner)
        assert match, (banner, process.stderr.read() if process.poll() is not None else "")
        url = match.group(0)
        status, content_type, body = _fetch(url)
        assert (status, content_type) == (200, PROMETHEUS_CONTENT_TYPE)
        series = parse_exposition(body, openmetrics=False)
        assert get(series, "governance_audit_chain_valid") == 1
        assert not [key for key in series if dict(key[1]).get("check") == "scrape_probe"]

        store = GovernanceStore.open(None, home)
        store.record_check_result(
            model_name=MODEL,
            check_name="scrape_probe",
            passed=False,
            severity="WARN",
            summary="added after the server started",
            evidence={},
            actor="test",
        )
        store.dispose()
        series = parse_exposition(_fetch(url)[2], openmetrics=False)
        labels = {"model": MODEL, "check": "scrape_probe", "version": ""}
        assert get(series, "governance_check_passed", **labels) == 0
        assert get(series, "governance_audit_events_total") == 7
        assert _fetch(url.replace("/metrics", "/"))[0] == 404
    finally:
        process.terminate()
        try:
            process.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=TIMEOUT)
        process.stdout.close()
        process.stderr.close()
