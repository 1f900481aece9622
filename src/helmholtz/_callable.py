"""Packages that are also API functions: ``hz.train``, ``hz.sweep`` and ``hz.report``.

``helmholtz.train``, ``helmholtz.sweep`` and ``helmholtz.report`` are subpackages, and Python sets a subpackage as an
attribute of its parent as soon as anything imports it, which would hide a function of the same name. So these
three packages are made callable instead: calling the package calls `helmholtz.api.<name>`, and attribute access
(``helmholtz.sweep.store``) stays what it always was. Nothing heavy is imported here.
"""

from __future__ import annotations

import sys
import types
from typing import Any


class APIPackage(types.ModuleType):
    """A package whose call is an API function of `helmholtz.api` (named by ``__api_function__``)."""

    def _api(self):
        from helmholtz import api

        return getattr(api, self.__dict__["__api_function__"])

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._api()(*args, **kwargs)

    @property
    def __signature__(self):
        import inspect

        return inspect.signature(self._api())


def make_callable(package: str, function: str) -> None:
    """Make the (already imported) ``package`` callable as ``helmholtz.api.<function>``."""
    module = sys.modules[package]
    module.__dict__["__api_function__"] = function
    module.__class__ = APIPackage
