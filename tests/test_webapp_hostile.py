"""The web app under hostile and careless clients: other sites' pages, rebound DNS names,
floods, clients that leave, half-sent requests and a busy port."""

import os
import socket
import subprocess
import sys
import threading
import time

import pytest
from helpers import ROOT, serve_in_thread

pytest.importorskip("fastapi")
requests = pytest.importorskip("requests")

from groove_vae.webapp import app as webapp  # noqa: E402
from groove_vae.webapp import server  # noqa: E402

SAMPLE = {"seed": 1, "temperature": 0.5}


@pytest.fixture(scope="module")
def vae(vae):
    """conftest's tiny model, traced for the app."""
    webapp.warm_up(vae)
    return vae


class BlockingVAE:
    """The model, with its decoding verbs held until `release` is set (to fill the queue)."""

    def __init__(self, vae):
        self._vae, self.release, self.entered, self.decodes = vae, threading.Event(), threading.Event(), 0

    def __getattr__(self, name):
        return getattr(self._vae, name)

    def _held(self, verb, *args, **kwargs):
        self.decodes += 1
        self.entered.set()
        assert self.release.wait(30), "the test never released the model"
        return verb(*args, **kwargs)

    def decode_tensors(self, *args, **kwargs):
        return self._held(self._vae.decode_tensors, *args, **kwargs)

    def decode_phrases(self, *args, **kwargs):
        return self._held(self._vae.decode_phrases, *args, **kwargs)


def wait_until(condition, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


def test_another_sites_page_and_a_rebound_host_are_refused(vae):
    with serve_in_thread(webapp.create_app(vae)) as base:
        port = base.rsplit(":", 1)[1]
        foreign = requests.post(base + "/api/sample", json=SAMPLE, headers={"Origin": "http://evil.example"}, timeout=30)
        sandboxed = requests.post(base + "/api/sample", json=SAMPLE, headers={"Origin": "null"}, timeout=30)
        # A "simple" cross-origin request: a form post with no preflight.
        upload = requests.post(base + "/api/upload", files={"file": ("b.mid", b"MThd")},
                               headers={"Origin": "http://evil.example"}, timeout=30)
        rebound = requests.get(base + "/api/info", headers={"Host": f"evil.example:{port}"}, timeout=30)
        own = requests.post(base + "/api/sample", json=SAMPLE, headers={"Origin": base}, timeout=30)
        by_name = requests.get(f"http://localhost:{port}/api/info", timeout=30)
        scripted = requests.post(base + "/api/sample", json=SAMPLE, timeout=30)  # No Origin: curl, scripts.
    for response in (foreign, sandboxed, upload, rebound):
        assert response.status_code == 403, response.text
    assert "only this app's own page" in foreign.json()["error"]
    assert "evil.example" in rebound.json()["error"]
    assert own.status_code == by_name.status_code == scripted.status_code == 200


def test_a_server_for_other_machines_answers_any_host_but_not_other_sites(vae):
    with serve_in_thread(webapp.create_app(vae, allowed_hosts=None)) as base:
        by_ip = requests.get(base + "/api/info", headers={"Host": "192.168.1.20:8000"}, timeout=30)
        foreign = requests.post(base + "/api/sample", json=SAMPLE, headers={"Origin": "http://evil.example"}, timeout=30)
    assert by_ip.status_code == 200 and foreign.status_code == 403


def test_the_api_docs_page_loads_nothing_from_the_internet(vae):
    with serve_in_thread(webapp.create_app(vae)) as base:
        page = requests.get(base + "/api/docs", timeout=30)
        script = requests.get(base + "/static/api.js", timeout=30)
        schema = requests.get(base + "/api/openapi.json", timeout=30)
    assert page.status_code == script.status_code == schema.status_code == 200
    assert "/static/api.js" in page.text and "/api/sample" in schema.json()["paths"]
    for text in (page.text, script.text):
        assert "http://" not in text and "https://" not in text and "//cdn" not in text


def test_a_full_queue_answers_503_at_once_and_cheap_routes_never_wait(vae):
    blocking = BlockingVAE(vae)
    app = webapp.create_app(blocking, queue_depth=1)
    results = {}

    def call(name):
        results[name] = requests.post(base + "/api/sample", json=SAMPLE, timeout=60)

    with serve_in_thread(app) as base:
        threads = [threading.Thread(target=call, args=("running",))]
        threads[0].start()
        assert blocking.entered.wait(30)
        threads.append(threading.Thread(target=call, args=("waiting",)))
        threads[1].start()
        wait_until(lambda: app.state.queue.pending == 2)
        start = time.monotonic()
        full = requests.post(base + "/api/sample", json=SAMPLE, timeout=10)
        info = requests.get(base + "/api/info", timeout=10)
        static = requests.get(base + "/static/app.js", timeout=10)
        page = requests.get(base + "/", timeout=10)
        quick = time.monotonic() - start
        blocking.release.set()
        for thread in threads:
            thread.join(60)
    assert full.status_code == 503 and full.headers["Retry-After"] == "1" and "busy" in full.json()["error"]
    assert info.status_code == static.status_code == page.status_code == 200
    assert quick < 5, f"cheap routes took {quick:.1f} s behind a busy model"
    assert results["running"].status_code == results["waiting"].status_code == 200
    assert app.state.queue.refused == 1 and app.state.queue.pending == 0


def test_work_for_a_client_that_went_away_is_dropped(vae):
    blocking = BlockingVAE(vae)
    app = webapp.create_app(blocking)
    body = b'{"seed": 2}'
    with serve_in_thread(app) as base:
        port = int(base.rsplit(":", 1)[1])
        first = threading.Thread(target=requests.post, args=(base + "/api/sample",), kwargs={"json": SAMPLE})
        first.start()
        assert blocking.entered.wait(30)
        with socket.create_connection(("127.0.0.1", port)) as gone:
            gone.sendall(b"POST /api/sample HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                         b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
            wait_until(lambda: app.state.queue.pending == 2)
        blocking.release.set()
        first.join(60)
        wait_until(lambda: app.state.queue.pending == 0)
    assert app.state.queue.dropped == 1
    assert blocking.decodes == 1  # Only the first request ran the model.


def read_response(sock) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data or len(data.split(b"\r\n\r\n", 1)[1]) < int(
            data.lower().split(b"content-length: ", 1)[1].split(b"\r\n", 1)[0]):
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def raw_connection(base):
    sock = socket.create_connection(("127.0.0.1", int(base.rsplit(":", 1)[1])))
    sock.settimeout(10)
    return sock


def test_half_sent_requests_and_idle_connections_time_out(vae):
    app = webapp.create_app(vae, body_timeout_s=0.5)
    with serve_in_thread(app, http=server.head_timeout_protocol(0.5), timeout_keep_alive=1) as base:
        with raw_connection(base) as half_body:
            half_body.sendall(b"POST /api/sample HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                              b"Content-Length: 100\r\n\r\n{\"seed\"")
            answer = read_response(half_body)
        with raw_connection(base) as half_head:
            half_head.sendall(b"GET /api/info HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            start = time.monotonic()
            closed = half_head.recv(4096)
            head_seconds = time.monotonic() - start
        with raw_connection(base) as idle:
            start = time.monotonic()
            idle_closed = idle.recv(4096)
            idle_seconds = time.monotonic() - start
        after = requests.get(base + "/api/info", timeout=10)
    assert answer.startswith(b"HTTP/1.1 408") and b"not sent within 0.5 s" in answer
    assert closed == b"" and head_seconds < 5
    assert idle_closed == b"" and idle_seconds < 5
    assert after.status_code == 200


def test_a_busy_port_is_said_before_the_models_load_and_without_the_banner(monkeypatch, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        monkeypatch.setattr(server, "load_models", lambda *args: pytest.fail("loaded models for a busy port"))
        with pytest.raises(OSError, match=f"Port {port} on 127.0.0.1 is in use.*--port"):
            server.serve(port=port)
    assert "web app: http" not in capsys.readouterr().out


@pytest.mark.parametrize("value", ["inf", "nan", "0", "-1", "1e6"])
def test_max_upload_mb_must_be_a_sane_size(value):
    from absl import app

    with pytest.raises(app.UsageError, match="--max_upload_mb must be above 0 and at most 100"):
        server.check_flags(8000, float(value))
    server.check_flags(8000, 100.0)  # The cap itself is allowed.


def test_a_bad_max_upload_mb_stops_the_command_before_it_serves():
    run = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "serve.py"), "--max_upload_mb=0"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode != 0 and "--max_upload_mb must be above 0 and at most 100" in run.stderr
    assert "web app: http" not in run.stdout


def test_a_loopback_server_refuses_rebound_hosts_whatever_address_it_binds(vae):
    hosts = server.allowed_hosts("127.0.0.2")
    assert server.allowed_hosts("0.0.0.0") is None and server.allowed_hosts("localhost") == webapp.LOCAL_HOSTS
    with serve_in_thread(webapp.create_app(vae, allowed_hosts=hosts)) as base:
        port = base.rsplit(":", 1)[1]
        rebound = requests.get(base + "/api/info", headers={"Host": f"evil.example:{port}"}, timeout=30)
        other_loopback = requests.get(base + "/api/info", headers={"Host": f"127.0.0.3:{port}"}, timeout=30)
        own = requests.get(base + "/api/info", headers={"Host": f"127.0.0.2:{port}"}, timeout=30)
    assert rebound.status_code == other_loopback.status_code == 403  # Once answered with --host=127.0.0.2.
    assert own.status_code == 200


def test_a_body_trickled_a_byte_at_a_time_meets_one_deadline(vae):
    app = webapp.create_app(vae, body_timeout_s=0.5)
    with serve_in_thread(app) as base, raw_connection(base) as trickle:
        trickle.sendall(b"POST /api/sample HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                        b"Content-Length: 100\r\n\r\n")
        start, answer = time.monotonic(), b""
        trickle.settimeout(0.1)
        while not answer and time.monotonic() - start < 15:
            try:
                trickle.sendall(b" ")  # Each byte well within 0.5 s of the last: once never answered 408.
                answer = trickle.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                break
        seconds = time.monotonic() - start
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert seconds < 3, f"408 after {seconds:.1f} s"


def fake_kit():
    """Tiny one-shots in place of FluidSynth's, so /api/wav renders on any machine."""
    import io
    import wave

    from groove_vae.drums import DRUM_CLASS_NAMES

    shots = {}
    for name in DRUM_CLASS_NAMES:
        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as f:
            f.setnchannels(1), f.setsampwidth(2), f.setframerate(44100)
            f.writeframes(bytes(200))
        shots[name] = buffer.getvalue()
    return shots


def test_wav_renders_through_the_queue_and_refuses_hours_of_audio(vae, monkeypatch):
    from groove_vae import render

    monkeypatch.setattr(render, "render_one_shots", fake_kit)
    dense = {"qpm": 20, "steps": 256, "notes": [{"step": s, "drum": d} for s in range(256) for d in range(9)]}
    blocking = BlockingVAE(vae)
    app = webapp.create_app(blocking, queue_depth=0)
    with serve_in_thread(app) as base:
        too_long = requests.post(base + "/api/wav", json=dense, timeout=30)
        ok = requests.post(base + "/api/wav", json={**dense, "qpm": 120}, timeout=30)
        holder = threading.Thread(target=requests.post, args=(base + "/api/sample",), kwargs={"json": SAMPLE})
        holder.start()
        assert blocking.entered.wait(30)
        full = requests.post(base + "/api/wav", json={**dense, "qpm": 120}, timeout=30)
        blocking.release.set()
        holder.join(60)
    assert too_long.status_code == 422, too_long.text  # Once 192 s of audio (34 MB), and 500s under a flood.
    assert "would be 192 s long" in too_long.json()["error"] and "at most 120 s" in too_long.json()["error"]
    assert ok.status_code == 200 and ok.headers["content-type"] == "audio/wav"
    assert full.status_code == 503 and full.headers["Retry-After"] == "1"  # Once rendered beside the model.
