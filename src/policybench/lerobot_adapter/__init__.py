"""The only place policybench imports LeRobot, in policybench's terms.

Supported: LeRobot 0.6 (Python >= 3.12; the primary target) and 0.4.4 (the newest release for
Python 3.10/3.11). What differs between them is handled in these modules, by subject:
``version`` (which LeRobot is installed, what it cannot build), ``registry`` (policy types, their
config and policy classes, features, configs read from a folder), ``processors`` (a policy's
pre/post-processors and observation preparation) and ``transport`` (the async-inference
PolicyServer and what its robot client sends). Imports of LeRobot are lazy, inside functions:
importing LeRobot takes seconds, and ``import policybench`` must not.
"""

from __future__ import annotations

# Observation and action key names, the same in every supported LeRobot.
OBS_LANGUAGE_TOKENS = "observation.language.tokens"
OBS_LANGUAGE_ATTENTION_MASK = "observation.language.attention_mask"
OBS_STATE = "observation.state"
OBS_ENV_STATE = "observation.environment_state"
ACTION = "action"
