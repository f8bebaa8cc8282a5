"""Document, Rejection and DeadLetter: immutability, copies, pickling, rows."""

import dataclasses
import os
import pickle

import pytest
from apache_beam.coders import coders
from apache_beam.internal.cloudpickle import cloudpickle  # the cloudpickle Beam pickles with

from pipeline.records import DeadLetter, Document, FrozenMap, Reason, Rejection


def make_doc(**kw) -> Document:
    values = dict(
        id="d1",
        text="some text",
        source="web",
        url="http://x",
        lang="en",
        lang_score=0.75,
        scores={"z.v1.b": 2.0, "a.v1.a": 1.0},
        metadata={"location": "a.jsonl:1", "b": "2", "a": "1"},
    )
    values.update(kw)
    return Document(**values)


def test_attribute_assignment_raises():
    doc = make_doc()
    for name, value in (("text", "other"), ("id", "x"), ("scores", {}), ("lang", "fr")):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(doc, name, value)
    with pytest.raises(dataclasses.FrozenInstanceError):
        del doc.text
    assert doc.text == "some text"


def test_maps_are_frozen_even_when_given_plain_dicts():
    scores = {"a": 1.0}
    doc = make_doc(scores=scores)
    assert isinstance(doc.scores, FrozenMap) and isinstance(doc.metadata, FrozenMap)
    scores["b"] = 2.0  # the caller's dict is not shared
    assert doc.scores == {"a": 1.0}
    assert isinstance(Document(id="i", text="t", source="s").scores, FrozenMap)


@pytest.mark.parametrize("attr", ["scores", "metadata"])
def test_map_mutation_raises_type_error(attr):
    doc = make_doc()
    m = getattr(doc, attr)
    before = dict(m)
    mutations = [
        lambda: m.__setitem__("new", 1),
        lambda: m.__delitem__(next(iter(m))),
        lambda: m.clear(),
        lambda: m.pop(next(iter(m))),
        lambda: m.pop("missing", None),
        lambda: m.popitem(),
        lambda: m.setdefault("new", 1),
        lambda: m.update({"new": 1}),
        lambda: m.__ior__({"new": 1}),
    ]
    for mutate in mutations:
        with pytest.raises(TypeError, match="Document maps are immutable"):
            mutate()
    with pytest.raises(TypeError):
        m["x"] = 1
    with pytest.raises(TypeError):
        del m[next(iter(m))]
    with pytest.raises(TypeError):
        getattr(doc, attr).__ior__({"x": 1})
    assert dict(getattr(doc, attr)) == before


def test_with_scores_returns_a_new_document():
    doc = make_doc(scores={"a": 1.0})
    new = doc.with_scores({"b": 2.0, "a": 3.0})
    assert new is not doc
    assert dict(new.scores) == {"a": 3.0, "b": 2.0}
    assert isinstance(new.scores, FrozenMap)
    assert dict(doc.scores) == {"a": 1.0}  # the old one is unchanged
    assert dataclasses.replace(new, scores=doc.scores) == doc


def test_with_metadata_and_replace():
    doc = make_doc(metadata={"location": "l"})
    new = doc.with_metadata({"k": "v"})
    assert dict(new.metadata) == {"location": "l", "k": "v"}
    assert dict(doc.metadata) == {"location": "l"}
    assert isinstance(new.metadata, FrozenMap)
    other = doc.replace(text="changed", lang=None)
    assert (other.text, other.lang, doc.text, doc.lang) == ("changed", None, "some text", "en")
    assert isinstance(doc.replace(scores={"x": 1.0}).scores, FrozenMap)


@pytest.mark.parametrize("dumps, loads", [(pickle.dumps, pickle.loads), (cloudpickle.dumps, cloudpickle.loads)])
def test_documents_pickle_equal(dumps, loads):
    doc = make_doc()
    back = loads(dumps(doc))
    assert back == doc
    assert back is not doc
    assert hash(back) == hash(doc)
    assert isinstance(back.scores, FrozenMap) and isinstance(back.metadata, FrozenMap)
    with pytest.raises(TypeError):
        back.scores["x"] = 1.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        back.text = "x"
    fm = loads(dumps(FrozenMap({"a": 1})))
    assert type(fm) is FrozenMap and fm == {"a": 1}


@pytest.mark.parametrize("coder", [coders.FastPrimitivesCoder(), coders.PickleCoder()])
def test_documents_survive_beam_coders(coder):
    doc = make_doc()
    back = coder.decode(coder.encode(doc))
    assert back == doc
    assert isinstance(back.scores, FrozenMap) and isinstance(back.metadata, FrozenMap)


def test_other_records_pickle_equal():
    r = Rejection(doc_id="d", source="s", lang=None, stage="st.v1", reason="r", detail="x", text="t")
    dl = DeadLetter(location="a:1", reason="invalid_json", detail="d", raw_excerpt="e", source="web")
    for obj in (r, dl):
        assert pickle.loads(pickle.dumps(obj)) == obj
        assert cloudpickle.loads(cloudpickle.dumps(obj)) == obj


def test_documents_hash_and_compare_by_value():
    assert make_doc() == make_doc()
    assert hash(make_doc()) == hash(make_doc())
    assert make_doc() != make_doc(scores={"a.v1.a": 1.0})
    assert len({make_doc(), make_doc(), make_doc(id="d2")}) == 2


def test_to_row_sorts_map_entries():
    row = make_doc().to_row()
    assert row == {
        "id": "d1",
        "text": "some text",
        "source": "web",
        "url": "http://x",
        "lang": "en",
        "lang_score": 0.75,
        "scores": [("a.v1.a", 1.0), ("z.v1.b", 2.0)],
        "metadata": [("a", "1"), ("b", "2"), ("location", "a.jsonl:1")],
        "record_id": None,
    }
    # insertion order does not matter
    a = make_doc(metadata={"x": "1", "y": "2"}).to_row()
    b = make_doc(metadata={"y": "2", "x": "1"}).to_row()
    assert a == b


class _Why(Reason):
    TOO_SHORT = "too_short"


def test_reason_is_its_string():
    assert str(_Why.TOO_SHORT) == "too_short"
    assert _Why.TOO_SHORT == "too_short"
    assert f"{_Why.TOO_SHORT}" == "too_short"


def test_rejection_of_a_document():
    doc = make_doc()
    r = Rejection.of(doc, "lang.v1", _Why.TOO_SHORT, "3 words", keep_text=True)
    assert r.to_row() == {
        "doc_id": "d1",
        "source": "web",
        "lang": "en",
        "stage": "lang.v1",
        "reason": "too_short",
        "detail": "3 words",
        "text": "some text",
        "url": "http://x",  # so a rejected page can be traced
    }
    assert type(r.reason) is str
    assert Rejection.of(doc, "lang.v1", _Why.TOO_SHORT, "3 words", keep_text=False).text is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.reason = "x"  # type: ignore[misc]


def test_dead_letter_row():
    dl = DeadLetter(location="a:1", reason="invalid_json", detail="d", raw_excerpt="e")
    assert dl.to_row() == {"location": "a:1", "reason": "invalid_json", "detail": "d", "raw_excerpt": "e", "source": None}
    with pytest.raises(dataclasses.FrozenInstanceError):
        dl.reason = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"text": "other", "lang": "fr", "lang_score": 0.5},
        {"scores": {"b": 1.0}, "metadata": {"k": "v"}},
        {"scores": FrozenMap({"b": 1.0})},
        {"html": b"<p>x</p>", "url": None, "record_id": "r"},
    ],
)
def test_replace_is_dataclasses_replace(changes):
    doc = make_doc()
    fast, plain = doc.replace(**changes), dataclasses.replace(doc, **changes)
    assert fast == plain and fast is not doc and type(fast) is Document
    assert isinstance(fast.scores, FrozenMap) and isinstance(fast.metadata, FrozenMap)
    assert pickle.loads(pickle.dumps(fast)) == plain
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.text = "changed"


def test_replace_refuses_a_field_documents_do_not_have():
    with pytest.raises(TypeError, match="no field 'txt'"):
        make_doc().replace(txt="typo")


def test_declared_score_keys_travel_as_indices_and_come_back_in_order():
    from pipeline.report.scores import SCORES

    declared = [s.key.replace("{n}", "7") for s in SCORES if s.key != "lang_score"]
    scores = {key: float(i) for i, key in enumerate(reversed(declared))} | {"mine.v1:custom": -1.0}
    doc = make_doc(scores=scores, html=b"<p>x</p>")
    data = pickle.dumps(doc)
    assert pickle.loads(data) == doc and list(pickle.loads(data).scores) == list(scores)  # same keys, same order
    assert b"quality.gopher_repetition.v1" not in data and b"mine.v1:custom" in data  # unknown keys as themselves
    assert len(data) < len(pickle.dumps(dataclasses.asdict(doc))) / 2


def test_the_score_key_table_is_the_same_in_every_process():
    import subprocess
    import sys

    from pipeline.records import _score_key_table

    script = "from pipeline.records import _score_key_table; print(repr(_score_key_table()[0]))"
    for seed in ("0", "12345"):
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, env={**os.environ, "PYTHONHASHSEED": seed})
        assert out.stdout.strip() == repr(_score_key_table()[0])
