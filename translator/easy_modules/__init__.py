"""Easy modules: plain Python functions that rb2ansible finds, bundles and wraps as Ansible modules.

A module is a file with `run(args: dict) -> dict` (and optionally `check(args) -> dict`), found
in a runbook's modules/ directory, among the ones shipped with rb2ansible, or in an installed
package's `rb2ansible.modules` entry points. The generated Ansible module carries the
pure-Python packages it imports, so the target needs nothing but Python 3.
"""

from .discovery import ENTRY_POINT_GROUP, EasyModule, InstalledModules, available, find
from .errors import BundleError, EasyModuleError
from .generate import build_ansible_module

__all__ = ["ENTRY_POINT_GROUP", "BundleError", "EasyModule", "EasyModuleError", "InstalledModules", "available",
           "build_ansible_module", "find"]
