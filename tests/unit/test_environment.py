"""The machine facts a results file records: the CPU frequency governor and the thread settings."""

import pytest
import torch
from fakes import ENVIRONMENT

from policybench.environment import cpu_governor
from policybench.measure.device import describe_environment, thread_settings
from policybench.errors import UsageError
from policybench.schema import read_environment


def test_the_governor_is_read_from_sysfs(tmp_path):
    governor = tmp_path / "scaling_governor"
    governor.write_text("performance\n")
    assert cpu_governor(str(governor)) == "performance"
    assert cpu_governor(str(tmp_path / "absent")) is None  # a VM, macOS: the kernel does not say


def test_thread_settings_name_torch_and_the_variables(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    monkeypatch.delenv("MKL_NUM_THREADS", raising=False)
    assert thread_settings() == {
        "threads": torch.get_num_threads(),
        "interop_threads": torch.get_num_interop_threads(),
        "omp_num_threads": "2",
        "mkl_num_threads": None,
    }


def test_the_environment_holds_them():
    env = describe_environment("cpu")
    assert {"cpu_governor", "threads", "interop_threads", "omp_num_threads", "mkl_num_threads"} <= env.keys()
    assert read_environment(env) == env


@pytest.mark.parametrize(
    "key, value",
    [
        ("cpu_governor", 3),
        ("interop_threads", -1),
        ("interop_threads", "2"),
        ("omp_num_threads", 2),
        ("mkl_num_threads", []),
    ],
)
def test_a_bad_fact_is_refused_naming_it(key, value):
    with pytest.raises(UsageError, match=f"^environment.{key} is "):
        read_environment({**ENVIRONMENT, key: value})
