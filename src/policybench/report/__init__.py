"""Pure renderers: results in, text out. Nothing here runs a policy."""
