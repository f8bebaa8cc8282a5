"""TokenStream: coverage, order, resume, splits, source weights and verification (trainer/data.py)."""

import itertools
import json
import os
import pathlib
import threading
import time

import numpy as np
import pytest
import torch

from schemas.manifest import ManifestError
from tests.trainer.shards import read_rows, token_rows, write_test_shards
from trainer.data import TokenStream, doc_split_value, row_uniform

EOD = 0


@pytest.fixture(scope="module")
def ident(tmp_path_factory):
    """Identifiable shards: every non-eod id names its row (copies included) and position."""
    manifest = write_test_shards(tmp_path_factory.mktemp("ident"), identifiable=True, docs=160, seed=1)
    rows = read_rows(manifest)
    vocab = vocab_size(manifest)
    return manifest, rows, token_rows(rows, vocab), vocab


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    """Realistic shards: uint16 random ids, copies share their tokens, eod id 5."""
    return write_test_shards(tmp_path_factory.mktemp("plain"), vocab_size=300, eod_id=5, docs=120, seed=2)


def vocab_size(manifest: str) -> int:
    with open(manifest) as f:
        return json.load(f)["tokenizer"]["vocab_size"]


def take(stream, n):
    return [(x.clone(), y.clone()) for x, y in itertools.islice(iter(stream), n)]


def windows(batches):
    """[n, seq_len + 1]: each window rebuilt from its x and y."""
    return np.concatenate([torch.cat([x, y[:, -1:]], 1).numpy() for x, y in batches]) if batches else np.zeros((0, 0), np.int64)


def epoch_windows(manifest, *, rank=0, epoch=0, **settings):
    """One rank's windows of one whole epoch, the stream, and the epoch's tokens_per_epoch."""
    s = TokenStream(manifest, rank=rank, prefetch=0, **settings)
    if epoch:
        state = s.state_dict()
        state["epoch"] = epoch
        s.load_state_dict(state)
    steps, tokens = s.steps_per_epoch, s.tokens_per_epoch
    batches = take(s, steps)
    assert s.epoch == epoch + 1 and s.state_dict()["position"] == 0  # the epoch ends exactly there
    return windows(batches), s, tokens


def counts_per_row(tokens, owner, n_rows):
    """How many content tokens of each row the windows hold, and each id's count."""
    flat = tokens.ravel()
    content = flat[flat != EOD]
    ids, times = np.unique(content, return_counts=True)
    per_row = np.bincount(owner[content], minlength=n_rows)
    return per_row, ids, times


@pytest.mark.parametrize("world_size,micro_batch", [(1, 1), (1, 2), (2, 1), (2, 2), (3, 1), (3, 2)])
def test_an_epoch_covers_every_token_of_the_split_once_across_ranks(ident, world_size, micro_batch):
    manifest, rows, owner, _ = ident
    seq_len = 23
    per_rank = []
    for rank in range(world_size):
        w, _s, tokens_per_epoch = epoch_windows(manifest, rank=rank, seq_len=seq_len, micro_batch=micro_batch, world_size=world_size)
        per_rank.append(w)
    assert len({len(w) for w in per_rank}) == 1  # every rank takes the same number of steps
    everything = np.concatenate(per_rank)
    total = sum(len(r.tokens) for r in rows)
    assert everything.size == tokens_per_epoch == len(everything) * (seq_len + 1)
    tail = total - everything.size
    assert 0 <= tail < world_size * micro_batch * (seq_len + 1)  # the dropped tail is under one global step

    per_row, _ids, times = counts_per_row(everything, owner, len(rows))
    assert (times == 1).all()  # no token, so no row and no part of a document, is seen twice
    lengths = np.array([len(r.tokens) - 1 for r in rows])
    assert (per_row <= lengths).all() and (lengths - per_row).sum() <= tail  # only the tail is missing
    assert (everything == EOD).sum() >= len(rows) - tail  # the eods, too
    ranks = [set(np.unique(w[w != EOD]).tolist()) for w in per_rank]
    assert all(not (a & b) for a, b in itertools.combinations(ranks, 2))

    # Windows are cut from the packed stream: inside a window each token is followed by the next
    # token of its row, and an eod by the first token of some row.
    successor = {}
    for r in rows:
        body = r.tokens[:-1].tolist()
        successor.update(zip(body, body[1:] + [EOD]))
    firsts = {int(r.tokens[0]) for r in rows}
    for window in everything[:200]:
        for a, b in zip(window[:-1].tolist(), window[1:].tolist()):
            assert (b in firsts) if a == EOD else b == successor[a]


def test_copies_are_distinct_rows_each_seen_once_per_epoch(ident, plain):
    manifest, rows, owner, _ = ident
    w, _, _ = epoch_windows(manifest, seq_len=31, micro_batch=2)
    per_row, _, times = counts_per_row(w, owner, len(rows))
    assert (times == 1).all()
    by_doc = {}
    for i, r in enumerate(rows):
        by_doc.setdefault(r.doc_id, []).append(i)
    repeated = [ids for ids in by_doc.values() if len(ids) > 1]
    assert len(repeated) >= 10
    lengths = np.array([len(r.tokens) - 1 for r in rows])
    complete = per_row == lengths
    assert sum(all(complete[i] for i in ids) for ids in repeated) >= len(repeated) - 2  # both copies, whole

    # Realistic shards, where copies carry the same tokens: the stream reads each (doc_id, copy)
    # row once, so the epoch holds each token value as often as the split's rows do (bar the tail).
    ws, _, tokens_per_epoch = epoch_windows(plain, seq_len=31, micro_batch=2)
    expected = np.bincount(np.concatenate([r.tokens for r in read_rows(plain)]), minlength=300)
    got = np.bincount(ws.ravel(), minlength=300)
    assert (got <= expected).all() and (expected - got).sum() == expected.sum() - tokens_per_epoch


def test_order_is_a_pure_function_of_seed_epoch_and_position(ident):
    manifest = ident[0]
    settings = {"seq_len": 16, "micro_batch": 2, "world_size": 2, "rank": 1}
    a = take(TokenStream(manifest, prefetch=0, **settings), 30)
    b = take(TokenStream(manifest, prefetch=3, **settings), 30)
    assert all(torch.equal(x1, x2) and torch.equal(y1, y2) for (x1, y1), (x2, y2) in zip(a, b))
    assert all(torch.equal(x[:, 1:], y[:, :-1]) for x, y in a)  # y is x shifted by one
    c = take(TokenStream(manifest, prefetch=0, seed=1, **settings), 30)
    assert not all(torch.equal(x1, x2) for (x1, _), (x2, _) in zip(a, c))

    s = TokenStream(manifest, prefetch=0, **settings)
    e0, e1 = s._plan(0), s._plan(1)
    assert not np.array_equal(e0.order, e1.order)
    assert np.array_equal(np.sort(e0.order), np.sort(e1.order)) and e0.split_tokens == e1.split_tokens
    both = {k: v for k, v in settings.items() if k != "rank"}
    w0 = np.concatenate([epoch_windows(manifest, epoch=0, rank=r, **both)[0] for r in range(2)])
    w1 = np.concatenate([epoch_windows(manifest, epoch=1, rank=r, **both)[0] for r in range(2)])
    assert not np.array_equal(w0, w1)
    # the same tokens, bar each epoch's own dropped tail
    owner, n = ident[2], len(ident[1])
    c0, c1 = counts_per_row(w0, owner, n)[0], counts_per_row(w1, owner, n)[0]
    assert np.abs(c0 - c1).sum() < 2 * settings["world_size"] * settings["micro_batch"] * (settings["seq_len"] + 1)


@pytest.mark.parametrize("prefetch", [0, 2])
def test_resume_gives_the_batches_an_uninterrupted_run_would_have(ident, prefetch):
    manifest = ident[0]
    settings = {"seq_len": 20, "micro_batch": 2, "world_size": 2, "rank": 1, "seed": 7}
    steps = TokenStream(manifest, prefetch=0, **settings).steps_per_epoch
    reference = take(TokenStream(manifest, prefetch=0, **settings), steps + 8)
    for k in (0, 5, steps - 2, steps - 1, steps, steps + 3):
        first = TokenStream(manifest, prefetch=prefetch, **settings)
        it = iter(first)
        for i in range(k):
            x, y = next(it)
            assert torch.equal(x, reference[i][0])
        time.sleep(0.01)  # let the prefetch thread run ahead: the state must not follow it
        state = json.loads(json.dumps(first.state_dict()))
        # global: windows of both ranks (2 x micro_batch 2 per micro step) since the epoch began
        assert (state["epoch"], state["position"]) == (k // steps, k % steps * 4)
        assert state["tokens_consumed"] == k * 4 * 21 == first.tokens_consumed
        resumed = TokenStream(manifest, prefetch=prefetch, **settings)
        resumed.load_state_dict(state)
        assert resumed.epoch == state["epoch"] and resumed.tokens_consumed == state["tokens_consumed"]
        for i, (x, y) in enumerate(take(resumed, 5)):
            assert torch.equal(x, reference[k + i][0]) and torch.equal(y, reference[k + i][1]), (k, i)
        # the interrupted stream itself continues where its consumer stopped, too
        assert torch.equal(next(it)[0], reference[k][0])
        del it
        first.close()


def test_resume_from_rank_0s_state_on_another_rank(ident):
    manifest = ident[0]
    settings = {"seq_len": 16, "micro_batch": 1, "world_size": 2, "prefetch": 0}
    r0 = TokenStream(manifest, rank=0, **settings)
    take(r0, 7)
    r1 = TokenStream(manifest, rank=1, **settings)
    r1.load_state_dict(r0.state_dict())
    assert torch.equal(take(r1, 1)[0][0], take(TokenStream(manifest, rank=1, **settings), 8)[7][0])


def test_resume_with_other_settings_says_what_differs(ident, tmp_path):
    manifest = ident[0]
    s = TokenStream(manifest, seq_len=16, micro_batch=2, world_size=2, prefetch=0)
    take(s, 3)
    state = s.state_dict()
    with pytest.raises(ValueError, match=r"global_batch \(saved 4, now 6\).*must use the same"):
        TokenStream(manifest, seq_len=16, micro_batch=2, world_size=3, prefetch=0).load_state_dict(state)
    with pytest.raises(ValueError, match=r"seq_len \(saved 16, now 32\)"):
        TokenStream(manifest, seq_len=32, micro_batch=2, world_size=2, prefetch=0).load_state_dict(state)
    with pytest.raises(ValueError, match=r"seed \(saved 0, now 3\), global_batch \(saved 4, now 2\)"):
        TokenStream(manifest, seq_len=16, micro_batch=1, world_size=2, seed=3, prefetch=0).load_state_dict(state)
    other = write_test_shards(tmp_path, identifiable=True, docs=160, seed=9)
    with pytest.raises(ValueError, match="manifest"):
        TokenStream(other, seq_len=16, micro_batch=2, world_size=2, prefetch=0).load_state_dict(state)


def test_val_split_is_by_document_and_near_its_fraction(tmp_path):
    manifest = write_test_shards(tmp_path, identifiable=True, docs=400, seed=3)
    rows = read_rows(manifest)
    owner = token_rows(rows, vocab_size(manifest))
    settings = {"seq_len": 16, "micro_batch": 1, "val_fraction": 0.2}
    wt, train, _ = epoch_windows(manifest, split="train", **settings)
    wv, val, _ = epoch_windows(manifest, split="val", **settings)
    docs_of = lambda w: {rows[i].doc_id for i in np.unique(owner[w[w != EOD]])}
    seen_train, seen_val = docs_of(wt), docs_of(wv)
    assert seen_train and seen_val and not (seen_train & seen_val)
    in_val = {r.doc_id for r in rows if doc_split_value(r.doc_id) < 0.2}
    assert seen_val <= in_val and not (seen_train & in_val)
    assert val.rows == sum(r.doc_id in in_val for r in rows) and train.rows + val.rows == len(rows)
    assert 0.12 < len(in_val) / len({r.doc_id for r in rows}) < 0.28
    assert train.split_tokens + val.split_tokens == sum(len(r.tokens) for r in rows)
    with pytest.raises(ValueError, match="val_fraction"):
        TokenStream(manifest, seq_len=16, micro_batch=1, split="val")


@pytest.mark.parametrize("weights", [{"books": 2.0}, {"web": 0.0}, {"books": 0.5}, {"web": 1.5, "books": 0.0}])
def test_source_weights_repeat_drop_or_thin_rows_as_computed(ident, weights):
    manifest, rows, owner, _ = ident
    seq_len, micro_batch, epoch = 16, 2, 1
    w, _, tokens_per_epoch = epoch_windows(manifest, seq_len=seq_len, micro_batch=micro_batch, epoch=epoch, source_weights=weights, seed=4)
    weight = np.array([weights.get(r.source, 1.0) for r in rows])
    u = np.array([row_uniform(4, epoch, r.doc_id, r.copy) for r in rows])
    expected = np.floor(weight).astype(int) + (u < weight - np.floor(weight))
    lengths = np.array([len(r.tokens) - 1 for r in rows])
    per_row, ids, times = counts_per_row(w, owner, len(rows))
    assert (times <= expected[owner[ids]]).all()  # no token more often than its row's count
    tail = int((expected * (lengths + 1)).sum()) - tokens_per_epoch
    assert 0 <= tail < micro_batch * (seq_len + 1)
    assert 0 <= int((expected * lengths - per_row).sum()) <= tail
    for source in ("web", "books"):
        mine = np.array([r.source == source for r in rows])
        base = int(lengths[mine].sum())
        got = int(per_row[mine].sum())
        target = weights.get(source, 1.0)
        if target == 0:
            assert got == 0
        elif target == int(target):
            assert target * base - tail <= got <= target * base
        else:
            assert abs(expected[mine].mean() - target) < 0.15  # about 0.5 or 1.5 times the rows
    with pytest.raises(ValueError, match="unknown source"):
        TokenStream(manifest, seq_len=16, micro_batch=1, source_weights={"news": 2.0})


def test_a_corrupted_shard_fails_before_any_batch_naming_it(tmp_path):
    manifest = write_test_shards(tmp_path, docs=60, rows_per_shard=20)
    path = os.path.join(tmp_path, "shard-00001.arrow")
    raw = bytearray(pathlib.Path(path).read_bytes())
    raw[len(raw) // 2] ^= 0x01
    pathlib.Path(path).write_bytes(bytes(raw))
    with pytest.raises(ManifestError, match="shard-00001.arrow"):
        next(iter(TokenStream(manifest, seq_len=8, micro_batch=1)))


def test_prefetch_thread_stops_and_the_state_is_what_was_received(plain):
    s = TokenStream(plain, seq_len=16, micro_batch=2, prefetch=4)
    it = iter(s)
    for _ in range(3):
        x, y = next(it)
        assert x.dtype == torch.long and x.shape == (2, 16) and y.shape == (2, 16)
        assert int(x.max()) < 300
    deadline = time.monotonic() + 5
    while s._queue.qsize() < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    thread = s._thread
    assert thread.is_alive() and thread.daemon and s._queue.qsize() == 4  # the thread ran ahead
    assert s.state_dict()["position"] == 6  # ... the state did not
    del it  # the iterator's end stops its thread
    assert not thread.is_alive()
    it = iter(s)
    next(it)
    thread = s._thread
    s.close()
    assert not thread.is_alive() and s.state_dict()["position"] == 8
    with pytest.raises(StopIteration):  # a closed iterator ends; iter(s) starts a new one
        next(it)
    before = threading.active_count()
    s.load_state_dict(s.state_dict())
    assert threading.active_count() <= before


def test_too_small_a_split_for_one_step_is_refused_up_front(plain):
    with pytest.raises(ValueError, match="fewer than one global batch"):
        TokenStream(plain, seq_len=4096, micro_batch=8, world_size=4)


def global_batches(manifest, world_size, micro_batch, steps, state=None, **settings):
    """Per optimizer step, the sorted windows (as tuples) all ranks received: [steps][global_batch]."""
    ranks = [TokenStream(manifest, rank=r, world_size=world_size, micro_batch=micro_batch, prefetch=0, **settings) for r in range(world_size)]
    if state is not None:
        for s in ranks:
            s.load_state_dict(state)
    accum = ranks[0].accumulation
    per_rank = [windows(take(s, steps * accum)) for s in ranks]
    out = []
    for step in range(steps):
        rows = np.concatenate([w[step * accum * micro_batch : (step + 1) * accum * micro_batch] for w in per_rank])
        out.append(sorted(map(tuple, rows.tolist())))
    return out, ranks[0].state_dict()


def test_a_global_batch_is_the_same_windows_on_any_number_of_ranks(ident):
    manifest = ident[0]
    settings = {"seq_len": 16, "global_batch": 6, "seed": 3}
    steps = TokenStream(manifest, micro_batch=6, prefetch=0, **settings).steps_per_epoch + 3  # into the second epoch
    one, _ = global_batches(manifest, 1, 6, steps, **settings)
    for world_size, micro_batch in ((1, 2), (2, 1), (2, 3), (3, 1), (3, 2), (6, 1)):
        assert global_batches(manifest, world_size, micro_batch, steps, **settings)[0] == one, (world_size, micro_batch)
    with pytest.raises(ValueError, match="global_batch 6 is not a positive multiple of micro_batch 2 x world_size 2"):
        TokenStream(manifest, micro_batch=2, world_size=2, **settings)


@pytest.mark.parametrize("before, after", [((2, 1), (3, 1)), ((2, 1), (1, 2)), ((3, 2), (2, 3)), ((1, 6), (6, 1))])
def test_a_state_between_global_batches_resumes_on_another_world_size(ident, before, after):
    manifest = ident[0]
    settings = {"seq_len": 16, "global_batch": 6, "seed": 5}
    reference, _ = global_batches(manifest, 2, 3, 12, **settings)
    k = 4
    first, state = global_batches(manifest, *before, k, **settings)
    assert first == reference[:k]
    state = json.loads(json.dumps(state))
    assert state["position"] % 6 == 0 and state["tokens_consumed"] == k * 6 * 17
    rest, _ = global_batches(manifest, *after, 12 - k, state=state, **settings)
    assert rest == reference[k:]  # every window once, none twice, whatever the sequence of world sizes


def test_a_state_inside_a_global_batch_needs_the_same_ranks(ident):
    manifest = ident[0]
    settings = {"seq_len": 16, "global_batch": 6, "prefetch": 0}
    s = TokenStream(manifest, micro_batch=1, world_size=2, **settings)
    take(s, 1)  # one of the step's 3 micro batches
    state = s.state_dict()
    assert state["position"] == 2
    with pytest.raises(ValueError, match=r"inside a global batch with another world_size \(saved 2, now 3\)"):
        TokenStream(manifest, micro_batch=1, world_size=3, **settings).load_state_dict(state)
    same = TokenStream(manifest, micro_batch=1, world_size=2, rank=1, **settings)
    same.load_state_dict(state)
    assert torch.equal(take(same, 1)[0][0], take(TokenStream(manifest, micro_batch=1, world_size=2, rank=1, **settings), 2)[1][0])
