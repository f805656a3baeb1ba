"""kongformance's pytest plugin (entry point ``pytest11``): options, requirement markers, stack fixtures.

Placeholder while the suite machinery is being built; see docs/architecture.md.
"""
