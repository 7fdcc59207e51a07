"""Easy modules: discovery, bundling, caching, and the generated module run by a Python without the bundled packages."""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import sys
import textwrap
from pathlib import Path

import pytest

from tests.helpers_easy_modules import STAMP, python_without, run_module, write_modules
from translator.easy_modules import (
    BundleError,
    EasyModule,
    EasyModuleError,
    available,
    build_ansible_module,
    bundle,
    find,
)


@pytest.fixture(scope="session")
def bare_python(tmp_path_factory) -> str:
    return python_without("click", tmp_path_factory.mktemp("python"))


@pytest.fixture
def cache(tmp_path) -> Path:
    return tmp_path / "cache"


@pytest.fixture
def stamp_runbook(tmp_path) -> Path:
    return write_modules(tmp_path / "runbook", stamp__write=STAMP, stamp__common="MARK = '!'\n",
                         shared__util="SUFFIX = '-s'\n")


def build(runbook: Path, name: str, cache: Path) -> str:
    module = find(name, runbook)
    assert module is not None, name
    return build_ansible_module(module, cache)


# --- discovery ---------------------------------------------------------------------------------

def test_local_modules_are_found_by_name_and_namespaced_by_directory(stamp_runbook):
    module = find("stamp/write", stamp_runbook)
    assert module.name == "stamp/write"
    assert module.origin == "local"
    assert module.source == stamp_runbook / "modules" / "stamp" / "write.py"
    assert module.doc.startswith("Write a stamp file; the text is styled with click.")
    assert module.has_check
    assert module.ansible_name == "stamp__write"


def test_helpers_and_unknown_names_are_not_modules(stamp_runbook):
    names = [m.name for m in available(stamp_runbook)]
    assert "stamp/write" in names and "systemd-helper/create" in names
    # common.py and shared/util.py define no run(): helpers the modules import, not modules
    assert "stamp/common" not in names and "shared/util" not in names
    assert find("no/such", stamp_runbook) is None
    assert find("../stamp/write", stamp_runbook) is None
    with pytest.raises(EasyModuleError, match="defines no run"):
        find("shared/util", stamp_runbook)


def test_ansible_names_are_lowercase_identifiers():
    def named(name):
        return EasyModule(name, "local", Path(f"{name}.py"), "", False).ansible_name

    assert named("systemd-helper/create") == "systemd_helper__create"
    assert named("My.Mod/v2") == "my_mod__v2"
    assert named("2fa/check") == "m_2fa__check"


def test_a_module_with_a_syntax_error_is_reported_with_its_place(tmp_path):
    runbook = write_modules(tmp_path, broken="def run(args):\n    return {\n")
    with pytest.raises(EasyModuleError, match=r"broken\.py:\d+: cannot read this module") as raised:
        find("broken", runbook)
    assert raised.value.exit_code == 2


def test_systemd_helper_ships_with_rb2ansible_and_a_local_module_overrides_it(tmp_path):
    shipped = find("systemd-helper/create", tmp_path)
    assert shipped.origin == "builtin" and shipped.has_check
    assert shipped.ansible_name == "systemd_helper__create"
    assert "service_extra" in shipped.doc
    runbook = write_modules(tmp_path / "own", **{"systemd-helper__create": "def run(args):\n    return {}\n"})
    assert find("systemd-helper/create", runbook).origin == "local"


def test_an_installed_package_registers_modules_by_entry_point(tmp_path, monkeypatch, bare_python, cache):
    site = install_greet_package(tmp_path / "site")
    monkeypatch.syspath_prepend(str(site))
    module = find("greet/hello", tmp_path)
    assert module.origin == "package:greet-pkg"
    assert module.source == site / "greet_pkg" / "hello.py"
    assert module.doc == "Say hello to someone."
    assert not module.has_check
    assert module.ansible_name == "greet__hello"
    assert "greet_pkg" not in sys.modules, "finding a module must not import it"
    assert "greet/hello" in [m.name for m in available(tmp_path)]

    code, result, _ = run_module(bare_python, build_ansible_module(module, cache), tmp_path / "run", {"who": "Ada"})
    assert code == 0, result
    # the bundle carries click's metadata too, so importlib.metadata answers on the target as here
    assert result == {"changed": False, "greeting": "Hello, Ada!", "loud": "HELLO, ADA!",
                      "click": importlib.metadata.version("click")}


def install_greet_package(site: Path) -> Path:
    """A package as pip leaves it: sources plus a .dist-info whose entry point importlib.metadata reads."""
    package = site / "greet_pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "shout.py").write_text("import click\n\ndef shout(text):\n    return click.unstyle(text).upper()\n")
    (package / "hello.py").write_text(textwrap.dedent('''
        """Say hello to someone."""
        import importlib.metadata

        from .shout import shout


        def run(args):
            greeting = "Hello, %s!" % args["who"]
            return {"changed": False, "greeting": greeting, "loud": shout(greeting),
                    "click": importlib.metadata.version("click")}
    '''))
    info = site / "greet_pkg-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: greet-pkg\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[rb2ansible.modules]\ngreet/hello = greet_pkg.hello\n")
    (info / "top_level.txt").write_text("greet_pkg\n")
    files = ["greet_pkg/__init__.py", "greet_pkg/hello.py", "greet_pkg/shout.py", *(
        f"{info.name}/{name}" for name in ("METADATA", "entry_points.txt", "top_level.txt", "RECORD"))]
    (info / "RECORD").write_text("".join(f"{name},,\n" for name in files))
    return site


# --- bundling ------------------------------------------------------------------------------------

def test_bundled_click_runs_on_a_python_without_click(stamp_runbook, tmp_path, bare_python, cache):
    text = build(stamp_runbook, "stamp/write", cache)
    target = tmp_path / "stamp.txt"
    code, result, stderr = run_module(bare_python, text, tmp_path / "run", {"path": str(target), "text": "hi"})
    assert code == 0, (result, stderr)
    assert result["changed"] is True
    assert "bundle.zip/click/" in result["click_from"]
    # print() and a child process wrote to stdout; the JSON result survived and carries their output
    assert result["stdout"] == "run() says hello\nfrom a child process\n"
    assert target.read_text() == "hi-s!"
    code, result, _ = run_module(bare_python, text, tmp_path / "run", {"path": str(target), "text": "hi"})
    assert (code, result["changed"]) == (0, False)


def test_the_generated_file_says_what_it_holds(stamp_runbook, cache):
    text = build(stamp_runbook, "stamp/write", cache)
    assert text.startswith("#!/usr/bin/python\n")
    assert "#   stamp__write.py  (the easy module)\n" in text
    assert "#   common.py\n" in text and "#   shared/util.py\n" in text
    assert "#   click 8." in text and ", pure Python\n" in text
    assert str(stamp_runbook) not in text, "no controller paths in generated files"


def test_ansible_sees_a_json_module_with_documentation(stamp_runbook, cache, tmp_path):
    from ansible.executor import module_common
    from ansible.parsing.plugin_docs import read_docstring

    text = build(stamp_runbook, "stamp/write", cache)
    ast.parse(text, feature_version=(3, 6))  # targets may have an old Python 3
    data = text.encode()
    assert b"WANT_JSON" in data
    assert not module_common.NEW_STYLE_PYTHON_MODULE_RE.search(data)
    assert module_common.REPLACER not in data and module_common.REPLACER_JSONARGS not in data
    path = tmp_path / "stamp__write.py"
    path.write_text(text)
    docs = read_docstring(str(path))
    assert docs["doc"]["module"] == "stamp__write"
    assert docs["doc"]["short_description"] == "Write a stamp file; the text is styled with click"
    assert docs["doc"]["options"]["path"] == {"description": "the file to write", "required": True, "type": "path"}
    assert docs["doc"]["attributes"]["check_mode"]["support"] == "full"
    assert "rb2ansible.easy.stamp__write" in docs["plainexamples"]
    # ansible-lint executes module files and calls main() if there is one: there must not be
    spec = importlib.util.spec_from_file_location("generated_stamp", path)
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    assert not hasattr(loaded, "main")


def test_builds_are_deterministic(stamp_runbook, tmp_path):
    first = build(stamp_runbook, "stamp/write", tmp_path / "cache-a")
    second = build(stamp_runbook, "stamp/write", tmp_path / "cache-b")
    assert first == second


def test_a_repeat_build_reuses_the_cached_bundle(stamp_runbook, cache):
    first = build(stamp_runbook, "stamp/write", cache)
    [archive] = cache.glob("*.zip")
    built_at = archive.stat().st_mtime_ns
    assert build(stamp_runbook, "stamp/write", cache) == first
    assert list(cache.glob("*.zip")) == [archive]
    assert archive.stat().st_mtime_ns == built_at, "the cached bundle was rebuilt"

    # a changed source is a new bundle
    helper = stamp_runbook / "modules" / "stamp" / "common.py"
    helper.write_text("MARK = '?'\n")
    assert build(stamp_runbook, "stamp/write", cache) != first
    assert len(list(cache.glob("*.zip"))) == 2


def test_the_cache_directory_comes_from_the_environment(stamp_runbook, tmp_path, monkeypatch):
    monkeypatch.setenv("RB2A_CACHE_DIR", str(tmp_path / "from-env"))
    build_ansible_module(find("stamp/write", stamp_runbook))
    assert len(list((tmp_path / "from-env" / "bundles").glob("*.zip"))) == 1


def test_a_compiled_dependency_is_refused_naming_it(tmp_path, cache):
    compiled = importlib.util.find_spec("rpds.rpds")
    assert compiled is not None and compiled.origin.endswith(".so"), "the test needs rpds-py's compiled module"
    runbook = write_modules(tmp_path, uses_rpds="import rpds\n\ndef run(args):\n    return {}\n",
                            uses_cffi="import _cffi_backend\n\ndef run(args):\n    return {}\n")
    with pytest.raises(BundleError) as raised:
        build(runbook, "uses_rpds", cache)
    message = str(raised.value)
    assert message.startswith("module 'uses_rpds' imports 'rpds', which has compiled extensions (rpds.rpds: rpds/rpds.")
    assert "only pure-Python packages can be bundled" in message
    assert raised.value.exit_code == 2
    with pytest.raises(BundleError, match=r"imports '_cffi_backend', which has compiled extensions \(_cffi_backend"):
        build(runbook, "uses_cffi", cache)


def test_an_optional_compiled_import_is_left_out_and_said_so(tmp_path, cache, bare_python):
    runbook = write_modules(tmp_path, maybe_rpds='''
        try:
            import rpds
        except ImportError:
            rpds = None


        def run(args):
            return {"has_rpds": rpds is not None}
    ''')
    text = build(runbook, "maybe_rpds", cache)
    # a package that cannot work from the bundle is not shipped at all
    assert ", pure Python" not in text and bundle.plan(find("maybe_rpds", runbook)).packages == {}
    assert ("#   rpds: needs compiled code (rpds.rpds, rpds/rpds.") in text
    assert ("its import is inside try/except ImportError (modules/maybe_rpds.py:3), so the target's own copy is "
            "used if it has one") in text
    code, result, _ = run_module(bare_python, text, tmp_path / "run", {})
    assert (code, result) == (0, {"has_rpds": False})


def test_a_package_that_runs_without_its_compiled_part_is_bundled_without_it(tmp_path, cache, bare_python):
    # PyYAML's C loader (yaml/_yaml*.so) is imported inside try/except ImportError: pure Python works
    runbook = write_modules(tmp_path, dump='''
        import yaml


        def run(args):
            return {"text": yaml.safe_dump(args), "from": yaml.__file__, "libyaml": yaml.__with_libyaml__}
    ''')
    text = build(runbook, "dump", cache)
    assert "#   yaml (PyYAML 6." in text
    assert "#   yaml/_yaml." in text and ".so: compiled, cannot load from a zip, left out" in text
    assert ("#   yaml.cyaml: needs compiled code (yaml._yaml, yaml/_yaml.") in text
    assert "its import is inside try/except ImportError (yaml/__init__.py:" in text
    assert "so the bundled yaml runs without it" in text
    code, result, _ = run_module(bare_python, text, tmp_path / "run", {"a": 1})
    assert code == 0, result
    assert result["text"] == "a: 1\n" and "bundle.zip/yaml/" in result["from"] and result["libyaml"] is False


def test_a_dependency_missing_on_the_controller_is_refused_unless_optional(tmp_path, cache, bare_python):
    runbook = write_modules(tmp_path, needs="import rb2a_no_such_package\n\ndef run(args):\n    return {}\n",
                            helper="import rb2a_no_such_package\n",
                            via_helper="import helper\n\ndef run(args):\n    return {}\n",
                            maybe='''
        try:
            import helper
        except ImportError:
            helper = None


        def run(args):
            return {"helper": helper is not None}
    ''')
    with pytest.raises(BundleError, match=r"imports 'rb2a_no_such_package' \(modules/needs.py:1\), which is not "
                                          "installed where rb2ansible runs"):
        build(runbook, "needs", cache)
    with pytest.raises(BundleError, match=r"imports 'rb2a_no_such_package' \(modules/helper.py:1\)"):
        build(runbook, "via_helper", cache)
    text = build(runbook, "maybe", cache)
    assert ("#   helper: needs rb2a_no_such_package, which is not installed on the controller; its import is "
            "inside try/except ImportError (modules/maybe.py:3)") in text
    assert run_module(bare_python, text, tmp_path / "run", {})[:2] == (0, {"helper": False})


def test_a_relative_import_outside_a_package_is_refused(tmp_path, cache):
    runbook = write_modules(tmp_path, rel="from . import other\n\ndef run(args):\n    return {}\n")
    with pytest.raises(BundleError, match=r"modules/rel.py:1: a relative import outside a package"):
        build(runbook, "rel", cache)


# --- behaviour of the generated module -----------------------------------------------------------

def test_check_mode_calls_check_and_changes_nothing(stamp_runbook, tmp_path, bare_python, cache):
    target = tmp_path / "stamp.txt"
    code, result, _ = run_module(bare_python, build(stamp_runbook, "stamp/write", cache), tmp_path / "run",
                                 {"path": str(target)}, check_mode=True)
    assert (code, result) == (0, {"changed": True, "msg": f"would write {target}"})
    assert not target.exists()


def test_check_mode_without_check_is_skipped_not_run(tmp_path, bare_python, cache):
    runbook = write_modules(tmp_path, touch='''
        def run(args):
            open(args["path"], "w").close()
            return {"changed": True}
    ''')
    target = tmp_path / "touched"
    code, result, _ = run_module(bare_python, build(runbook, "touch", cache), tmp_path / "run",
                                 {"path": str(target)}, check_mode=True)
    assert code == 0
    assert result == {"changed": False, "skipped": True,
                      "msg": "easy module touch has no check(); not run in check mode"}
    assert not target.exists()


def test_an_exception_is_a_failed_result_with_the_traceback_only_when_verbose(tmp_path, bare_python, cache):
    runbook = write_modules(tmp_path, boom='''
        def run(args):
            print("about to fail")
            raise ValueError("bad value: %s" % args["x"])
    ''')
    text = build(runbook, "boom", cache)
    code, result, _ = run_module(bare_python, text, tmp_path / "run", {"x": 3}, verbosity=0)
    assert code == 1
    assert result == {"failed": True, "msg": "ValueError: bad value: 3", "stdout": "about to fail\n"}
    code, result, _ = run_module(bare_python, text, tmp_path / "run", {"x": 3}, verbosity=1)
    assert code == 1 and result["msg"] == "ValueError: bad value: 3"
    assert result["exception"].startswith("Traceback (most recent call last):\n")
    assert 'boom.py", line 4, in run' in result["exception"]
    assert "_rb2a_call" not in result["exception"], "the wrapper's own frames are noise"


def test_results_that_are_not_a_json_dict_fail_clearly(tmp_path, bare_python, cache):
    runbook = write_modules(tmp_path, listy="def run(args):\n    return [1]\n",
                            setty="def run(args):\n    return {'changed': False, 'items': {1, 2}}\n")
    code, result, _ = run_module(bare_python, build(runbook, "listy", cache), tmp_path / "a", {})
    assert code == 1 and result["failed"] is True
    assert result["msg"] == "run() of easy module listy returned list; it must return a dict such as {'changed': True}"
    code, result, _ = run_module(bare_python, build(runbook, "setty", cache), tmp_path / "b", {})
    assert code == 1 and "not JSON-serialisable" in result["msg"] and "set" in result["msg"]


def test_the_module_gets_only_the_runbook_arguments(tmp_path, bare_python, cache):
    runbook = write_modules(tmp_path, echo="def run(args):\n    return {'changed': False, 'got': args}\n")
    code, result, _ = run_module(bare_python, build(runbook, "echo", cache), tmp_path / "run",
                                 {"a": 1, "b": [True, None]}, verbosity=2, check_mode=False, diff=True)
    assert (code, result["got"]) == (0, {"a": 1, "b": [True, None]})


# --- systemd-helper/create -----------------------------------------------------------------------

def test_systemd_helper_writes_the_unit_once_and_checks_without_writing(tmp_path, bare_python, cache):
    text = build(tmp_path, "systemd-helper/create", cache)
    units = tmp_path / "units"
    units.mkdir()
    args = {"service_name": "academic", "description": "Academic service", "user": "academic",
            "exec": "/usr/bin/python3 -m http.server 8080", "service_extra": ["MemoryMax=512M", "Restart=always"],
            "unit_dir": str(units), "reload": False}
    unit = units / "academic.service"

    code, result, _ = run_module(bare_python, text, tmp_path / "run", args, check_mode=True)
    assert (code, result["changed"], unit.exists()) == (0, True, False)
    assert result["msg"] == f"{unit} would be created"

    code, result, _ = run_module(bare_python, text, tmp_path / "run", args)
    assert (code, result["changed"], result["reloaded"]) == (0, True, False)
    content = unit.read_text()
    assert "[Service]\nUser=academic\nExecStart=/usr/bin/python3 -m http.server 8080\nMemoryMax=512M\n" in content
    assert "Description=Academic service\n" in content and "WantedBy=multi-user.target\n" in content
    assert oct(unit.stat().st_mode & 0o777) == "0o644"

    code, result, _ = run_module(bare_python, text, tmp_path / "run", args)
    assert (code, result["changed"], result["msg"]) == (0, False, f"{unit} is up to date")
    code, result, _ = run_module(bare_python, text, tmp_path / "run", args, check_mode=True)
    assert result["changed"] is False

    code, result, _ = run_module(bare_python, text, tmp_path / "run", {**args, "user": "nobody"})
    assert result["changed"] is True and "User=nobody" in unit.read_text()
    code, result, _ = run_module(bare_python, text, tmp_path / "run", {**args, "state": "absent"})
    assert (result["changed"], unit.exists()) == (True, False)
    assert sorted(p.name for p in units.iterdir()) == [], "no temporary file left behind"


def test_systemd_helper_refuses_what_would_make_a_wrong_unit(tmp_path, bare_python, cache):
    text = build(tmp_path, "systemd-helper/create", cache)
    base = {"service_name": "x", "exec": "/bin/true", "unit_dir": str(tmp_path), "reload": False}
    cases = [({**base, "exec": "/bin/true\nExecStartPre=/bin/evil"}, "ValueError: exec must be a single line"),
             ({**base, "servce_extra": []}, "ValueError: unknown argument(s) servce_extra"),
             ({**base, "service_name": "../x"}, "ValueError: service_name must be a unit name"),
             ({key: value for key, value in base.items() if key != "exec"}, "ValueError: exec is required")]
    for args, message in cases:
        code, result, _ = run_module(bare_python, text, tmp_path / "run", args)
        assert code == 1 and result["msg"].startswith(message), result
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".service") == []
