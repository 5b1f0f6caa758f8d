"""The parent side: the plan of a run (its device and checks, asked of a child), the run over
its policies or sweep points, here or on a Ray cluster, and the child processes that measure.
Nothing here imports torch or LeRobot: measuring is handed to a child, named by its module."""
