"""Runs an easy module on the target; generate.py copies this file's code into every generated module."""

# This code runs on the target with whatever Python 3 it has, next to nothing else: standard library
# only, and nothing newer than Python 3.6. Its functions are named _rb2a_* so they cannot clash with
# anything the generated file defines.
import base64
import json
import os
import shutil
import sys
import tempfile
import traceback


def _rb2a_main(module_name, entry, has_check, bundle):
    """Reads the task's arguments, runs the module's run() (or check()), prints the result as JSON."""
    try:
        with open(sys.argv[1]) as stream:
            params = json.load(stream)
    except (IndexError, OSError, ValueError) as error:
        _rb2a_exit({"failed": True, "msg": "%s: expects the path of a JSON file of arguments (%s)"
                    % (module_name, error)})
    # _ansible_* keys are Ansible's settings for the module, not the runbook's arguments.
    args = dict((key, value) for key, value in params.items() if not key.startswith("_ansible_"))
    check_mode = bool(params.get("_ansible_check_mode"))
    if check_mode and not has_check:
        _rb2a_exit({"changed": False, "skipped": True,
                    "msg": "easy module %s has no check(); not run in check mode" % module_name})
    verbosity = int(params.get("_ansible_verbosity") or 0)
    workdir = tempfile.mkdtemp(prefix="rb2a-", dir=_rb2a_tmpdir(params))
    try:
        # zipimport needs a file. Ansible's own temporary directory (when writable) is removed by
        # Ansible even if this process is killed, e.g. by an async timeout.
        archive = os.path.join(workdir, "bundle.zip")
        with open(archive, "wb") as stream:
            stream.write(base64.b64decode(bundle))
        sys.path.insert(0, archive)
        result = _rb2a_call(module_name, entry, "check" if check_mode else "run", args, verbosity)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    _rb2a_exit(result)


def _rb2a_call(module_name, entry, function, args, verbosity):
    """The JSON-ready result of entry.function(args), whatever the user's code does."""
    capture = _Rb2aCapture()
    try:
        try:
            module = __import__(entry, fromlist=[function])
            result = getattr(module, function)(args)
        finally:
            stdout, stderr = capture.stop()
    except (Exception, SystemExit) as error:
        result = {"failed": True, "msg": "%s: %s" % (type(error).__name__, error)}
        if verbosity >= 1:
            result["exception"] = _rb2a_traceback(error)
    else:
        if not isinstance(result, dict):
            result = {"failed": True, "msg": "%s() of easy module %s returned %s; it must return a dict"
                      " such as {'changed': True}" % (function, module_name, type(result).__name__)}
    # Output of the user's code (and its subprocesses) would corrupt the JSON on stdout: it is returned.
    if stdout and "stdout" not in result:
        result["stdout"] = stdout
    if stderr and "stderr" not in result:
        result["stderr"] = stderr
    try:
        json.dumps(result)
    except (TypeError, ValueError) as error:
        result = {"failed": True, "msg": "%s() of easy module %s returned a result that is not JSON-serialisable:"
                  " %s" % (function, module_name, error), "stdout": stdout, "stderr": stderr}
    return result


def _rb2a_traceback(error):
    tb = error.__traceback__
    # The frames of this wrapper say nothing about the user's code.
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__ and tb.tb_next is not None:
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(error), error, tb))


class _Rb2aCapture(object):
    """Redirects file descriptors 1 and 2, so print() and child processes alike are captured."""

    def __init__(self):
        self.streams = (sys.stdout, sys.stderr)
        for stream in self.streams:
            stream.flush()
        self.saved = (os.dup(1), os.dup(2))
        self.files = (tempfile.TemporaryFile(), tempfile.TemporaryFile())
        os.dup2(self.files[0].fileno(), 1)
        os.dup2(self.files[1].fileno(), 2)

    def stop(self):
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        sys.stdout, sys.stderr = self.streams  # in case the user's code replaced them
        for stream in self.streams:
            stream.flush()
        os.dup2(self.saved[0], 1)
        os.dup2(self.saved[1], 2)
        texts = []
        for saved, captured in zip(self.saved, self.files):
            os.close(saved)
            captured.seek(0)
            texts.append(captured.read().decode("utf-8", "replace"))
            captured.close()
        return texts


def _rb2a_tmpdir(params):
    tmpdir = params.get("_ansible_tmpdir")
    if tmpdir and os.path.isdir(tmpdir) and os.access(tmpdir, os.W_OK | os.X_OK):
        return tmpdir
    return None


def _rb2a_exit(result):
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    sys.exit(1 if result.get("failed") else 0)
