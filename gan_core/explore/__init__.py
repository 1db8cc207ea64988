"""Exploring a trained latent generator: sample grids, interpolations and GIFs (:mod:`.grids_and_gifs`), directions of
the latent space that change one thing at a time (:mod:`.directions`), projecting a picture into z
(:mod:`.picture_projection`), the generator itself as a SavedModel, TFLite or ONNX file, checked against it
(:mod:`.model_export`, one module per format: :mod:`.export_savedmodel`, :mod:`.export_tflite`,
:mod:`.export_onnx`; the app's exports of it, reused and listed: :mod:`.app_exports`), and as the ONNX graph the
browser runs, with views of its blocks (:mod:`.browser_model`)."""
