"""Test helpers for easy modules: a Python without click, runbooks with modules, running a generated module."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

# A local module (modules/stamp/write.py) that imports click and two local helpers, prints, and
# starts a child process that prints: everything bundling and output capture must cope with.
STAMP = '''
    """Write a stamp file; the text is styled with click.

    Args:
        path (path, required): the file to write
        text (str): what to write
    """
    import os

    import click

    import common
    from shared import util


    def run(args):
        print("run() says hello")
        os.system("echo from a child process")
        text = click.unstyle(click.style(args.get("text", "stamp"), bold=True)) + util.SUFFIX + common.MARK
        if os.path.exists(args["path"]) and open(args["path"]).read() == text:
            return {"changed": False, "path": args["path"]}
        with open(args["path"], "w") as stream:
            stream.write(text)
        return {"changed": True, "path": args["path"], "click_from": click.__file__}


    def check(args):
        return {"changed": not os.path.exists(args["path"]), "msg": "would write " + args["path"]}
'''


def python_without(package: str, spare_dir: Path) -> str:
    """A Python 3 that cannot import `package`: /usr/bin/python3 if it lacks it, else a bare venv's.

    Running a generated module with it proves the bundle, not the environment, supplied the package.
    """
    system = shutil.which("python3", path="/usr/bin:/bin")
    if system and subprocess.run([system, "-c", f"import {package}"], capture_output=True).returncode != 0:
        return system
    # A venv without site packages of its own, made from a Python that is not this test's venv.
    base = getattr(sys, "_base_executable", sys.executable)
    target = spare_dir / f"venv-without-{package}"
    if not target.exists():
        subprocess.run([base, "-m", "venv", "--without-pip", str(target)], check=True)
    python = str(target / "bin" / "python")
    assert subprocess.run([python, "-c", f"import {package}"], capture_output=True).returncode != 0
    return python


def write_modules(runbook_dir: Path, **files: str) -> Path:
    """Files under runbook_dir/modules; "stamp__write" means modules/stamp/write.py."""
    for name, text in files.items():
        path = runbook_dir / "modules" / (name.replace("__", "/") + ".py")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return runbook_dir


def run_module(python: str, module_text: str, work: Path, args: dict, **settings) -> tuple[int, dict, str]:
    """Run a generated module as Ansible does with WANT_JSON modules: `python module.py ARGS_FILE`.

    settings become _ansible_* keys (check_mode=True -> _ansible_check_mode). Returns the exit
    code, the parsed JSON result and what went to stderr.
    """
    work.mkdir(parents=True, exist_ok=True)
    module = work / "module.py"
    module.write_text(module_text)
    arguments = work / "args.json"
    arguments.write_text(json.dumps({**args, **{f"_ansible_{k}": v for k, v in settings.items()}}))
    done = subprocess.run([python, str(module), str(arguments)], capture_output=True, text=True, timeout=60,
                          cwd=work)
    return done.returncode, json.loads(done.stdout), done.stderr
