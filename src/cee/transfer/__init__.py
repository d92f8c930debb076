"""Contacts in and out in bulk: `cee import` (over the API, with the client), `cee export`."""
