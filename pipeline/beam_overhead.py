"""Cuts fixed costs of building and translating a Beam graph, without changing what runs.

Two questions Beam asks over and over about objects that cannot change their answer, each
remembered per live object (entries hold a weak reference, so nothing is kept alive by the cache,
and a recycled id() is detected and recomputed):

- `userstate.get_dofn_specs(dofn)`: asked about the same DoFn instance about a dozen times while
  Beam constructs, translates and runs a ParDo (validation, to_runner_api twice, the runner's
  visitors, each bundle processor). Every ask wraps every method in dir(dofn) and takes its
  signature with inspect: on our graph (about 340 ParDos) that was 4,100 calls and 4.5 s of a 20 s
  run in the runner process (cProfile, 8 MB corpus, 2 workers). The answer depends only on the
  DoFn's methods' default arguments, which do not change once the instance exists.
- `PipelineOptions.view_as(cls)`: every type check while the graph is built
  (typehints.is_consistent_with reads TypeOptions) and every applied transform asks for a view;
  each view builds an argparse parser for its class and parses the flags again, ~0.5 ms. That was
  ~3,300 views, ~1.7 s of every run. A view holds nothing of its own: it re-parses the same flags
  and shares the options' value dict (setting an option through a view writes that dict), so the
  view made the first time is handed back while the options keep the same flags and dict.
"""

import threading
import weakref

_lock = threading.Lock()  # bundle processors are built on several threads in multi_threading mode
_PRUNE_AT = 4096


def per_instance(compute, still_valid=lambda obj, answer: True):
    """compute(obj, *args) remembered per live obj and args (hashable), as long as
    still_valid(obj, answer) holds."""
    cache: dict[tuple, tuple[weakref.ref, object]] = {}

    def remembered(obj, *args):
        key = (id(obj), *args)
        with _lock:
            hit = cache.get(key)
        if hit is not None and hit[0]() is obj and still_valid(obj, hit[1]):
            return hit[1]
        answer = compute(obj, *args)
        try:
            ref = weakref.ref(obj)
        except TypeError:  # no weak references to this object: not cached
            return answer
        with _lock:
            if len(cache) >= _PRUNE_AT:
                for k in [k for k, (r, _) in cache.items() if r() is None]:
                    del cache[k]
            cache[key] = (ref, answer)
        return answer

    remembered._memoized = True
    return remembered


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


def _same_backing(options, view) -> bool:
    return view._flags is options._flags and view._all_options is options._all_options


def memoize_option_views() -> None:
    """Idempotent; patches PipelineOptions.view_as (a method: every subclass and caller sees it)."""
    from apache_beam.options.pipeline_options import PipelineOptions

    if getattr(PipelineOptions.view_as, "_memoized", False):
        return
    PipelineOptions.view_as = per_instance(PipelineOptions.view_as, _same_backing)


def cut_fixed_costs() -> None:
    """Both memos; what pipeline.run installs before it builds a graph."""
    memoize_dofn_specs()
    memoize_option_views()
