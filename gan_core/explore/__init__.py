"""Exploring a trained latent generator: sample grids, interpolations and GIFs (:mod:`.export`), directions of
the latent space that change one thing at a time (:mod:`.directions`), and projecting a picture into z
(:mod:`.projection`)."""
