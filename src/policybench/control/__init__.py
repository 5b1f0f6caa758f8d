"""Real-time verdicts: can a policy hold a control rate?

paced.py runs a control loop at a fixed rate (sync: select_action on the loop's thread; async:
chunks computed by a background worker while the loop pops actions); metrics.py turns its
ticks into figures; virtual.py replays measured or declared costs on a virtual clock, which is
how simulate.py answers from a results file without running any policy.
"""
