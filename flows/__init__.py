"""Conversations declared as data (``*.yaml``) and the engine that runs them.

Each flow file names steps, message ids and transitions; ``schema`` validates
them, ``loader`` checks the cross-references, ``engine`` walks a contact through
them one inbound message at a time, and ``diagram`` draws them in Mermaid.
"""
