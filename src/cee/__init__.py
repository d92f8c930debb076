"""CEE: a self-hosted contact engine that speaks the Netcore CE (Smartech) /apiv2 contact API."""

__version__ = "0.1.0"
