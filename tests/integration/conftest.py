import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session", autouse=True)
def _cache_in_tmp(tmp_path_factory):
    """Write the offline VLM architecture into a fresh cache, as on a new machine."""
    if "POLICYBENCH_CACHE" not in os.environ:
        os.environ["POLICYBENCH_CACHE"] = str(tmp_path_factory.mktemp("policybench-cache"))
    yield
