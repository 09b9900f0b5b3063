"""In-memory object storage of the emulated kube-apiserver: one global,
increasing resourceVersion (like etcd's revision), objects per resource and
namespace, indexes by uid and by owner uid, and the retained window of watch
events.

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


def _key(obj):
    md = obj["metadata"]
    return md.get("namespace") or "", md["name"]


class Store:
    def __init__(self, window=1000, first_rv=1000):
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.rv = first_rv
        self.objects = {}          # Resource -> {namespace: {name: obj}}
        self.by_uid = {}           # uid -> (Resource, namespace, name)
        self.owned = {}            # owner uid -> {(Resource, namespace, name)}
        self.events = []
        self.event_rvs = []
        self.window = window
        self.compacted_rv = first_rv   # watches from an older RV get 410
        self.list_compacted_rv = 0     # continue tokens older than this get 410
        self.generation = 0        # bumped on every write, for cheap change checks

    # -- reads -------------------------------------------------------------
    def _table(self, res):
        return self.objects.setdefault(res, {})

    def get(self, res, ns, name):
        with self.lock:
            return self._table(res).get(ns or "", {}).get(name)

    def list(self, res, ns=None):
        """(objects sorted by namespace/name, current rv); ns None = all."""
        with self.lock:
            tbl = self._table(res)
            if ns is not None:
                items = sorted(tbl.get(ns, {}).items())
                out = [v for _, v in items]
            else:
                out = []
                for n in sorted(tbl):
                    out += [v for _, v in sorted(tbl[n].items())]
            return out, self.rv

    def namespaces_of(self, res):
        with self.lock:
            return [n for n, objs in self._table(res).items() if objs]

    def count(self, res, ns=None):
        with self.lock:
            tbl = self._table(res)
            if ns is None:
                return sum(len(v) for v in tbl.values())
            return len(tbl.get(ns, {}))

    def locate_uid(self, uid):
        """(Resource, namespace, name) of the object with this uid, or None."""
        with self.lock:
            return self.by_uid.get(uid)

    def owned_by(self, uid):
        with self.lock:
            return list(self.owned.get(uid, ()))

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

    def _index(self, res, obj, add):
        ns, name = _key(obj)
        md = obj["metadata"]
        uid = md.get("uid")
        if uid:
            if add:
                self.by_uid[uid] = (res, ns, name)
            else:
                self.by_uid.pop(uid, None)
        for ref in md.get("ownerReferences") or []:
            owner = ref.get("uid")
            if not owner:
                continue
            if add:
                self.owned.setdefault(owner, set()).add((res, ns, name))
            else:
                s = self.owned.get(owner)
                if s:
                    s.discard((res, ns, name))
                    if not s:
                        del self.owned[owner]

    def put(self, res, obj, old=None):
        """Store obj (metadata filled except resourceVersion, which is set here)."""
        with self.lock:
            self.rv += 1
            obj["metadata"]["resourceVersion"] = str(self.rv)
            ns, name = _key(obj)
            tbl = self._table(res).setdefault(ns, {})
            prev = tbl.get(name)
            if prev is not None:
                self._index(res, prev, False)
            tbl[name] = obj
            self._index(res, obj, True)
            self._record(res, "MODIFIED" if old is not None else "ADDED", obj, old)
            return obj

    def remove(self, res, obj):
        """Delete obj; the DELETED event carries it with a new resourceVersion."""
        with self.lock:
            ns, name = _key(obj)
            tbl = self._table(res).get(ns, {})
            cur = tbl.get(name)
            if cur is None:
                return None
            self.rv += 1
            final = dict(cur)
            final["metadata"] = dict(cur["metadata"], resourceVersion=str(self.rv))
            del tbl[name]
            if not tbl:
                self._table(res).pop(ns, None)
            self._index(res, cur, False)
            self._record(res, "DELETED", final, cur)
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
