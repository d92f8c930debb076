"""`/apiv2`: the handler (`handler.py`), its parameters (`params.py`), the route table
(`routes.py`) and one module per resource (contacts, lists, attributes, privacy, requests)."""
