"""The gates of a gated run: one module per gate; settings in ``settings``, order in ``runner``."""
