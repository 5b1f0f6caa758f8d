"""The child side: what runs in a measuring process (``python -m policybench.measure.child``),
which imports torch and, through the adapter, LeRobot. The parent process never imports this
package; it names its entry point (orchestrate/children.py) and reads back JSON."""
