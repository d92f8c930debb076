"""The operator's rules, shared by the CLI and the panel: accounts, users, keys, lists, attributes.

Each function takes an opened Store, applies the rule, and raises a named domain error
(`cee.domain.errors`) when the rule says no, so every front end words a refusal the same way.
"""
