"""policybench: steady-state inference latency of LeRobot policies, told apart by step and refill."""

__version__ = "0.1.0"
