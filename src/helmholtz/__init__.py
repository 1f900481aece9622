"""helmholtz: the Helmholtz method as a toolkit.

Measures how much of a sensor dataset is content and how much is noise, by training classifiers on perceptually
compressed copies of it (JPEG at quality q, MP3 at a bitrate) and finding the knee N_approx where accuracy collapses.

Importing this package is cheap and never imports torch: the heavy stages load only when used.
"""

__version__ = "0.1.0"
