"""The synth stage: a regenerable stand-in for the paper's audio dataset (IDMT-SMT-Audio-Effects): guitar and bass
notes rendered from a soundfont (`notes`) through the 12 effect classes (`effects`), written as a WAV folder
(`guitar`). It may import the shared base (errors, checks, fsutil, provenance) and `data`; nothing later.
"""
