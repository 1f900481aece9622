"""codecs stage."""
