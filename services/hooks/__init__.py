"""Outgoing webhooks: endpoints editors register, told of what happens here as Standard Webhooks messages.

``endpoints`` registers and removes them (SSRF-checked, audited), ``signing`` makes secrets and signs with
the ``standardwebhooks`` package, ``messages`` writes the JSON body of an event, ``deliveries`` fans an
event out to the endpoints that asked for it and keeps each delivery's attempts and retries, ``sender``
POSTs one attempt through the SSRF guard, and ``actors`` holds the event handlers and the worker's actor.
"""
