"""In-memory object storage of the emulated kube-apiserver: one global,
increasing resourceVersion (like etcd's revision), objects per resource keyed
by (namespace, name), and the retained window of watch events.

Stored objects are never mutated in place: every write stores a new dict, so
readers may serialise what they get without copying.
"""
import bisect
import threading


class Event:
    __slots__ = ("rv", "res", "type", "obj", "old")

    def __init__(self, rv, res, typ, obj, old):
        self.rv = rv
        self.res = res
        self.type = typ
        self.obj = obj
        self.old = old


class Store:
    def __init__(self, window=1000, first_rv=1000):
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.rv = first_rv
        self.objects = {}          # Resource -> {(ns, name): obj}
        self.events = []
        self.event_rvs = []
        self.window = window
        self.compacted_rv = first_rv   # watches from an older RV get 410
        self.list_compacted_rv = 0     # continue tokens older than this get 410
        self.generation = 0        # bumped on every write, for cheap change checks

    # -- reads -------------------------------------------------------------
    def table(self, res):
        return self.objects.setdefault(res, {})

    def get(self, res, ns, name):
        with self.lock:
            return self.table(res).get((ns or "", name))

    def list(self, res, ns=None):
        """(sorted list of objects, current rv); ns None = all namespaces."""
        with self.lock:
            tbl = self.table(res)
            if ns:
                items = [(k, v) for k, v in tbl.items() if k[0] == ns]
            else:
                items = list(tbl.items())
            rv = self.rv
        items.sort(key=lambda kv: kv[0])
        return [v for _, v in items], rv

    def count(self, res, ns=None):
        with self.lock:
            if not ns:
                return len(self.table(res))
            return sum(1 for k in self.table(res) if k[0] == ns)

    # -- writes ------------------------------------------------------------
    def _record(self, res, typ, obj, old):
        ev = Event(self.rv, res, typ, obj, old)
        self.events.append(ev)
        self.event_rvs.append(self.rv)
        if len(self.events) > self.window + self.window // 4:
            drop = len(self.events) - self.window
            self.compacted_rv = self.event_rvs[drop - 1]
            del self.events[:drop]
            del self.event_rvs[:drop]
        self.generation += 1
        self.cond.notify_all()

    def put(self, res, obj, old=None):
        """Store obj (metadata already filled except resourceVersion)."""
        with self.lock:
            self.rv += 1
            obj["metadata"]["resourceVersion"] = str(self.rv)
            md = obj["metadata"]
            self.table(res)[(md.get("namespace") or "", md["name"])] = obj
            self._record(res, "MODIFIED" if old is not None else "ADDED", obj, old)
            return obj

    def remove(self, res, obj):
        """Delete obj; the DELETED event carries it with a new resourceVersion."""
        with self.lock:
            md = obj["metadata"]
            key = (md.get("namespace") or "", md["name"])
            if key not in self.table(res):
                return None
            self.rv += 1
            final = dict(obj)
            final["metadata"] = dict(md, resourceVersion=str(self.rv))
            del self.table(res)[key]
            self._record(res, "DELETED", final, obj)
            return final

    def compact(self):
        """Forget every retained event, like an etcd compaction."""
        with self.lock:
            self.events.clear()
            self.event_rvs.clear()
            self.compacted_rv = self.rv
            self.list_compacted_rv = self.rv
            self.cond.notify_all()

    # -- watch support -----------------------------------------------------
    def events_after(self, rv):
        """Events with resourceVersion > rv, or None if rv is too old."""
        with self.lock:
            if rv < self.compacted_rv:
                return None
            i = bisect.bisect_right(self.event_rvs, rv)
            return self.events[i:]

    def oldest_rv(self):
        with self.lock:
            return self.compacted_rv + 1
