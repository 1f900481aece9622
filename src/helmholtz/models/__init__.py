"""The models stage: architectures as data (`layers`: the layer vocabulary; `archs`: A–F and the residual family),
the one torch builder (`builder`), and models by name (`names`, `factory`, `catalog`); `layers`, `archs` and
`names` are torch-free. It may import the shared base and the stages before it (data … features); nothing later.
"""
