"""Unit tests of the emulated kube-apiserver's pure parts (no server needed):
quantities, selectors, patches, validation messages, protobuf decoding.

Run: cd tests && /usr/bin/python3 -m pytest -q cluster/test_kube_units.py
"""
import base64

import pytest

import kube_patch
import kube_protobuf
import kube_quantity
import kube_resources as kr
import kube_schema
import kube_selectors as sel
import kube_validation
from kube_errors import ApiError, invalid


@pytest.mark.parametrize("text,canon", [
    ("0.5", "500m"), ("1000m", "1"), ("1500m", "1500m"), ("2000", "2k"),
    ("40Gi", "40Gi"), ("1.5Gi", "1536Mi"), ("1024Mi", "1Gi"), ("20", "20"),
    ("1e3", "1e3"), ("129e6", "129e6"), ("0", "0"), ("100Ki", "100Ki"),
    ("128974848", "128974848"), (2, "2"), ("0.1", "100m"), ("1n", "1n"),
])
def test_quantity_canonical_form(text, canon):
    assert kube_quantity.canonical(text) == canon


def test_quantity_rejects_garbage():
    for bad in ("lots", "1..2", "", "1Gb", "--1"):
        with pytest.raises(kube_quantity.QuantityError):
            kube_quantity.canonical(bad)


@pytest.mark.parametrize("selector,labels,match", [
    ("a=b", {"a": "b"}, True), ("a==b", {"a": "c"}, False), ("a!=b", {}, True),
    ("a in (x, y)", {"a": "y"}, True), ("a notin (x)", {"a": "x"}, False),
    ("a", {"a": ""}, True), ("!a", {"a": "1"}, False), ("a,b=c", {"a": "1", "b": "c"}, True),
    ("n>3", {"n": "4"}, True), ("n<3", {"n": "4"}, False), ("", {}, True),
])
def test_label_selectors(selector, labels, match):
    reqs = sel.parse_label_selector(selector)
    assert sel.matches_requirements(reqs, labels) is match


def test_bad_label_selectors():
    for bad in ("a in b", "a=b c", "=b", "a in (x"):
        with pytest.raises(sel.SelectorError):
            sel.parse_label_selector(bad)


def test_label_selector_object():
    s = {"matchLabels": {"a": "1"},
         "matchExpressions": [{"key": "b", "operator": "In", "values": ["x"]},
                              {"key": "c", "operator": "DoesNotExist"}]}
    assert sel.matches_label_selector_object(s, {"a": "1", "b": "x"})
    assert not sel.matches_label_selector_object(s, {"a": "1", "b": "x", "c": "1"})
    assert sel.matches_label_selector_object({}, {"anything": "1"})


def test_strategic_merge_directives():
    orig = {"spec": {"containers": [{"name": "a", "image": "1", "env": [
        {"name": "X", "value": "1"}]}, {"name": "b", "image": "1"}]},
        "metadata": {"finalizers": ["f1"], "labels": {"k": "v", "gone": "x"}}}
    patch = {"spec": {"$setElementOrder/containers": [{"name": "b"}, {"name": "a"}],
                      "containers": [{"name": "a", "env": [{"name": "Y", "value": "2"}]},
                                     {"name": "c", "$patch": "delete"}]},
             "metadata": {"finalizers": ["f2"], "labels": {"gone": None}}}
    out = kube_patch.strategic_merge(orig, patch)
    assert [c["name"] for c in out["spec"]["containers"]] == ["b", "a"]
    assert out["spec"]["containers"][1]["env"] == [{"name": "X", "value": "1"},
                                                   {"name": "Y", "value": "2"}]
    assert out["metadata"] == {"finalizers": ["f1", "f2"], "labels": {"k": "v"}}
    out = kube_patch.strategic_merge(out, {"spec": {"containers": [
        {"name": "b", "$patch": "delete"}]}, "metadata": {
        "$deleteFromPrimitiveList/finalizers": ["f1"]}})
    assert [c["name"] for c in out["spec"]["containers"]] == ["a"]
    assert out["metadata"]["finalizers"] == ["f2"]
    out = kube_patch.strategic_merge(out, {"spec": {"$patch": "replace", "x": 1}})
    assert out["spec"] == {"x": 1}
    # lists without a merge key are replaced whole
    assert kube_patch.strategic_merge({"rules": [1, 2]}, {"rules": [3]}) == {"rules": [3]}


def test_merge_and_json_patch():
    assert kube_patch.merge_patch({"a": {"b": 1, "c": 2}}, {"a": {"b": None, "d": 3}}) == \
        {"a": {"c": 2, "d": 3}}
    out = kube_patch.json_patch({"metadata": {}}, [
        {"op": "add", "path": "/metadata/labels", "value": {"x/y": "1"}},
        {"op": "add", "path": "/metadata/labels/a~1b", "value": "2"}])
    assert out == {"metadata": {"labels": {"x/y": "1", "a/b": "2"}}}
    with pytest.raises(ApiError) as e:
        kube_patch.json_patch({"metadata": {}}, [
            {"op": "add", "path": "/metadata/labels/a", "value": "1"}])
    assert e.value.code == 422


def test_validation_messages():
    ns = kr.lookup("", "v1", "namespaces")
    errs = kube_validation.validate(ns, {"metadata": {"name": "a" * 64}})
    assert [str(e) for e in errs] == [
        'metadata.name: Invalid value: "%s": must be no more than 63 characters' % ("a" * 64)]
    cm = kr.lookup("", "v1", "configmaps")
    errs = kube_validation.validate(cm, {"metadata": {
        "name": "ok", "labels": {"a/b/c": "x"}, "annotations": {"big": "x" * 262145}}})
    assert [e.cause()["reason"] for e in errs] == ["FieldValueInvalid", "FieldValueTooLong"]
    assert str(errs[1]) == "metadata.annotations: Too long: may not be more than 262144 bytes"
    err = invalid(cm, "ok", errs)
    assert err.code == 422 and err.message.startswith('ConfigMap "ok" is invalid: [')
    role = kr.lookup("rbac.authorization.k8s.io", "v1", "roles")
    err = invalid(role, "r", kube_validation.validate(role, {"metadata": {"name": ".."}}))
    assert err.message == "Role.rbac.authorization.k8s.io \"r\" is invalid: " \
        "metadata.name: Invalid value: \"..\": may not be '..'"
    assert err.details["group"] == "rbac.authorization.k8s.io"
    mwc = kr.lookup("admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations")
    errs = kube_validation.validate(mwc, {"metadata": {"name": "m"}, "webhooks": [{
        "name": "short", "failurePolicy": "Fail", "matchPolicy": "Equivalent",
        "reinvocationPolicy": "Never", "clientConfig": {"url": "http://x"}}]})
    assert [str(e) for e in errs] == [
        'webhooks[0].name: Invalid value: "short": should be a domain with at least '
        'three segments separated by dots',
        "webhooks[0].sideEffects: Required value: must specify one of None, NoneOnDryRun",
        "webhooks[0].admissionReviewVersions: Required value: must specify one of v1, "
        "v1beta1",
        "webhooks[0].clientConfig.url: Invalid value: \"http://x\": 'https' is the only "
        "allowed URL scheme"]


def test_strict_decoding_paths():
    obj, unknown = kube_schema.check({"apiVersion": "v1", "kind": "Pod", "metadata": {
        "name": "p", "bogus": 1}, "spec": {"containers": [{"name": "c", "imagee": "x"}]}},
        "V1Pod")
    assert unknown == ["metadata.bogus", "spec.containers[0].imagee"]
    assert "bogus" not in obj["metadata"]
    with pytest.raises(kube_schema.DecodeError) as e:
        kube_schema.check({"metadata": {"labels": {"a": 1}}}, "V1ConfigMap")
    assert str(e.value) == ("json: cannot unmarshal number into Go struct field "
                            "ObjectMeta.metadata.labels of type string")
    with pytest.raises(kube_schema.DecodeError):
        kube_schema.check({"data": {"k": "not base64!"}}, "V1Secret")


def _field(num, payload):
    n = len(payload)
    out = bytes([num << 3 | 2])
    while n >= 0x80:
        out += bytes([n & 0x7F | 0x80])
        n >>= 7
    return out + bytes([n]) + payload


def test_protobuf_decoding():
    meta = _field(1, b"s1") + _field(2, b"") + _field(8, b"")
    raw = _field(1, meta) + _field(2, _field(1, b"k") + _field(2, b"\x00\x01")) + \
        _field(3, b"example.com/x")
    body = b"k8s\x00" + _field(1, _field(1, b"v1") + _field(2, b"Secret")) + _field(2, raw)
    av, kind, obj = kube_protobuf.decode_body(body)
    assert (av, kind) == ("v1", "Secret")
    assert obj == {"kind": "Secret", "apiVersion": "v1", "metadata": {"name": "s1"},
                   "data": {"k": base64.b64encode(b"\x00\x01").decode()},
                   "type": "example.com/x"}
    with pytest.raises(kube_protobuf.ProtobufError):
        kube_protobuf.decode_body(b"{}")


def test_store_keeps_a_window_of_watch_events():
    from kube_store import Store
    res = kr.lookup("", "v1", "configmaps")
    store = Store(window=4, first_rv=100)
    first = store.rv
    for i in range(10):
        store.put(res, {"metadata": {"name": "c%d" % i, "namespace": "n"}})
    assert store.events_after(first) is None          # too old: 410 Expired
    recent = store.events_after(store.rv - 2)
    assert [e.obj["metadata"]["name"] for e in recent] == ["c8", "c9"]
    assert store.oldest_rv() <= store.rv - 3
    final = store.remove(res, store.get(res, "n", "c9"))
    assert int(final["metadata"]["resourceVersion"]) == store.rv
    assert store.events_after(store.rv - 1)[0].type == "DELETED"
    assert [o["metadata"]["name"] for o in store.list(res, "n")[0]][:2] == ["c0", "c1"]
