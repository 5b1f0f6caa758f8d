"""Keeps `make test-fast` fast: a test that builds a LeRobot policy must be marked slow.

Every LeRobot policy is a ``PreTrainedPolicy``; once LeRobot's module defining it is imported,
its ``__init__`` is wrapped to count the policies built, and a test not marked slow that built
one fails, naming it. (Importing a policy's modules is allowed: LeRobot 0.4.4's config registry
imports some of them.)
"""

import importlib.abc
import importlib.machinery
import sys

import pytest

_PRETRAINED = "lerobot.policies.pretrained"
_built: list[str] = []


def _count_builds(module) -> None:
    cls = module.PreTrainedPolicy
    original = cls.__init__

    def __init__(self, *args, **kwargs):
        _built.append(type(self).__name__)
        original(self, *args, **kwargs)

    cls.__init__ = __init__


class _Watch(importlib.abc.MetaPathFinder):
    """Wraps PreTrainedPolicy.__init__ as soon as LeRobot defines it."""

    def find_spec(self, name, path, target=None):
        if name != _PRETRAINED:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def exec_and_watch(module):
            exec_module(module)
            _count_builds(module)

        spec.loader.exec_module = exec_and_watch
        return spec


if _PRETRAINED in sys.modules:
    _count_builds(sys.modules[_PRETRAINED])
else:
    sys.meta_path.insert(0, _Watch())


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    _built.clear()
    outcome = yield
    if _built and item.get_closest_marker("slow") is None and outcome.excinfo is None:
        pytest.fail(
            f"{item.nodeid} builds a LeRobot policy ({_built[0]}) but is not marked slow "
            "(@pytest.mark.slow): make test-fast must not build policies",
            pytrace=False,
        )


def pytest_collection_finish(session):
    """What the imports and collection made lives for the whole session: gc.freeze() moves it out
    of the collector's reach, so the gc.collect() the runner does between policies (to release a
    policy's memory) scans what the test made, not all of torch (it took about 0.2 s a call)."""
    import gc

    gc.collect()
    gc.freeze()
