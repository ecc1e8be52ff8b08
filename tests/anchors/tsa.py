"""A real RFC 3161 Time-Stamping Authority on loopback, for tests and the benchmark.

`make_authority` creates, with the `openssl` command, a test CA and a TSA certificate it
issues (extendedKeyUsage critical timeStamping) and an `openssl ts` configuration.
`TsaServer` answers HTTP POSTs of `application/timestamp-query` by running
`openssl ts -reply` on them. Its `mode` makes it misbehave on purpose: "garbage" answers
bytes that are no TimeStampResp, "slow" answers only after `delay` seconds, "error"
answers HTTP 500; `stop()` closes the port, so a client meets a refused connection.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

_TSA_CONFIG = """\
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
dir = {dir}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.crt
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.55555.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def openssl_available() -> bool:
    return shutil.which("openssl") is not None


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@dataclass(frozen=True)
class Authority:
    """A test TSA's files: `ca_cert` is the root to trust, `config` is for `openssl ts`."""

    directory: Path
    ca_cert: Path
    tsa_cert: Path
    config: Path
    name: str


def make_authority(directory: Path, name: str = "test-tsa") -> Authority:
    """A new CA and TSA in `directory` (created), P-256 keys, valid ten years."""
    directory.mkdir(parents=True, exist_ok=True)
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes")
    _openssl(
        "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "3650",
        "-subj", f"/CN={name} test root", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=directory,
    )  # fmt: skip
    _openssl(
        "req", *ec, "-keyout", "tsa.key", "-out", "tsa.csr", "-subj", f"/CN={name}",
        cwd=directory,
    )  # fmt: skip
    (directory / "tsa.ext").write_text(
        "basicConstraints=CA:FALSE\n"
        "keyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=critical,timeStamping\n"
    )
    _openssl(
        "x509", "-req", "-in", "tsa.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "tsa.crt", "-days", "3650", "-extfile", "tsa.ext",
        cwd=directory,
    )  # fmt: skip
    (directory / "serial").write_text("01\n")
    config = directory / "tsa.cnf"
    config.write_text(_TSA_CONFIG.format(dir=directory))
    return Authority(directory, directory / "ca.crt", directory / "tsa.crt", config, name)


def reply(authority: Authority, query: bytes, lock: threading.Lock | None = None) -> bytes:
    """`openssl ts -reply` for a DER TimeStampReq: the DER TimeStampResp."""
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "q.tsq").write_bytes(query)
        with lock or threading.Lock():
            subprocess.run(
                ["openssl", "ts", "-reply", "-config", str(authority.config),
                 "-queryfile", "q.tsq", "-out", "r.tsr"],
                cwd=tmp, check=True, capture_output=True, timeout=60,
            )  # fmt: skip
        return (Path(tmp) / "r.tsr").read_bytes()


class TsaServer:
    """`openssl ts -reply` over HTTP on 127.0.0.1; `url` is where to POST queries."""

    def __init__(self, authority: Authority, port: int = 0) -> None:
        self.authority = authority
        self.mode = "ok"
        self.delay = 5.0
        self.requests = 0
        self.served = 0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                query = self.rfile.read(length)
                server.requests += 1
                mode = server.mode
                if mode == "slow":
                    time.sleep(server.delay)
                if mode == "error":
                    self.send_error(500)
                    return
                body = (
                    b"\x30\x03garbage"
                    if mode == "garbage"
                    else reply(server.authority, query, server._lock)
                )
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except OSError:
                    return  # the client gave up (slow mode)
                server.served += 1

            def log_message(self, *_args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        self._thread: threading.Thread | None = None

    def start(self) -> TsaServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
