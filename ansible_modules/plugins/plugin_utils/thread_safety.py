# Copyright: (c) 2026, rb2ansible contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Guards against CPython defects that only show when several threads of one process run Ansible code."""

from __future__ import annotations

import ast
import builtins
import threading

from ansible.executor import module_common


def serialise_ast_construction() -> None:
    """Python ASTs are built one thread at a time in this process.

    CPython (3.11 here) counts the depth of an AST it turns into Python objects in one counter per interpreter,
    not per thread (gh-106905). When the garbage collector runs during that conversion, another thread can
    convert its own AST meanwhile, and one of them fails with "SystemError: AST constructor recursion depth
    mismatch" (seen here with `file` children of a block). Ansible builds ASTs in two places a child reaches:
    a module's payload (module_common finds its imports with compile(..., PyCF_ONLY_AST)) and ast.parse
    (ast.literal_eval among others). The lock costs nothing measurable: the conversion holds the GIL anyway."""
    if getattr(ast.parse, "rb2ansible_serialised", False):
        return
    lock = threading.RLock()
    ast.parse = _locked(ast.parse, lock)
    # module_common calls the builtin by its bare name: a module global of that name comes first
    module_common.compile = _locked(builtins.compile, lock)


def _locked(function, lock):
    def locked(*args, **kwargs):
        with lock:
            return function(*args, **kwargs)

    locked.rb2ansible_serialised = True
    return locked
