"""Optional speed: the cache, the loader's files in it, and the folder as indexes and groups.

Only the application layer (and ``report``, which replays stored results) imports the store.
"""
