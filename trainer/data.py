"""TokenStream: the pipeline's token shards as an endless, resumable stream of training batches.

    stream = TokenStream("runs/x/tokens/manifest.json", seq_len=1024, micro_batch=8, global_batch=256,
                         rank=rank, world_size=world_size, seed=0, val_fraction=0.001)
    for x, y in stream:             # LongTensor [micro_batch, seq_len] each; y is x shifted by one
        ...
    state = stream.state_dict()     # small and JSON-able; load_state_dict(state) resumes exactly,
                                    # on any number of ranks when taken between global batches

Semantics
---------
Verification. Every shard's sha256 is checked against the manifest (``TokenData.open_shard``)
when the stream is built, before any batch exists: a mismatch raises ``ManifestError`` naming
the shard. Construction therefore reads every shard once (about 1 GB/s of sha256 per process).

Memory-mapped tokens. Shards stay memory-mapped; the stream keeps, per Arrow chunk, the
ListArray's flat ``values`` and ``offsets`` as zero-copy numpy views, plus small per-row numpy
arrays (chunk id int32, start int64, length int32, source id int16 and, only when a val split
or source weights need it, a 64-bit row key): about 20 to 30 bytes a row. Token ids are never
turned into Python objects.

Validation split, by document. A row is in "val" iff ``doc_split_value(doc_id) < val_fraction``,
where the value is the first 8 bytes of blake2b(doc_id) scaled to [0, 1): it depends on the
doc_id alone, so every copy of a document lands on the same side, and it is stable across runs,
processes and Python versions. ``val_fraction=0`` means no val split (``split="val"`` is then a
ValueError); the doc_ids are then not even read.

Source re-weighting (optional, on top of the mixture the pipeline already wrote).
``source_weights={source: w}`` makes each row of that source appear ``floor(w) + (u < frac(w))``
times in an epoch, with ``u = row_uniform(seed, epoch, doc_id, copy)`` a stable hash in [0, 1);
sources not named weigh 1, weight 0 drops a source, an unknown source name is a ValueError.
Weights apply to whichever split the stream reads. With a fractional weight the number of rows,
and so ``windows_per_epoch``/``tokens_per_epoch``, can change from epoch to epoch.

Order: a pure function of (seed, epoch, position). For each epoch the split's rows (repeated by
their weights) are shuffled by a numpy ``Generator(PCG64(blake2b(seed, epoch)))`` permutation
and concatenated into one token stream: every row already ends with the end-of-document id, so
packing is concatenation, and a window may span several documents (or part of one). The stream
is cut into consecutive non-overlapping windows of ``seq_len + 1`` tokens; x is a window's first
``seq_len`` tokens and y its last ``seq_len``. The tail shorter than a window is dropped, and the
number of windows is rounded down to a multiple of ``global_batch`` (the dropped tail is shorter
than one global batch: ``global_batch * (seq_len + 1)`` tokens). None of this depends on the
number of ranks: the epoch's windows, in order, are a function of (seed, epoch) alone.

Global batch g is windows ``[g * global_batch, (g + 1) * global_batch)``; an optimizer step takes
one. Rank r of W takes its part of it, ``global_batch / W`` windows, as ``accumulation =
global_batch / (W * micro_batch)`` micro batches: micro batch m of the step holds windows
``g * global_batch + (m * micro_batch + j) * W + r`` for j in [0, micro_batch). (With no
accumulation this is window w on rank ``w % W``.) The ranks' micro batches of one step together
are the whole global batch, whatever W. Every token of
the split except the dropped tail is in exactly one window per epoch over all ranks: no document
row is seen twice in an epoch (unless a source weight above 1 repeats it), and the copies the
pipeline wrote of a document (same doc_id, copy 1, 2, ...) are distinct rows. When an epoch's
windows are used up the next epoch, with a new permutation, starts: iteration never ends.

Locating a window. Per epoch the stream holds the permuted row ids (int32 below 2**31 rows) and
the cumulative lengths of the permuted rows (int64, one ``np.cumsum``): 12 bytes a row, computed
lazily when the epoch is first needed (the two most recently used epochs are cached: the one
the consumer is in and the one the prefetch thread is preparing). A batch's micro_batch windows
are found with two ``np.searchsorted`` calls on the cumulative lengths; numpy index arithmetic
turns them into the (chunk, start, length) pieces they cover, and the batch is one
``np.concatenate`` of those memory-mapped slices into an int64 buffer (about 0.1 ms for 8
windows of 1025 tokens). The permutation is a numpy array over rows, which is fine up to about
10**8 rows: ~1.2 GB per cached epoch plus the per-row arrays above, an epoch's plan takes about
1 s per 10**7 rows (3 s with fractional source weights), and hashing the doc_ids (only for a val
split or source weights) about 0.5 s per 10**6 rows at construction.

Prefetch. With ``prefetch > 0`` a daemon thread prepares up to ``prefetch`` batches ahead (in
pinned memory when CUDA is available) so the training loop does not wait on data; it stops
when the iterator is closed or garbage-collected, on ``close()``, and on ``load_state_dict``.
``state_dict()`` describes what the consumer has *received*, never what the thread prepared.
One iterator is live at a time: a new ``iter(stream)`` continues from what the consumer has
received and retires the previous iterator.

Counting. ``position`` is global: the windows all ranks together have received in the current
epoch (every rank receives its micro batches in step with the others; it is a multiple of
``global_batch`` between optimizer steps and wraps to 0 as the epoch advances). Token counts are
stream tokens, ``seq_len + 1`` per window: ``tokens_per_epoch`` is the tokens in this split's
windows over all ranks (split tokens minus the dropped tail) and ``tokens_consumed`` the tokens
in the windows all ranks have received since the start (the model predicts ``seq_len`` of each
window's tokens).

Resume. The state is global, the same on every rank. ``load_state_dict`` of a state saved with
the same manifest (its file's sha256), seed, split, val_fraction, source_weights, seq_len and
global_batch makes the next global batch the one an uninterrupted run would have produced;
any of these differing is a ValueError. Taken between global batches (as a checkpoint is), the
state resumes on any world_size and micro_batch that split global_batch: the new ranks take
their parts of the same next global batch. Taken inside one (after some micro batches of a
step), it needs the same world_size and micro_batch. The rank may always differ.
"""

import hashlib
import math
import queue
import threading
from dataclasses import dataclass

import numpy as np
import torch

from schemas.reader import TokenData

STATE_VERSION = 2  # 1: per-rank positions, world_size fixed
_TWO_53 = float(2**53)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64's finalizer on a uint64 array (wrapping arithmetic): a stable bit mixer."""
    x = x ^ (x >> np.uint64(30))
    x = x * _M1
    x = x ^ (x >> np.uint64(27))
    x = x * _M2
    return x ^ (x >> np.uint64(31))


def _unit(x: np.ndarray) -> np.ndarray:
    """uint64 -> float64 in [0, 1) from the top 53 bits."""
    return (x >> np.uint64(11)).astype(np.float64) / _TWO_53


def _key(label: str, seed: int, epoch: int, size: int = 8) -> int:
    digest = hashlib.blake2b(f"corpusforge.trainer.data/{label}:{seed}:{epoch}".encode(), digest_size=size).digest()
    return int.from_bytes(digest, "little")


def _doc_hashes(doc_ids) -> np.ndarray:
    """[n, 2] uint64: blake2b-128 of each doc_id. Column 0 decides the split, column 1 keys rows."""
    raw = b"".join(hashlib.blake2b(d.encode("utf-8"), digest_size=16).digest() for d in doc_ids)
    return np.frombuffer(raw, dtype="<u8").reshape(-1, 2).astype(np.uint64)


def _row_keys(doc_hi: np.ndarray, copy: np.ndarray) -> np.ndarray:
    return _mix64(doc_hi ^ _mix64(copy.astype(np.uint64) + _GOLDEN))


def _row_uniforms(row_keys: np.ndarray, seed: int, epoch: int) -> np.ndarray:
    return _unit(_mix64(row_keys ^ np.uint64(_key("weights", seed, epoch))))


def doc_split_value(doc_id: str) -> float:
    """The value in [0, 1) that puts a document in "val" when it is below val_fraction."""
    return float(_unit(_doc_hashes([doc_id])[:, 0])[0])


def row_uniform(seed: int, epoch: int, doc_id: str, copy: int) -> float:
    """The u in [0, 1) that decides a fractional source weight for one row in one epoch."""
    keys = _row_keys(_doc_hashes([doc_id])[:, 1], np.array([copy]))
    return float(_row_uniforms(keys, seed, epoch)[0])


@dataclass(frozen=True)
class _Plan:
    epoch: int
    order: np.ndarray  # row ids in the epoch's order (with repeats from source weights)
    cum: np.ndarray  # int64 cumulative lengths of the ordered rows
    windows: int  # global windows in the epoch, a multiple of global_batch
    split_tokens: int  # tokens of the epoch's rows, dropped tail included


class _Error:
    def __init__(self, error: BaseException):
        self.error = error


class TokenStream:
    def __init__(
        self,
        manifest_path: str,
        *,
        seq_len: int,
        micro_batch: int,
        global_batch: int | None = None,
        rank: int = 0,
        world_size: int = 1,
        seed: int = 0,
        split: str = "train",
        val_fraction: float = 0.0,
        source_weights: dict[str, float] | None = None,
        prefetch: int = 2,
    ):
        if seq_len < 1 or micro_batch < 1:
            raise ValueError(f"seq_len and micro_batch must be positive, got {seq_len} and {micro_batch}")
        if world_size < 1 or not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} is not in [0, world_size={world_size})")
        if split not in ("train", "val"):
            raise ValueError(f"split must be 'train' or 'val', got {split!r}")
        if not 0.0 <= val_fraction < 1.0:
            raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
        if split == "val" and val_fraction == 0.0:
            raise ValueError("split='val' needs val_fraction > 0: with val_fraction 0 there is no val split")
        if prefetch < 0:
            raise ValueError(f"prefetch must be >= 0, got {prefetch}")
        per_pass = micro_batch * world_size
        global_batch = per_pass if global_batch is None else global_batch
        if global_batch < 1 or global_batch % per_pass:
            raise ValueError(f"global_batch {global_batch} is not a positive multiple of micro_batch {micro_batch} x world_size {world_size}")
        self.global_batch = int(global_batch)
        self.seq_len, self.micro_batch = int(seq_len), int(micro_batch)
        self.rank, self.world_size = int(rank), int(world_size)
        self.seed, self.split, self.val_fraction = int(seed), split, float(val_fraction)
        self.prefetch = int(prefetch)

        self.data = TokenData(manifest_path)
        with open(self.data.manifest_path, "rb") as f:
            self.manifest_sha256 = hashlib.sha256(f.read()).hexdigest()
        self.eod_id = self.data.manifest.tokenizer.eod_id
        self._load_rows(source_weights)

        self._epoch, self._position, self._tokens_consumed = 0, 0, 0
        self._plans: dict[int, _Plan] = {}
        self._windows: dict[int, int] = {}
        self._plan_lock = threading.Lock()
        self._generation = 0
        self._thread: threading.Thread | None = None
        self._stop: threading.Event | None = None
        self._queue: queue.Queue | None = None
        self._pin = torch.cuda.is_available()
        self._plan(0)  # fails now, not at the first batch, when the split is too small for one step

    # ---- rows -------------------------------------------------------------------------------

    def _load_rows(self, source_weights: dict[str, float] | None) -> None:
        """Per-row arrays over all shards (verified here), restricted to the split."""
        need_hash = self.val_fraction > 0.0 or bool(source_weights)
        self._segments: list[np.ndarray] = []
        seg_ids, starts, lengths, sources, keys = [], [], [], [], []
        source_names: dict[str, int] = {name: i for i, name in enumerate(sorted(self.data.manifest.sources))}
        for index in range(len(self.data.shards)):
            table = self.data.open_shard(index)  # sha256 checked against the manifest on first open
            tokens = table.column("tokens")
            chunk_rows = [len(c) for c in tokens.chunks]
            sources_col = table.column("source").combine_chunks().dictionary_encode()
            codes = np.asarray(sources_col.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
            remap = np.array([source_names.setdefault(s, len(source_names)) for s in sources_col.dictionary.to_pylist()], dtype=np.int16)
            sources.append(remap[codes] if len(codes) else np.zeros(0, np.int16))
            if need_hash:
                hashes = _doc_hashes(table.column("doc_id").to_pylist())
                copies = table.column("copy").to_numpy()
                keys.append(np.stack([hashes[:, 0], _row_keys(hashes[:, 1], copies)], axis=1))
            for chunk, n in zip(tokens.chunks, chunk_rows):
                if n == 0:
                    continue
                values = chunk.values.to_numpy(zero_copy_only=True)
                offsets = chunk.offsets.to_numpy().astype(np.int64)
                seg_ids.append(np.full(n, len(self._segments), dtype=np.int32))
                self._segments.append(values)
                starts.append(offsets[:-1])
                lengths.append(np.diff(offsets).astype(np.int32))
        cat = lambda parts, dtype: np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype)
        seg_id, start, length, source = cat(seg_ids, np.int32), cat(starts, np.int64), cat(lengths, np.int32), cat(sources, np.int16)
        row_key = None
        if need_hash:
            hashes = np.concatenate(keys) if keys else np.zeros((0, 2), np.uint64)
            if self.val_fraction > 0.0:
                in_val = _unit(hashes[:, 0]) < self.val_fraction
                keep = np.flatnonzero(in_val if self.split == "val" else ~in_val)
                seg_id, start, length, source, hashes = seg_id[keep], start[keep], length[keep], source[keep], hashes[keep]
            row_key = np.ascontiguousarray(hashes[:, 1])
        self._seg_id, self._start, self._length, self._source, self._row_key = seg_id, start, length, source, row_key
        self.source_names = {i: name for name, i in source_names.items()}

        self.source_weights: dict[str, float] | None = None
        self._weights = None
        if source_weights:
            unknown = sorted(set(source_weights) - set(source_names))
            if unknown:
                raise ValueError(f"source_weights names unknown source(s) {unknown}; the manifest's sources are {sorted(source_names)}")
            weights = np.ones(len(source_names), dtype=np.float64)
            for name, w in source_weights.items():
                w = float(w)
                if not math.isfinite(w) or w < 0:
                    raise ValueError(f"source weight for {name!r} must be a finite number >= 0, got {w}")
                weights[source_names[name]] = w
            self.source_weights = {k: float(v) for k, v in sorted(source_weights.items())}
            self._weights = weights

    @property
    def rows(self) -> int:
        """Rows (document copies) in this split, before source weights."""
        return int(self._length.size)

    @property
    def split_tokens(self) -> int:
        """Tokens of this split's rows, before source weights."""
        return int(self._length.sum(dtype=np.int64))

    # ---- epochs -----------------------------------------------------------------------------

    def _plan(self, epoch: int) -> _Plan:
        with self._plan_lock:
            plan = self._plans.pop(epoch, None)
            if plan is None:
                plan = self._make_plan(epoch)
                self._windows[epoch] = plan.windows
            self._plans[epoch] = plan  # most recently used last
            while len(self._plans) > 2:
                del self._plans[next(iter(self._plans))]
            return plan

    def _make_plan(self, epoch: int) -> _Plan:
        n = self._length.size
        index_type = np.int32 if n < 2**31 else np.int64
        if self._weights is None:
            order = np.arange(n, dtype=index_type)
        else:
            w = self._weights[self._source]
            whole = np.floor(w)
            counts = whole.astype(np.int64) + (_row_uniforms(self._row_key, self.seed, epoch) < (w - whole))
            order = np.repeat(np.arange(n, dtype=index_type), counts)
        rng = np.random.Generator(np.random.PCG64(_key("order", self.seed, epoch, size=16)))
        rng.shuffle(order)
        cum = np.cumsum(self._length[order], dtype=np.int64)
        total = int(cum[-1]) if cum.size else 0
        windows = total // (self.seq_len + 1) // self.global_batch * self.global_batch
        if windows == 0:
            raise ValueError(
                f"the {self.split} split has {total} tokens in epoch {epoch}, fewer than one global batch "
                f"({self.global_batch} windows of seq_len+1 = {self.seq_len + 1} tokens)"
            )
        return _Plan(epoch, order, cum, windows, total)

    def _epoch_windows(self, epoch: int) -> int:
        windows = self._windows.get(epoch)
        return windows if windows is not None else self._plan(epoch).windows

    @property
    def epoch(self) -> int:
        return self._epoch

    @property
    def windows_per_epoch(self) -> int:
        """Windows this rank takes in the current epoch (a multiple of micro_batch)."""
        return self._epoch_windows(self._epoch) // self.world_size

    @property
    def steps_per_epoch(self) -> int:
        """Micro batches this rank takes in the current epoch."""
        return self.windows_per_epoch // self.micro_batch

    @property
    def accumulation(self) -> int:
        """Micro batches per rank in one global batch."""
        return self.global_batch // (self.micro_batch * self.world_size)

    @property
    def tokens_per_epoch(self) -> int:
        """Tokens in the current epoch's windows, all ranks (seq_len + 1 per window)."""
        return self._epoch_windows(self._epoch) * (self.seq_len + 1)

    @property
    def tokens_consumed(self) -> int:
        """Tokens in the windows all ranks have received since the start (seq_len + 1 per window)."""
        return self._tokens_consumed

    # ---- batches ----------------------------------------------------------------------------

    def _batch(self, epoch: int, position: int):
        """Rank's micro-batch at (epoch, global position) and the (epoch, position) that follows it."""
        plan = self._plan(epoch)
        L1, B, W = self.seq_len + 1, self.micro_batch, self.world_size
        windows = position + np.arange(B, dtype=np.int64) * W + self.rank
        starts = windows * L1
        first = np.searchsorted(plan.cum, starts, side="right")  # row holding each window's first token
        last = np.searchsorted(plan.cum, starts + (L1 - 1), side="right")  # ... and its last token
        count = last - first + 1
        ends_cum = np.cumsum(count)
        piece = np.arange(ends_cum[-1], dtype=np.int64) - np.repeat(ends_cum - count - first, count)
        row = plan.order[piece]
        row_end = plan.cum[piece]
        row_start = row_end - self._length[row]
        window_start = np.repeat(starts, count)
        lo = np.maximum(window_start, row_start)
        hi = np.minimum(window_start + L1, row_end)
        src = self._start[row] + (lo - row_start)
        segments = self._segments
        parts = [segments[s][a : a + n] for s, a, n in zip(self._seg_id[row].tolist(), src.tolist(), (hi - lo).tolist())]
        buffer = np.empty(B * L1, dtype=np.int64)
        np.concatenate(parts, out=buffer)
        xy = torch.from_numpy(buffer).view(B, L1)
        x = torch.empty((B, self.seq_len), dtype=torch.long, pin_memory=self._pin)
        y = torch.empty((B, self.seq_len), dtype=torch.long, pin_memory=self._pin)
        x.copy_(xy[:, :-1])
        y.copy_(xy[:, 1:])
        position += B * W
        if position >= plan.windows:
            epoch, position = epoch + 1, 0
        return x, y, epoch, position

    def __iter__(self):
        self._stop_thread()
        self._generation += 1
        generation = self._generation
        if self.prefetch == 0:
            return self._iter_direct(generation)
        return self._iter_prefetch(generation)

    def _iter_direct(self, generation: int):
        while generation == self._generation:
            x, y, epoch, position = self._batch(self._epoch, self._position)
            self._receive(epoch, position)
            yield x, y

    def _receive(self, epoch: int, position: int) -> None:
        self._epoch, self._position = epoch, position
        self._tokens_consumed += self.micro_batch * self.world_size * (self.seq_len + 1)

    def _iter_prefetch(self, generation: int):
        stop = threading.Event()
        q: queue.Queue = queue.Queue(maxsize=self.prefetch)
        # Pinned buffers are allocated on the consumer's CUDA device: a fresh thread would default
        # to device 0 and give every rank a context there.
        device = torch.cuda.current_device() if self._pin else None
        thread = threading.Thread(
            target=self._produce, args=(self._epoch, self._position, q, stop, device), name=f"TokenStream-prefetch-r{self.rank}", daemon=True
        )
        self._thread, self._stop, self._queue = thread, stop, q
        thread.start()
        try:
            while generation == self._generation:
                try:
                    item = q.get(timeout=1.0)
                except queue.Empty:
                    if not thread.is_alive() and q.empty():
                        raise RuntimeError("the TokenStream prefetch thread stopped without a batch or an error") from None
                    continue
                if isinstance(item, _Error):
                    raise item.error
                x, y, epoch, position = item
                self._receive(epoch, position)
                yield x, y
        finally:
            if self._thread is thread:
                self._stop_thread()
            else:
                stop.set()

    def _produce(self, epoch: int, position: int, q: queue.Queue, stop: threading.Event, device: int | None) -> None:
        try:
            if device is not None:
                torch.cuda.set_device(device)
            while not stop.is_set():
                item = self._batch(epoch, position)
                epoch, position = item[2], item[3]
                if not self._put(q, item, stop):
                    return
        except BaseException as e:  # noqa: BLE001 (handed to the consumer, which raises it)
            self._put(q, _Error(e), stop)

    @staticmethod
    def _put(q: queue.Queue, item, stop: threading.Event) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _stop_thread(self) -> None:
        thread, stop, q = self._thread, self._stop, self._queue
        self._thread = self._stop = self._queue = None
        if thread is None:
            return
        stop.set()
        while True:  # unblock a put in progress
            try:
                q.get_nowait()
            except queue.Empty:
                break
        thread.join()

    def close(self) -> None:
        """Stops the prefetch thread and retires the live iterator (iter() starts a new one)."""
        self._generation += 1
        self._stop_thread()

    # ---- state ------------------------------------------------------------------------------

    def _settings(self) -> dict:
        """What the order of windows depends on: a resume must have the same."""
        return {
            "manifest_sha256": self.manifest_sha256,
            "seed": self.seed,
            "split": self.split,
            "val_fraction": self.val_fraction,
            "source_weights": self.source_weights,
            "seq_len": self.seq_len,
            "global_batch": self.global_batch,
        }

    def _layout(self) -> dict:
        """How a global batch is cut over ranks: may change between global batches, not inside one."""
        return {"world_size": self.world_size, "micro_batch": self.micro_batch}

    def state_dict(self) -> dict:
        """What the consumer has received: resuming from it yields the next batch it would have."""
        return {
            "version": STATE_VERSION,
            "epoch": self._epoch,
            "position": self._position,
            "tokens_consumed": self._tokens_consumed,
            **self._settings(),
            **self._layout(),
        }

    def load_state_dict(self, state: dict) -> None:
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"data state version {state.get('version')!r} is not {STATE_VERSION}, the version this TokenStream reads")
        differ = [
            f"{name} (saved {state.get(name)!r}, now {value!r})"
            for name, value in self._settings().items()
            if name != "manifest_sha256" and state.get(name) != value
        ]
        if state.get("manifest_sha256") != self.manifest_sha256:
            differ.append("the manifest (its sha256 differs)")
        if differ:
            raise ValueError(
                f"cannot resume the data stream: {', '.join(differ)} differ from the saved state, and a resume must use the same "
                "manifest, seed, split, val_fraction, source_weights, seq_len and global_batch"
            )
        epoch, position = int(state["epoch"]), int(state["position"])
        if position % self.global_batch:  # inside a global batch: its remaining windows are already cut over the saved ranks
            moved = [f"{k} (saved {state.get(k)!r}, now {v!r})" for k, v in self._layout().items() if state.get(k) != v]
            if moved:
                raise ValueError(
                    f"cannot resume the data stream inside a global batch with another {', '.join(moved)}: "
                    "resume from a state taken between global batches (a checkpoint's), or with the same ranks"
                )
        if epoch < 0 or position < 0 or position % (self.micro_batch * self.world_size) or position >= self._epoch_windows(epoch):
            raise ValueError(f"data state position {position} is not a batch start inside epoch {epoch}")
        self.close()
        self._epoch, self._position = epoch, position
        self._tokens_consumed = int(state["tokens_consumed"])

    def __repr__(self) -> str:
        return (
            f"TokenStream({self.split}, rank {self.rank}/{self.world_size}, seq_len {self.seq_len}, micro_batch {self.micro_batch}, "
            f"global_batch {self.global_batch}, epoch {self._epoch}, position {self._position}/{self._epoch_windows(self._epoch)})"
        )
