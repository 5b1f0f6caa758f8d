"""policybench: steady-state inference latency of LeRobot policies, told apart by step and refill.

The public API is the seven functions below (and the objects they return); every module of the
package is internal and may change.

    import policybench
    results = policybench.run(["act"], device="cpu", refills=3)
    results["act"].refill.median_ms
"""

__version__ = "0.1.0"

from policybench.api import compare, fleet, load, realtime, run, simulate_realtime, sweep  # noqa: E402

__all__ = ["run", "sweep", "realtime", "load", "compare", "fleet", "simulate_realtime"]
