"""The errors easy modules raise: a module file that cannot be used, a dependency that cannot be bundled."""

from __future__ import annotations

from ..errors import Rb2AnsibleError


class EasyModuleError(Rb2AnsibleError):
    """An easy module exists but cannot be used as written (syntax error, no run(), ambiguous name)."""

    exit_code = 2


class BundleError(EasyModuleError):
    """An easy module imports something that cannot travel to the target inside the module file."""
