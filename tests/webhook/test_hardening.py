"""No single request or client takes the webhook down (issue 11): memory held
for reviews is capped, connection slots are limited per client and time out
from accept, HTTP framing and JSON that two readers could read differently are
refused, and an object too large to mutate gets an AdmissionReview, not a 500.
Floods are bounded in count and time and go to 127.0.0.1 only."""
import json
import socket
import ssl
import threading
import time

from whlib import (assert_not_taken, pod_obj, preload_env, raw_tls, read_http_response, review,
                   wait_for)

NS = "flyte-ws-demo-001"
MIB = 1 << 20


def peak_rss_mib(w):
    """The process's peak resident set (VmHWM), MiB."""
    with open("/proc/%d/status" % w.proc.pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def send_head(sock, length, path="/validate", extra=""):
    sock.sendall(("POST %s HTTP/1.1\r\nHost: webhook\r\nContent-Type: application/json\r\n"
                  "Content-Length: %d\r\n%s\r\n" % (path, length, extra)).encode())


# ---- 1: memory ---------------------------------------------------------------

def flat_numbers_review(size):
    """A 'review' whose object is one flat array of small numbers: about 64
    bytes of parsed tree per 2 bytes of text."""
    head = json.dumps(review("ConfigMap", {"metadata": {"name": "x", "namespace": NS}},
                             namespace=NS))[:-2]
    head = head.rsplit('"object": ', 1)[0] + '"object": {"x": ['
    n = (size - len(head) - 8) // 2
    return (head + "1," * n + "1]}}}").encode()


def test_many_small_values_are_refused_before_parsing(start_webhook):
    """A 3 MiB review of a flat array of 1.5M numbers took 105 MiB to parse:
    now it is measured first and refused with 413."""
    w = start_webhook()
    body = flat_numbers_review(3 * MIB - 1024)
    status, _, data = w.post("/validate", body)
    assert status == 413, data
    assert "too many JSON values" in data["message"]
    assert peak_rss_mib(w) < 24, peak_rss_mib(w)


def test_bodies_in_flight_are_capped(start_webhook):
    """40 connections each send 3 MiB - 1 of body and pause: before, 127 MiB of
    RSS; now the bodies that fit --max-review-memory are read and the rest are
    answered 429 with Retry-After at once."""
    w = start_webhook("--max-review-memory", "16")
    ctx = w.ctx
    socks = []
    size = 3 * MIB - 1
    chunk = b"x" * (64 << 10)
    try:
        for _ in range(40):
            s = raw_tls(w.port, ctx, timeout=10)
            send_head(s, size)
            socks.append(s)
        refused = []
        for s in socks:
            s.settimeout(0.3)
            try:
                status, headers, body = read_http_response(s)
                refused.append((status, headers, json.loads(body)))
            except (socket.timeout, ssl.SSLError, ConnectionError):
                # accepted: send all but the last byte, then pause
                s.settimeout(10)
                left = size - 1
                while left:
                    n = min(left, len(chunk))
                    s.sendall(chunk[:n])
                    left -= n
        assert 30 <= len(refused) <= 36, len(refused)
        for status, headers, body in refused:
            assert status == 429
            assert headers["retry-after"] == "1"
            assert body["details"]["retryAfterSeconds"] == 1
            assert "--max-review-memory" in body["message"]
        assert peak_rss_mib(w) < 40, peak_rss_mib(w)
        m = w.metrics()
        assert m['workspace_webhook_http_errors_total{code="429"}'] == len(refused)
        assert m["workspace_webhook_review_memory_bytes"] <= 16 * MIB
    finally:
        for s in socks:
            s.close()
    # everything held is given back
    assert wait_for(lambda: w.metrics()["workspace_webhook_review_memory_bytes"] == 0, 5)
    resp = w.review("/mutate", review("Pod", pod_obj(NS), namespace=NS))
    assert resp["allowed"]


def big_args_pod_review(size):
    """A realistic 3 MiB review: a Pod with hundreds of thousands of args."""
    pod = pod_obj(NS)
    r = review("Pod", pod, namespace=NS)
    base = len(json.dumps(r))
    pod["spec"]["containers"][0]["args"] = ["1"] * ((size - base) // 5)
    return json.dumps(review("Pod", pod, namespace=NS)).encode()


def test_eight_worst_reviews_at_once_stay_under_the_memory_limit(start_webhook):
    """Eight 3 MiB reviews at once (a Pod with 600k args: 56 MiB each before)
    end in 413 or 429; the process stays far under the Deployment's 64 MiB."""
    w = start_webhook()
    body = big_args_pod_review(3 * MIB - 4096)
    results = []

    def one():
        results.append(w.post("/mutate", body)[0])

    threads = [threading.Thread(target=one) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results) == 8 and set(results) <= {413, 429}, results
    assert peak_rss_mib(w) < 48, peak_rss_mib(w)


# ---- 2: connection slots -----------------------------------------------------

def test_silent_connection_is_closed_from_accept(start_webhook):
    """A client that connects and sends nothing held its slot for the idle
    timeout (95 s): now the read timeout counts from accept."""
    w = start_webhook("--read-timeout", "1")
    s = socket.create_connection(("127.0.0.1", w.port), timeout=6)
    start = time.monotonic()
    try:
        while s.recv(64):  # a TLS alert, perhaps, then the end
            pass
    except ConnectionResetError:
        pass
    took = time.monotonic() - start
    s.close()
    assert took < 4, took
    assert wait_for(lambda: w.metrics()["workspace_webhook_connections_timed_out_total"] >= 1)
    assert wait_for(lambda: any("did not arrive within 1 s" in l.get("msg", "")
                                for l in w.logs()))


def client_hello(ctx):
    """The bytes of a TLS ClientHello, from an in-memory handshake."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname="127.0.0.1")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


def test_trickled_client_hello_is_cut_at_the_deadline_logged_and_counted(start_webhook):
    w = start_webhook("--read-timeout", "2")
    hello = client_hello(w.ctx)
    s = socket.create_connection(("127.0.0.1", w.port), timeout=10)
    start = time.monotonic()
    closed_at = None
    try:
        for b in hello:
            s.sendall(bytes([b]))
            time.sleep(0.1)
            if time.monotonic() - start > 6:
                break
    except (BrokenPipeError, ConnectionResetError):
        closed_at = time.monotonic() - start
    if closed_at is None:
        s.settimeout(6)
        try:
            s.recv(1)
        except (ConnectionResetError, socket.timeout):
            pass
        closed_at = time.monotonic() - start
    s.close()
    assert 1.5 < closed_at < 4.5, closed_at
    assert wait_for(lambda: w.metrics()["workspace_webhook_connections_timed_out_total"] >= 1)
    assert wait_for(lambda: any("did not arrive within 2 s" in l.get("msg", "")
                                for l in w.logs()))


def test_one_client_cannot_take_every_slot(start_webhook):
    """Connections from one address are capped: another client still gets
    in, and the refusals are counted and logged once."""
    w = start_webhook("--max-connections", "64", "--max-connections-per-client", "16")
    held = []
    try:
        for _ in range(16):
            held.append(socket.create_connection(("127.0.0.1", w.port), timeout=5))
        for _ in range(10):
            assert_not_taken(w.port)  # closed at accept
        # another source address on the loopback is another client
        other = socket.create_connection(("127.0.0.1", w.port), timeout=5,
                                         source_address=("127.0.0.2", 0))
        tls = w.ctx.wrap_socket(other, server_hostname="127.0.0.1")
        tls.sendall(b"GET /healthz HTTP/1.1\r\nHost: w\r\n\r\n")
        assert read_http_response(tls)[0] == 200
        tls.close()
    finally:
        for s in held:
            s.close()

    def metrics():  # from 127.0.0.1 again once the server has seen those closes
        try:
            return w.metrics()
        except OSError:
            return None
    m = wait_for(metrics)
    assert m["workspace_webhook_connections_refused_total"] >= 10

    def refusal_lines():
        return [l for l in w.logs() if "refused" in l.get("msg", "") and "at accept" in l["msg"]]
    assert wait_for(refusal_lines)
    lines = refusal_lines()
    assert len(lines) == 1, lines
    assert "--max-connections-per-client" in lines[0]["msg"]


# ---- 7: framing and JSON read two ways ---------------------------------------

def test_two_content_lengths_are_refused_and_the_connection_closed(webhook):
    s = raw_tls(webhook.port, webhook.ctx)
    body = b'{"a":1}'
    smuggled = b"GET /healthz HTTP/1.1\r\nHost: w\r\n\r\n"
    s.sendall(b"POST /validate HTTP/1.1\r\nHost: w\r\nContent-Type: application/json\r\n"
              b"Content-Length: %d\r\nContent-Length: %d\r\n\r\n" % (len(body), len(body) + len(smuggled))
              + body + smuggled)
    status, headers, data = read_http_response(s)
    assert status == 400
    assert "more than one Content-Length" in json.loads(data)["message"]
    s.settimeout(3)
    try:
        assert s.recv(4096) == b""  # no second response: nothing was smuggled
    except (ConnectionResetError, ssl.SSLError):
        pass
    s.close()


def test_content_length_with_transfer_encoding_is_refused(webhook):
    s = raw_tls(webhook.port, webhook.ctx)
    s.sendall(b"POST /validate HTTP/1.1\r\nHost: w\r\nContent-Type: application/json\r\n"
              b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n")
    status, _, data = read_http_response(s)
    assert status == 400
    assert "both Content-Length and Transfer-Encoding" in json.loads(data)["message"]
    s.close()


def good_review_text():
    return json.dumps(review("Pod", pod_obj(NS), namespace=NS))


def test_text_after_the_review_is_refused(webhook):
    for tail in ("{}", "\n" + good_review_text(), " x"):
        status, _, data = webhook.post("/validate", good_review_text() + tail)
        assert status == 400, (tail, data)
        assert "text after the JSON value" in data["message"]
    status, _, _ = webhook.post("/validate", good_review_text() + " \r\n\t")
    assert status == 200


def test_duplicate_keys_are_refused(webhook):
    """cJSON reads the first of two keys, Go's decoder the last: neither wins."""
    text = good_review_text().replace('"operation": "CREATE"',
                                      '"operation": "CREATE", "operation": "DELETE"')
    status, _, data = webhook.post("/validate", text)
    assert status == 400
    assert "duplicate key" in data["message"]


def test_uid_that_is_not_utf8_is_refused(webhook):
    text = good_review_text().encode()
    r = json.loads(text)
    uid = r["request"]["uid"].encode()
    status, _, data = webhook.post("/validate", text.replace(uid, uid[:8] + b"\xff" + uid[9:]))
    assert status == 400
    assert "request.uid is not valid UTF-8" in data["message"]


# ---- 9: an object too large to mutate ----------------------------------------

def test_pod_with_sixty_thousand_containers_gets_an_admission_review(webhook):
    """The patch for 60k containers outgrew the reply and the client got an
    HTTP 500; now it is a denial it can read."""
    pod = pod_obj(NS, containers=[{"name": "c%d" % i, "image": "x"} for i in range(60000)])
    resp = webhook.review("/mutate", review("Pod", pod, namespace=NS))
    assert not resp["allowed"]
    assert resp["status"]["code"] == 413
    assert "JSON patch over 2 MiB" in resp["status"]["message"]


# ---- the libraries the server leans on ----------------------------------------

SHIM = r"""
#include <stdlib.h>
const char *MHD_get_version(void) { return getenv("FAKE_MHD_VERSION"); }
"""


def test_library_versions_are_checked_at_start(start_webhook, tmp_path):
    """The server reads libmicrohttpd's log text and relies on its handshake
    timing: an older library is refused at start, an untested one named."""
    env = preload_env(tmp_path, "mhd_version", SHIM, FAKE_MHD_VERSION="0.9.76")
    w = start_webhook(env=env)
    assert wait_for(lambda: any("libmicrohttpd 0.9.76 is not the tested 0.9.75"
                                in l.get("msg", "") for l in w.logs()))
    assert w.get("/healthz")[0] == 200
    env["FAKE_MHD_VERSION"] = "0.9.70"
    try:
        start_webhook(env=env)
        raise AssertionError("started with libmicrohttpd 0.9.70")
    except AssertionError as e:
        assert "libmicrohttpd 0.9.70 is too old: 0.9.71 or later is needed" in str(e)
    plain = start_webhook()
    assert not any("not the tested" in l.get("msg", "") for l in plain.logs())
