"""Cuts a fixed cost of building and translating a Beam graph, without changing what runs.

Beam asks `userstate.get_dofn_specs(dofn)` about the same DoFn instance about a dozen times while it
constructs, translates and runs a ParDo (validation, to_runner_api twice, the runner's visitors,
each bundle processor). Every ask wraps every method in dir(dofn) and takes its signature with
inspect: on our graph (about 340 ParDos) that was 4,100 calls and 4.5 s of a 20 s run in the runner
process alone (cProfile, 8 MB corpus, 2 workers), before a single document was read.

The answer depends only on the DoFn's methods' default arguments, which do not change once the
instance exists, so it is remembered per instance. Entries hold a weak reference, so a DoFn is
never kept alive by the cache, and a recycled id() is detected and recomputed.
"""

import threading
import weakref

_lock = threading.Lock()  # bundle processors are built on several threads in multi_threading mode
_PRUNE_AT = 4096


def per_instance(compute):
    """compute(dofn) remembered per live DoFn instance."""
    cache: dict[int, tuple[weakref.ref, tuple]] = {}

    def get_dofn_specs(dofn):
        key = id(dofn)
        with _lock:
            hit = cache.get(key)
        if hit is not None and hit[0]() is dofn:
            return hit[1]
        specs = compute(dofn)
        try:
            ref = weakref.ref(dofn)
        except TypeError:  # no weak references to this object: not cached
            return specs
        with _lock:
            if len(cache) >= _PRUNE_AT:
                for k in [k for k, (r, _) in cache.items() if r() is None]:
                    del cache[k]
            cache[key] = (ref, specs)
        return specs

    get_dofn_specs._memoized = True
    return get_dofn_specs


def memoize_dofn_specs() -> None:
    """Idempotent; patches apache_beam.transforms.userstate.get_dofn_specs and its importers."""
    from apache_beam.runners import common
    from apache_beam.runners.direct import transform_evaluator
    from apache_beam.transforms import core, userstate

    original = userstate.get_dofn_specs
    if getattr(original, "_memoized", False):
        return
    memoized = per_instance(original)
    userstate.get_dofn_specs = memoized
    for module in (common, core, transform_evaluator):  # those that imported the function by name
        if getattr(module, "get_dofn_specs", None) is original:
            module.get_dofn_specs = memoized
