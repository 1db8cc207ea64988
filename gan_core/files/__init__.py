"""Files as the app reads and writes them: ``disk`` (atomic replaces, appends that survive a kill, tolerant JSON and
JSONL readers, locks, hashes: every file a reader may see at any moment is whole) and ``pictures`` (pixel ranges,
grids, PNG and GIF bytes, the guarded decoder of user pictures). Import the modules themselves
(``from gan_core.files import disk, pictures``): nothing is re-exported here.
"""
