"""The latent GAN algorithm's swappable parts, each chosen by name in a run's config: the objective (``objectives``:
the loss pair G and D play, and what D's output means to it), the augmentation of D's inputs (``augment``:
DiffAugment) and the average of G's weights that the app loads (``ema``). The trainers in gan_core.train run them;
the evaluation, health checks and network tables read an objective's reading of D's output. Import the modules
themselves (``from gan_core.algorithm import objectives``): nothing is re-exported here.
"""
