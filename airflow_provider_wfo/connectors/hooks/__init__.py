"""Thin hooks over the providers' hooks where the provider lacks what a connector needs."""
