"""What every codec round trip returns: the decoded data plus the bytes the encoder really wrote.

Codecs are pure functions (STYLE.md, practice 5): data in, decoded data and measured bytes out, so every curve of
the Helmholtz method can be drawn against real bits per pixel (or per second), not only against nominal levels
(JPEG quality q, MP3 bitrate).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class CodecResult:
    """One codec round trip over a batch of items.

    ``data``: the decoded items, same shape and dtype as the input.
    ``total_bytes``: int64 per item, the whole encoded file (headers, tables and payload).
    ``payload_bytes``: int64 per item, the JPEG entropy-coded scan data (SOS…EOI, headers and tables excluded) or the
    MP3 frame data (ID3/Xing/LAME tags excluded). Headers dominate tiny files (a flat 28×28 JPEG is 342 bytes at
    every quality), so the payload is the honest measure of content bits.
    ``encoded``: the encoded files themselves, only when asked for (``keep_encoded=True``), for writing to disk.
    """

    data: np.ndarray
    total_bytes: np.ndarray
    payload_bytes: np.ndarray
    encoded: list[bytes] | None = None

    def __post_init__(self) -> None:
        n = len(self.data)
        assert self.total_bytes.shape == (n,) and self.payload_bytes.shape == (n,), "one byte count per item"
        assert self.encoded is None or len(self.encoded) == n, "one encoded file per item"

    def __len__(self) -> int:
        return len(self.data)
