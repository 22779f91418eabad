"""Starting the server: the port in use, the host warning, the command line, and a slow
request that must not hold up the other pages. Servers listen on 127.0.0.1 only."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading

import httpx
import pytest

import integrad
from integrad.cli.main import main
from integrad.web import server as server_module
from integrad.web.models import ModelSlot
from integrad.web.server import PortInUse, serve


@pytest.fixture
def taken_port():
    """A port that another program listens on."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    yield sock.getsockname()[1]
    sock.close()


def test_a_port_in_use_is_refused_with_a_clear_message(taken_port):
    with pytest.raises(PortInUse, match=rf"port {taken_port} on 127.0.0.1 is already in use"):
        serve(port=taken_port, block=False, load=False)


def test_the_command_says_so_before_loading_a_model(
    taken_port, tiny_bert_folder, capsys, monkeypatch
):
    monkeypatch.setattr(ModelSlot, "load", lambda self: pytest.fail("a model was loaded"))
    code = main(["serve", "--model", str(tiny_bert_folder), "--port", str(taken_port)])
    err = capsys.readouterr().err
    assert code == 1
    assert f"port {taken_port} on 127.0.0.1 is already in use" in err
    assert f"--port {taken_port + 1}" in err and "Traceback" not in err


def test_a_missing_runs_folder_is_refused(tmp_path, capsys):
    code = main(["serve", "--runs", str(tmp_path / "nope"), "--port", "0"])
    assert code == 1 and "runs folder" in capsys.readouterr().err


def test_serve_help_imports_nothing_heavy():
    probe = (
        "import sys, json\nfrom integrad.cli.main import main\ntry:\n main(['serve', '--help'])\n"
        "except SystemExit:\n pass\nheavy = ('torch', 'transformers', 'starlette', 'uvicorn', "
        "'pyarrow', 'pandas')\nprint(json.dumps([m for m in heavy if m in sys.modules]))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert "--runs DIR" in done.stdout
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


def test_another_host_is_warned_about(monkeypatch, capsys):
    # Shown with 127.0.0.1 taken for another host, so nothing listens beyond this machine.
    monkeypatch.setattr(server_module, "is_loopback", lambda host: False)
    with serve(port=0, block=False, load=False) as server:
        err = capsys.readouterr().err
        assert "anyone who can reach this address can run the model" in err
        assert f"serving on {server.url}" in err
        # other host names are answered then: the user chose to be reachable
        assert httpx.get(server.url + "/api/info", headers={"host": "box.lan"}).status_code == 200
    monkeypatch.undo()
    with serve(port=0, block=False, load=False) as server:
        assert httpx.get(server.url + "/api/info", headers={"host": "box.lan"}).status_code == 400


def test_loopback_hosts():
    assert server_module.is_loopback("127.0.0.1") and server_module.is_loopback("localhost")
    assert server_module.is_loopback("::1") and not server_module.is_loopback("0.0.0.0")
    assert not server_module.is_loopback("192.168.1.5")


def test_a_slow_explanation_does_not_block_other_requests(tiny_bert_folder, large_run, monkeypatch):
    started, release = threading.Event(), threading.Event()

    def slow(self, text, **arguments):
        started.set()
        assert release.wait(timeout=30), "never released"
        return original(self, text, **arguments)

    original = ModelSlot.explain
    monkeypatch.setattr(ModelSlot, "explain", slow)
    answers = {}
    with (
        integrad.serve(str(tiny_bert_folder), runs=[large_run], port=0, block=False) as server,
        httpx.Client(base_url=server.url, timeout=30) as client,
    ):

        def explain():
            answers["explain"] = client.post("/api/explain", json={"text": "good food"})

        worker = threading.Thread(target=explain)
        worker.start()
        assert started.wait(timeout=30)
        # while the model works, pages, runs and the API still answer
        assert client.get("/runs/large", timeout=5).status_code == 200
        assert client.get("/api/runs/large/rows", timeout=5).json()["total"] == 1200
        assert "explain" not in answers
        release.set()
        worker.join(timeout=30)
    assert answers["explain"].status_code == 200
