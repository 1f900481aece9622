"""A codec level as one value: `Level` — the codec, its integer level (None: the uncompressed original), and its
measured bits when known.

A level is parsed and checked once, where it enters (`Level.of`: the CLI's and the API's options, a stored spec
checked by `sweep.spec.validate_sweep`); the layers inside (the level feed of the sweep, the codec cache, the
registry's round trip) take the `Level` and do not check it again. Levels travel in specs and stores as the plain
(codec, int) pair they always had, so run ids and stored rows do not change.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from helmholtz.codecs import registry
from helmholtz.errors import CodecError


@dataclass(frozen=True)
class Level:
    """One point of a codec's grid. ``codec`` is a registry codec, or ``registry.REFERENCE`` ('none') for the
    original with ``value`` None. Build it with `of` (checks) or `trusted` (already checked upstream)."""

    codec: str
    value: int | None
    bits: float | None = field(default=None, compare=False)   # measured bits per pixel / second, when known

    @classmethod
    def of(cls, codec: str, value: object, *, where: str = "--levels") -> Level:
        """The level ``value`` of ``codec``, checked against the registry (a one-line CodecError names ``where``);
        ``codec`` 'none' (or a None value) is the original, which takes no level."""
        if codec == registry.REFERENCE:
            if value is not None:
                raise CodecError(f"codec 'none' takes no level; got {value!r}", where=where,
                                 fix="leave the level unset")
            return cls.original()
        if value is None:
            return cls.original()
        return cls(codec, registry.get_codec(codec).check(value, where=where))

    @classmethod
    def trusted(cls, codec: str, value: int | None) -> Level:
        """A level that was checked where it entered (a validated spec's point, a stored run's level)."""
        return cls.original() if value is None else cls(codec, int(value))

    @classmethod
    def original(cls) -> Level:
        return cls(registry.REFERENCE, None)

    @property
    def is_original(self) -> bool:
        return self.value is None

    @property
    def spec(self) -> registry.CodecSpec | None:
        """The codec's registry entry (None for the original)."""
        return None if self.is_original else registry.get_codec(self.codec)

    @property
    def label(self) -> str:
        """How the store and the tables name it ('20', 'webp:40', 'none')."""
        return registry.level_label(self.codec, self.value, check=False)

    @property
    def display(self) -> str:
        """In prose: 'q 20', '32 kbps', 'WebP q 40', 'the original'."""
        return registry.level_display(self.codec, self.value)

    def with_bits(self, bits: float | None) -> Level:
        return replace(self, bits=bits)
