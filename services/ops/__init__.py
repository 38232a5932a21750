"""Ops: what the queues, workers, dead letters, sources, sends and outbox look like, and steering them.

Reads the broker itself (dramatiq's Redis key layout, or the embedded StubBroker's memory) and the
store of record; imports ``services.core`` only.
"""
