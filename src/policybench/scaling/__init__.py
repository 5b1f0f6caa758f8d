"""policybench sweep: how latency grows along one or two axes of settings.

An axis is a list of values for the number of cameras, the image size, torch's threads, or any
field of a policy's config (``--set diffusion.num_inference_steps=5,10,25``). Every point of the
grid is measured exactly as ``run`` measures (same loop, same samples, each policy in a process
of its own) and kept in the results file with its point (``PolicyResult.point``, shown as
``act[cameras=2]``), so that report, plot and compare read a sweep like any run. Then, per policy
and axis, a straight line is fitted to the refill medians (``fit``), and with a control rate, the
largest value on the axis that still holds it (``verdict``). ``axes`` parses the axes, ``run``
measures the grid.
"""
