"""Face detection by stage (the public entry point is :mod:`cosbeauty.imaging.faces`).

One module per stage: :mod:`.threads` (helper pool), :mod:`.models` (MediaPipe/LiteRT models),
:mod:`.common` (Face, candidates, tuning constants), :mod:`.imageops` (shrinks, borders, windows,
skin gate), :mod:`.whole` (whole-image passes), :mod:`.windows` (grey window pass),
:mod:`.proposals` (small-face proposal pass), :mod:`.small` (which small-face pass runs),
:mod:`.candidates` (merging, selection, which passes run), :mod:`.landmarks` (candidate ->
verified Face) and :mod:`.finish` (landmark all candidates, filter, dedupe). Nothing here imports
MediaPipe or LiteRT at import time.
"""
