"""Workarounds for Apache Beam bugs that lose or corrupt data, applied by the entry point."""


def flush_threaded_workers_between_elements() -> None:
    """The DirectRunner's multi_threading mode runs in-process gRPC SDK workers whose output
    streams a timer thread also flushes every second (worker_handlers.DATA_BUFFER_TIME_LIMIT_MS).
    That flush does not exclude the thread that is encoding elements into the same buffer
    (data_plane.TimeBasedBufferingClosableOutputStream takes a lock the writer never takes, Beam
    2.60 to 2.77 at least), so once a bundle runs longer than a second it can send half an element,
    or drop the bytes written between get() and _clear(). We saw both: "Unknown type tag" decode
    errors, and documents missing from the run's accounting. A limit <= 0 gives the workers the
    size-based stream, which flushes only between elements, as the multi_processing workers have.
    Only latency to the runner changes (a batch pipeline has none to lose)."""
    from apache_beam.runners.portability.fn_api_runner import worker_handlers

    worker_handlers.DATA_BUFFER_TIME_LIMIT_MS = -1
