"""The codecs stage: every codec as data (`registry`), its round trip (the decoded data and the bytes really
written), the measured statistics of a level, a dataset compressed once per level (`cache`), and the (codec, level)
points of a grid (`points`). It may import the shared base, `data` and `synth`; never torch, nothing later.
"""
