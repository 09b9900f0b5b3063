"""Fault and latency injection shared by the emulated kube-apiserver and Flyte Admin.

A test adds rules over the control endpoint of either server (see README in this
folder); every request first asks the injector what to do with it.

Control API (JSON over HTTP on each server, path prefix /_emulator/):
  POST   /_emulator/faults   {"method": "POST", "path": "regex", "count": 1,
                              "status": 500, "delay_ms": 0, "drop": false,
                              "message": "optional text"}   -> {"id": N}
  GET    /_emulator/faults   -> {"rules": [...], "latency_ms": N, "log": [...]}
  DELETE /_emulator/faults   -> clears every rule and the fixed latency
  POST   /_emulator/latency  {"delay_ms": N}  -> fixed delay for every request
"""
import re
import threading
import time


class Action:
    """What to do with one request: sleep delay_s, then drop, fail or pass."""

    def __init__(self, delay_s=0.0, status=None, drop=False, message=None):
        self.delay_s = delay_s
        self.status = status
        self.drop = drop
        self.message = message

    def passes(self):
        return self.status is None and not self.drop


class FaultInjector:
    """Thread-safe list of rules; each rule fires for its next `count` matches."""

    def __init__(self):
        self._lock = threading.Lock()
        self._rules = []
        self._next_id = 1
        self._latency_s = 0.0
        self.log = []  # (method, path, rule id) of every fault that fired

    def add(self, spec):
        """Add a rule from a dict (the POST /_emulator/faults body)."""
        method = (spec.get("method") or "*").upper()
        pattern = spec.get("path") or ".*"
        re.compile(pattern)  # raises re.error on a bad pattern
        rule = {
            "id": 0,
            "method": method,
            "path": pattern,
            "count": int(spec.get("count", 1)),
            "status": spec.get("status"),
            "delay_ms": int(spec.get("delay_ms", 0)),
            "drop": bool(spec.get("drop", False)),
            "message": spec.get("message"),
        }
        if rule["status"] is not None:
            rule["status"] = int(rule["status"])
        with self._lock:
            rule["id"] = self._next_id
            self._next_id += 1
            self._rules.append(rule)
        return rule["id"]

    def set_latency(self, delay_ms):
        with self._lock:
            self._latency_s = max(0, int(delay_ms)) / 1000.0

    def clear(self):
        with self._lock:
            self._rules.clear()
            self._latency_s = 0.0
            self.log.clear()

    def snapshot(self):
        with self._lock:
            return {"rules": [dict(r) for r in self._rules],
                    "latency_ms": int(self._latency_s * 1000),
                    "log": list(self.log)}

    def decide(self, method, path):
        """Return the Action for a request (path without the query string)."""
        with self._lock:
            delay = self._latency_s
            for rule in self._rules:
                if rule["method"] not in ("*", method.upper()):
                    continue
                if not re.search(rule["path"], path):
                    continue
                rule["count"] -= 1
                if rule["count"] <= 0:
                    self._rules.remove(rule)
                self.log.append([method, path, rule["id"]])
                return Action(delay + rule["delay_ms"] / 1000.0,
                              rule["status"], rule["drop"], rule["message"])
        return Action(delay)

    def apply_delay(self, action):
        if action.delay_s > 0:
            time.sleep(action.delay_s)

    def control(self, method, subpath, body):
        """Handle a /_emulator/<subpath> request; returns (status, dict)."""
        try:
            if subpath == "faults" and method == "POST":
                return 201, {"id": self.add(body or {})}
            if subpath == "faults" and method == "GET":
                return 200, self.snapshot()
            if subpath == "faults" and method == "DELETE":
                self.clear()
                return 200, {"cleared": True}
            if subpath == "latency" and method == "POST":
                self.set_latency((body or {}).get("delay_ms", 0))
                return 200, {"latency_ms": int(self._latency_s * 1000)}
        except (ValueError, TypeError, re.error) as e:
            return 400, {"error": "bad fault rule: %s" % e}
        return 404, {"error": "unknown control path /_emulator/%s" % subpath}
