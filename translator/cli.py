"""The command line: the one place that prints, prompts, and turns errors into exit codes."""

from __future__ import annotations

import contextlib
import errno
import functools
import gc
import json
import logging
import os
import shutil
import signal
import stat
import sys
import tempfile
import threading
import traceback
from dataclasses import replace
from pathlib import Path

import click

from . import __version__
from .ansible_options import AnsibleOption, GroupedHelp
from .errors import Rb2AnsibleError, RunbookInvalid, UsageError

EXIT_OK, EXIT_FAILED, EXIT_INVALID, EXIT_INTERNAL = 0, 1, 2, 3
DEBUG_LOG = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "rb2ansible" / "debug.log"


def main() -> None:
    try:
        code = cli.main(standalone_mode=False, prog_name="rb2ansible")  # the Report's exit code
    except BrokenPipeError:  # output piped into `head` and the like: stop quietly
        sys.stderr.close()
        sys.exit(EXIT_FAILED)
    except Exception as exc:  # before a command starts: options of the group itself, such as a typo
        sys.exit(Report().failed(exc))
    sys.exit(code)


class Report:
    """Decides the exit code of a command from how it ended, and says why; as black's Report does.

    0 success; 1 a task failed, a host was unreachable or the run was interrupted; 2 invalid runbook
    or usage (whatever the user can fix: the message says where); 3 a defect of rb2ansible, with
    the debug log's path.
    """

    def __init__(self) -> None:
        self.return_code = EXIT_OK
        self.runbook: Path | None = None  # the runbook the command reads, to locate what has no line

    def run_finished(self, status: str) -> int:
        self.return_code = EXIT_OK if status == "successful" else EXIT_FAILED
        return self.return_code

    def failed(self, exc: BaseException) -> int:
        """Report an exception that ended the command; returns the exit code it means."""
        if isinstance(exc, click.Abort):
            click.echo("aborted", err=True)
            self.return_code = EXIT_FAILED
        elif isinstance(exc, click.ClickException):
            exc.show()
            self.return_code = EXIT_INVALID
        elif isinstance(exc, RunbookInvalid):
            for diagnostic in exc.diagnostics:
                click.echo(diagnostic.render(), err=True)
            count = len(exc.diagnostics)
            click.echo(f"{count} error{'s' if count != 1 else ''}; nothing was run", err=True)
            self.return_code = exc.exit_code
        elif isinstance(exc, Rb2AnsibleError):
            click.echo(f"rb2ansible: error: {exc}", err=True)
            self.return_code = exc.exit_code
        elif isinstance(exc, RecursionError):
            # The loader bounds each file's nesting; only includes nesting includes get here.
            from .build import runbook_file

            where = f"{runbook_file(self.runbook)}:1:1" if self.runbook else "rb2ansible"
            click.echo(f"{where}: error: the runbook and the runbooks it includes nest too deeply to follow; "
                       "flatten some serial/parallel blocks or includes", err=True)
            self.return_code = EXIT_INVALID
        elif isinstance(exc, OSError) and exc.filename and exc.errno in _USER_PATH_ERRORS:
            click.echo(f"rb2ansible: error: cannot use {exc.filename}: {exc.strerror}", err=True)
            self.return_code = EXIT_INVALID
        else:
            _write_debug_log("".join(traceback.format_exception(exc)))
            click.echo(f"rb2ansible: internal error; details in {DEBUG_LOG}", err=True)
            self.return_code = EXIT_INTERNAL
        return self.return_code


def _write_debug_log(text: str) -> None:
    """For the user's eyes only: an error's message may quote what it was given, a vault value included."""
    DEBUG_LOG.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor = os.open(DEBUG_LOG, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # a log written by an older version may be readable by others
    with os.fdopen(descriptor, "w") as log:
        log.write(text)


# A path the user gave that the system will not let us use: theirs to fix, not a defect.
_USER_PATH_ERRORS = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.ENAMETOOLONG,
                     errno.ELOOP}


class _Commands(click.Group):
    """Every command ends through the Report, whether run by `main` or in-process (click's CliRunner)."""

    def invoke(self, ctx: click.Context):
        report = ctx.ensure_object(Report)
        try:
            super().invoke(ctx)
        except (click.exceptions.Exit, BrokenPipeError):
            raise
        except Exception as exc:
            report.failed(exc)
        ctx.exit(report.return_code)


def _report() -> Report:
    return click.get_current_context().ensure_object(Report)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="rb2ansible")
def cli() -> None:
    """Compile AutomateJS-style runbooks into Ansible and run them.

    A runbook is a YAML file (or a directory holding run.yml, var.yml, inventory.yml, files/,
    templates/, modules/) whose tasks run in order, or together inside `parallel:` blocks.

    \b
    Start with:   rb2ansible init myproject && rb2ansible run myproject
    Check:        rb2ansible validate run.yml     (every error, with file:line:col)
    See overlap:  rb2ansible plan run.yml
    Hand over:    rb2ansible export run.yml -o out/  (an ansible-runner / AWX project)
    """


def _runbook_argument(function):
    return click.argument("runbook", type=click.Path(exists=True, path_type=Path), callback=_remember_runbook)(function)


def _remember_runbook(ctx: click.Context, param: click.Parameter, value: Path) -> Path:
    _report().runbook = value
    return value


class _WritablePath(click.Path):
    """A file or directory rb2ansible will write, checked when the command line is read: before anything runs.

    With `parents`, missing directories above it will be made, so the nearest one that exists must take them.
    """

    def __init__(self, *args, parents: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.parents = parents

    def convert(self, value, param, ctx):
        path = super().convert(value, param, ctx)
        problem = _unwritable(Path(path), directory=not self.file_okay, parents=self.parents)
        if problem:
            self.fail(f"cannot write {path}: {problem}", param, ctx)
        return path


def _unwritable(path: Path, directory: bool, parents: bool = False) -> str | None:
    """Why `path` cannot be written, or None. Trying is the only test that holds for root and /proc alike."""
    if path.is_dir() and not directory:
        return "it is a directory"
    folder = path if directory and path.is_dir() else path.absolute().parent
    while parents and not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        return f"{folder} does not exist" if not folder.exists() else f"{folder} is not a directory"
    try:
        with tempfile.TemporaryFile(dir=folder, prefix=".rb2ansible-"):
            pass
    except OSError as exc:
        return f"{folder} does not take new files ({exc.strerror})"
    return None


class _InventorySource(click.ParamType):
    """An -i value as ansible-playbook takes it: a file, a directory, or a host list (`host1,host2,`), which is
    what a value that is no path and holds a comma is to Ansible."""

    name = "inventory"

    def convert(self, value, param, ctx):
        from .inventory_copy import HostList

        if isinstance(value, (Path, HostList)):
            return value
        if Path(value).exists():
            return Path(value)
        if "," in value:
            return HostList(value)
        self.fail(f"{value!r} does not exist (a host list needs a comma: '{value},')", param, ctx)


def _settings_options(export: bool):
    """The options that choose hosts and variables and shape how Ansible runs, shared by `run` and `export`
    (on `export`, those an export records). The command receives them as one RunSettings, `settings`."""
    from .ansible_options import passed, passed_options

    options = [
        click.option("-i", "--inventory", "--inventory-file", "inventories", multiple=True, type=_InventorySource(),
                     cls=AnsibleOption, metavar="INVENTORY",
                     help="Inventory file, directory, plugin config or host list (host1,host2,), as ansible-playbook "
                          "-i takes. Repeatable. Default: the runbook's inventory.yml, else localhost."),
        click.option("-e", "--extra-vars", "extra_vars", multiple=True, metavar="K=V|@FILE", cls=AnsibleOption,
                     help="Variables with the highest precedence. Repeatable."),
        click.option("-f", "--forks", type=click.IntRange(1, 500), cls=AnsibleOption,
                     help="Hosts worked on at once (default: up to 50)."),
        *passed_options(export),
        click.option("--keep-secret-vars", is_flag=True,
                     help="Also write -e values whose names look secret (password, passwd, secret, token, key, "
                          "credential, private...) and plain-text -e @FILEs holding such names into the exported "
                          "env/. Without it they are given to Ansible at run time only, and an export lists them "
                          "in its README as left out."),
        click.option("--vault-password-file", "--vault-pass-file", "vault_password_files", multiple=True,
                     type=click.Path(exists=True, resolve_path=True, path_type=Path), cls=AnsibleOption,
                     help="File (or script) giving the vault password."),
        click.option("--vault-id", "vault_ids", multiple=True, metavar="ID@SOURCE", cls=AnsibleOption,
                     help="A vault identity. Repeatable."),
        click.option("-v", "--verbose", "verbosity", count=True, cls=AnsibleOption,
                     help="More detail: -v shows each task's stdout, stderr and msg; -vvv also Ansible's own "
                          "output. Passed on to ansible-playbook (and recorded by export)."),
    ]
    names = {"inventories", "extra_vars", "forks", "keep_secret_vars", "vault_password_files", "vault_ids",
             "verbosity", *(option.field for option in passed(export))}

    def decorate(function):
        @functools.wraps(function)
        def command(**values):
            given = {name: values.pop(name) for name in names if name in values}
            return function(settings=_settings(**given), **values)

        for option in reversed(options):
            command = option(command)
        return command

    return decorate


def _settings(inventories, extra_vars, vault_ids, tags=(), skip_tags=(), **options):
    from .ansible_options import host_key_checking
    from .project import RunSettings
    from .vars_cli import parse_extra_vars

    values, files = parse_extra_vars(extra_vars)
    paths = {name: Path(value) for name in ("private_key", "connection_password_file", "become_password_file")
             if (value := options.pop(name, None)) is not None}
    return RunSettings(inventories=tuple(inventories), extravars=values, extravar_files=files,
                       tags=",".join(tags) or None, skip_tags=",".join(skip_tags) or None,
                       vault_ids=tuple(_absolute_vault_id(vault_id) for vault_id in vault_ids),
                       vault_password_files=tuple(options.pop("vault_password_files")),
                       host_key_checking=host_key_checking(), **paths, **options)


def _in_play_terms(settings, compiled):
    """Options that name a task name it as the play does."""
    if settings.start_at_task is None:
        return settings
    return replace(settings, start_at_task=compiled.ansible_task_name(settings.start_at_task))


def _absolute_vault_id(vault_id: str) -> str:
    """ID@FILE with FILE made absolute: Ansible runs inside the generated project, not here."""
    label, at, source = vault_id.rpartition("@")
    if not at:
        label, source = "", vault_id
    if source in ("prompt", "prompt_ask_vault_pass"):
        return vault_id
    path = Path(source).resolve()
    if not path.exists():
        raise UsageError(f"--vault-id {vault_id}: no such file {source}")
    return f"{label}@{path}" if at else str(path)


def _worker_options(function):
    """`run` on execution nodes (translator/worker.py), grouped apart from ansible-playbook's own options."""
    options = [
        click.option("--worker", "worker_urls", multiple=True, metavar="ssh://[USER@]NODE[:PORT]",
                     help="Run on this execution node through `ansible-runner worker`, reached over SSH (as AWX "
                          "does through Receptor). Repeatable, with --slices. The node needs ansible-runner and "
                          "ansible-core only. See docs/scale-out.md."),
        click.option("--worker-ssh-args", metavar="'ARGS'", default="",
                     help="More ssh options to reach the workers, such as '-i KEY -o UserKnownHostsFile=FILE' "
                          "(default: your ssh config)."),
        click.option("--slices", type=click.IntRange(1, 1000), metavar="N",
                     help="Cut the play's hosts into N slices (host i to slice i mod N, as AWX job slicing does) "
                          "run at once, slice k on worker k mod W (default: one slice per worker)."),
        click.option("--worker-runner", metavar="COMMAND", default="ansible-runner",
                     help="ansible-runner's command on the workers, if not on their PATH."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _fuse_option(default: bool | None):
    """--fuse/--no-fuse; None: as the runbook's strategy allows (translator/fusion.py)."""
    wording = ("Default: in a `strategy: free` runbook, whose hosts do not wait for each other, and with --fast; "
               "in a linear one fused steps of a host do not wait for the other hosts between steps, so otherwise "
               "only with --fuse" if
               default is None else "Off by default in an export, which then shows every step as its own task; "
               "--fuse writes what `run --fuse` runs")
    return click.option("--fuse/--no-fuse", default=default, show_default=False,
                        help="Run consecutive plain shell steps of a serial list (a command line, at most chdir and "
                             "executable, no keyword of their own) as one task on each host: one script instead of "
                             f"a task each, each step still reported with its own result. {wording}. "
                             "See docs/runbooks.md, 'Fused shell steps'.")


def _workers(urls: tuple[str, ...], ssh_args: str, slices: int | None, runner: str):
    import shlex

    from .worker import WorkerNode, Workers

    if not urls:
        if slices or ssh_args or runner != "ansible-runner":
            raise UsageError("--slices, --worker-ssh-args and --worker-runner go with --worker ssh://NODE")
        return None
    try:
        words = tuple(shlex.split(ssh_args))
    except ValueError as exc:
        raise UsageError(f"--worker-ssh-args: {exc}") from None
    return Workers(tuple(WorkerNode.parse(url) for url in urls), words, slices or len(urls), runner)


def _load(runbook: Path):
    """The runbook's model; what it should know although the runbook is valid is printed first."""
    from .build import load_runbook

    loaded = load_runbook(runbook)
    for warning in loaded.warnings:
        click.echo(warning.render(), err=True)
    return loaded


def _compile(runbook: Path, fuse: bool | None = False, fast: bool = False):
    from .emit import compile_runbook

    with _collector_paused():
        return compile_runbook(_load(runbook), fuse=fuse, fast=fast)


@contextlib.contextmanager
def _collector_paused():
    """Compiling makes millions of objects that live until the command ends and hold no cycles; Python's
    cyclic collector would walk them all again and again (a third of the time at 30,000 tasks). They are
    frozen before it resumes: else its next pass walks every one of them once more, and later passes again
    as they age (0.4 s of an export of 30,000 tasks)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


@cli.command()
@_runbook_argument
def validate(runbook: Path) -> None:
    """Check a runbook without running it; report every error at once.

    Exit code 0 when valid, 2 when not, each error as path:line:col: error: message.
    """
    compiled = _compile(runbook)
    leaves = len(compiled.leaves)
    click.echo(f"{compiled.runbook.source}: ok ({leaves} task{'s' if leaves != 1 else ''})")


@cli.command()
@_runbook_argument
def plan(runbook: Path) -> None:
    """Show the schedule: what runs in order and what overlaps.

    Every child of a `parallel` block is a branch; all branches start together on each host,
    whatever their module (template, file copy, echo, retries, no_log, includes). A serial
    list inside a block advances as soon as its own previous step ends, and stops at its first
    failure; the block ends when every branch has ended and fails if any child failed.
    """
    from .plan import describe

    with _collector_paused():
        runbook_model = _load(runbook)
    for line in describe(runbook_model):
        click.echo(line)


@cli.command(cls=GroupedHelp)
@_runbook_argument
@_settings_options(export=False)
@click.option("--list-hosts", "list_hosts", is_flag=True, cls=AnsibleOption,
              help="Print the hosts the play would run on (ansible-playbook's output); run nothing.")
@click.option("--list-tasks", "list_tasks", is_flag=True, cls=AnsibleOption,
              help="Print the tasks that would run (ansible-playbook's output, with each parallel block's "
                   "children under it); run nothing.")
@click.option("--syntax-check", "syntax_check", is_flag=True, cls=AnsibleOption,
              help="Have ansible-playbook check the exported play's syntax; run nothing.")
@click.option("-k", "--ask-pass", "ask_pass", is_flag=True, cls=AnsibleOption)
@click.option("-K", "--ask-become-pass", "ask_become_pass", is_flag=True, cls=AnsibleOption)
@click.option("-J", "--ask-vault-password", "--ask-vault-pass", "ask_vault_pass", is_flag=True, cls=AnsibleOption)
@click.option("--results", "results_file", type=_WritablePath(dir_okay=False, path_type=Path),
              help="Write every task's result per host to this JSON file.")
@click.option("--export", "export_dir", type=_WritablePath(file_okay=False, path_type=Path),
              help="Keep the ansible-runner directory that was run here (what `export` writes; see its README).")
@click.option("--fast", is_flag=True, envvar="RB2ANSIBLE_FAST",
              help="Run as fast as rb2ansible can: consecutive plain shell steps fused (--fuse: hosts then do not "
                   "wait for each other between those steps, and the run says so; --no-fuse keeps each step its own "
                   "task), and Mitogen's strategy (pip install 'rb2ansible[fast]'): one Python per host for the "
                   "whole run instead of one per task. When Mitogen cannot serve the runbook (parallel blocks, "
                   "strategy free, --worker, not installed) or would not help (nothing but command lines and "
                   "echoes, which need no Python on the hosts) rb2ansible says why and runs without it. "
                   "Also RB2ANSIBLE_FAST=1.")
@_fuse_option(default=None)
@_worker_options
def run(runbook: Path, settings, list_hosts, list_tasks, syntax_check, ask_pass, ask_become_pass, ask_vault_pass,
        results_file, export_dir, fast, fuse, worker_urls, worker_ssh_args, slices, worker_runner) -> None:
    """Compile RUNBOOK and run it with ansible-runner, showing progress as the runbook's tree.

    ansible-playbook's options keep their names and meaning; passwords typed at -k/-K/-J prompts or read
    from password files, and the --private-key path, are given to Ansible at run time and never written.
    Host keys are checked as Ansible checks them: on, unless your environment
    (ANSIBLE_HOST_KEY_CHECKING=False), ansible.cfg or inventory (ansible_host_key_checking) turns it off.

    \b
    Exit codes: 0 success; 1 a task failed or a host was unreachable;
                2 invalid runbook or usage; 3 internal error.
    """
    workers = _workers(worker_urls, worker_ssh_args, slices, worker_runner)
    listings = [flag for flag, wanted in (("--list-hosts", list_hosts), ("--list-tasks", list_tasks),
                                          ("--syntax-check", syntax_check)) if wanted]
    # A listing shows every step, and --start-at-task names one: both need each step as its own task.
    if listings or settings.start_at_task is not None:
        compiled = _compile(runbook, fuse=False)
    else:
        compiled = _compile(runbook, fuse=fuse, fast=fast)
        _say_what_fusion_changed(compiled, fuse, fast)
    settings = _in_play_terms(settings, compiled)
    # As ansible-playbook: listing asks for no connection or become password, only for the vault's.
    settings = replace(settings, prompt_answers=_ask_passwords(ask_pass and not listings,
                                                               ask_become_pass and not listings, ask_vault_pass))
    if fast and not listings:
        settings = replace(settings, strategy_env=_accelerated(compiled, workers is not None))
    private_dir = export_dir or Path(tempfile.mkdtemp(prefix="rb2ansible-"))
    try:
        if listings:
            _print_listing(compiled, settings, private_dir, listings)
        else:
            _run(compiled, settings, private_dir, results_file, workers)
    finally:
        if export_dir is None:
            shutil.rmtree(private_dir, ignore_errors=True)


def _say_what_fusion_changed(compiled, fuse: bool | None, fast: bool) -> None:
    from .fusion import lock_step_note

    note = lock_step_note(compiled.runbook, compiled.fused_runs, fuse, fast)
    if note:
        click.echo(note, err=True)


def _accelerated(compiled, on_workers: bool) -> dict[str, str]:
    """--fast: Mitogen's strategy as the run's environment, or nothing after saying why not."""
    from .accelerator import mitogen

    acceleration = mitogen(compiled, on_workers)
    if acceleration.declined:
        click.echo(f"--fast: running without Mitogen: {acceleration.declined}", err=True)
    return acceleration.environment


def _print_listing(compiled, settings, private_dir: Path, flags: list[str]) -> None:
    from .execute import inspect_play
    from .listing import with_parallel_children

    text = inspect_play(compiled, settings, private_dir, flags)
    if "--list-tasks" in flags:
        text = with_parallel_children(text, compiled, settings.tags, settings.skip_tags)
    click.echo(text, nl=False)


def _run(compiled, settings, private_dir: Path, results_file: Path | None, workers) -> None:
    from .execute import execute
    from .progress import Progress

    interrupt = _interrupt_on_sigint()
    progress = Progress(verbosity=settings.verbosity)
    # -vvv and more: Ansible's own output too, as ansible-playbook would print it.
    ansible_output = progress.ansible_output if settings.verbosity >= 3 else None
    try:
        execution = execute(compiled, settings, private_dir, progress.update, interrupt, on_output=ansible_output,
                            workers=workers)
    except Rb2AnsibleError:
        progress.abandon()  # the message that follows starts on a line of its own
        raise
    if results_file:  # first: the file is the record, whatever happens to the terminal
        _write_results(results_file, execution.results.to_json())
    progress.close(execution.results)
    if execution.results.interrupted:
        click.echo("interrupted: what the run had started was stopped on every host", err=True)
    _report().run_finished(execution.results.status)


@cli.command(cls=GroupedHelp)
@_runbook_argument
@click.option("-o", "--output", "output", required=True, type=_WritablePath(file_okay=False, path_type=Path),
              help="Directory to write the ansible-runner private data dir into.")
@click.option("--role", "as_role", is_flag=True,
              help="Write the runbook as a standalone role (OUTPUT/<role>/, with meta/argument_specs.yml) "
                   "instead of a runnable project.")
@click.option("--author", help="With --role: meta/main.yml's author (over the runbook's galaxy.author).")
@click.option("--license", "license_", metavar="SPDX", help="With --role: the role's license, e.g. Apache-2.0.")
@click.option("--namespace", help="With --role: the Galaxy namespace the role is published under.")
@click.option("--platform", "platforms", multiple=True, metavar="NAME[:VERSION,...]",
              help="With --role, repeatable: a platform the role supports, e.g. Debian:bookworm,trixie.")
@click.option("--min-ansible-version", metavar="X.Y",
              help="With --role: the oldest Ansible it supports (default: what the helper collection requires).")
@_settings_options(export=True)
@_fuse_option(default=False)
def export(runbook: Path, output: Path, as_role: bool, author, license_, namespace, platforms, min_ansible_version,
           settings, fuse) -> None:
    """Write the ansible-runner directory `run` would execute, for review, ansible-runner or AWX.

    The options are recorded in it (env/cmdline, env/extravars, env/envvars: host key checking as your
    environment and ansible.cfg set it) and the -i inventories copied into it with their group_vars/host_vars;
    OUTPUT/README.md says how to run it and what was left out (passwords, and -e values that look secret unless
    --keep-secret-vars). Files are readable by you only. A previous export in OUTPUT is replaced only once the
    new one is complete.

    \b
    Then either:  ansible-runner run OUTPUT -p site.yml
    or:           cd OUTPUT/project && ansible-playbook site.yml (with the options in OUTPUT/README.md)
    With --role:  OUTPUT/<role>/ is a role for Galaxy or any playbook's roles/.
    """
    from .galaxy_role import merged, missing
    from .model import GalaxyMeta
    from .project import write_project, write_roles

    given = GalaxyMeta(author, license_, namespace, min_ansible_version, _platforms(platforms))
    if not as_role and given != GalaxyMeta():
        raise UsageError("--author, --license, --namespace, --platform and --min-ansible-version describe a role: "
                         "add --role")
    compiled = _compile(runbook, fuse=fuse)
    settings = _in_play_terms(settings, compiled)
    if as_role:
        click.echo(f"wrote {write_roles(compiled, output, given)}")
        unset = missing(merged(compiled.runbook.galaxy, given))
        if unset:
            click.echo(f"not stated, so meta/main.yml says NOASSERTION or nothing: {', '.join(unset)} (the role's "
                       "README says how to state them)", err=True)
        return
    written = write_project(compiled, output, settings)
    click.echo(f"wrote {written.path / 'project' / 'site.yml'}")
    if written.secrets.withheld_names:
        click.echo(f"left out (the names look secret; --keep-secret-vars writes them): "
                   f"{', '.join(written.secrets.withheld_names)}", err=True)


def _platforms(given: tuple[str, ...]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """`--platform Debian:bookworm,trixie` -> ("Debian", ("bookworm", "trixie")); a bare name is every version."""
    platforms = []
    for text in given:
        name, _, versions = text.partition(":")
        if not name.strip():
            raise UsageError(f"--platform {text!r}: give a platform name, like Debian or Debian:bookworm")
        platforms.append((name.strip(), tuple(v.strip() for v in versions.split(",") if v.strip()) or ("all",)))
    return tuple(platforms)


@cli.command(name="modules")
@click.argument("runbook", required=False, type=click.Path(exists=True, path_type=Path))
@click.option("--show", "show", metavar="NAME", help="Show one module's documentation.")
def list_modules(runbook: Path | None, show: str | None) -> None:
    """List the modules a runbook can use, or show one module's documentation.

    \b
    core:      echo, shell, file, template, serial, parallel, include
    easy:      Python functions in the runbook's modules/, shipped ones, installed packages'
    Ansible:   every module and action installed: `ansible-doc -l`, `ansible-doc NAME`
    """
    from . import easy_modules
    from .build import runbook_file
    from .modules import CORE_MODULES

    directory = runbook_file(runbook).parent if runbook else Path.cwd()
    if show:
        module = easy_modules.find(show, directory)
        if module is None:
            hint = "a core module: see docs/runbooks.md" if show in CORE_MODULES else f"try `ansible-doc {show}`"
            raise UsageError(f"'{show}' is not an easy module here ({hint})")
        click.echo(f"{module.name}  ({module.origin}, {module.source})")
        click.echo(f"check mode: {'check() is defined' if module.has_check else 'not supported (no check())'}\n")
        click.echo(module.doc or "(no docstring)")
        return
    click.echo("core: " + ", ".join(CORE_MODULES))
    for module in easy_modules.available(directory):
        summary = (module.doc.strip().splitlines() or [""])[0]
        click.echo(f"easy: {module.name:32} {module.origin:18} {summary}")
    click.echo("ansible: any installed module or action by name or FQCN; list them with `ansible-doc -l`")


@cli.command()
@click.argument("directory", required=False, default=".",
                type=_WritablePath(file_okay=False, path_type=Path, parents=True))
def init(directory: Path) -> None:
    """Start a new runbook project (AutomateJS layout) that runs as it is on localhost."""
    from .scaffold import scaffold

    for path in scaffold(directory):
        click.echo(f"created {path}")
    click.echo(f"next: rb2ansible plan {directory} && rb2ansible run {directory}")


def _write_results(path: Path, report: dict) -> None:
    """Write next to the target, then rename: a reader never sees half a file."""
    text = json.dumps(report, indent=2) + "\n"
    try:
        if path.exists() and not path.is_file():
            # /dev/stdout, a pipe, a device: write through it. A rename would replace it with a file
            # (as root, even /dev/null).
            with open(path, "w") as handle:
                handle.write(text)
            return
        partial = path.with_name(f".{path.name}.partial")
        # Yours alone (the results hold task output), unless you gave an existing file other permissions.
        mode = stat.S_IMODE(path.stat().st_mode) if path.is_file() else 0o600
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(descriptor, mode)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(text)
        partial.replace(path)
    except OSError as exc:
        raise UsageError(f"cannot write the results file {path}: {exc.strerror}") from None


def _ask_passwords(ssh: bool, become: bool, vault: bool) -> dict[str, str]:
    """Ask like ansible-playbook does, before anything runs, without echoing what is typed."""
    answers = {}
    if ssh:
        answers["ssh"] = click.prompt("SSH password", hide_input=True, err=True)
    if become:
        answer = click.prompt("BECOME password" + (" [defaults to SSH password]" if ssh else ""),
                              hide_input=True, default="", show_default=False, err=True)
        answers["become"] = answer or answers.get("ssh", "")
    if vault:
        answers["vault"] = click.prompt("Vault password", hide_input=True, err=True)
    return answers


def _interrupt_on_sigint() -> threading.Event:
    """First Ctrl-C (or SIGTERM): stop Ansible, kill what the run left on its hosts, then report. A second one
    only says that this is under way: quitting then would leave the run's commands running on the hosts.
    A third gives up at once."""
    interrupt = threading.Event()
    presses = []

    def handler(signum, frame):
        presses.append(signum)
        if len(presses) == 1:
            interrupt.set()
            click.echo("\nstopping: waiting for Ansible to stop, then killing what the run left on its hosts",
                       err=True)
        elif len(presses) == 2:
            click.echo("\nstill stopping: the run's commands are being killed on its hosts"
                       " (Ctrl-C once more to quit now and leave them running)", err=True)
        else:
            raise KeyboardInterrupt

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    logging.getLogger("ansible_runner").setLevel(logging.CRITICAL)
    return interrupt
