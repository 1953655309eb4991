"""The central system on `websockets`: listener, station identity, security profiles, approval. HA-free."""
