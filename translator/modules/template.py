"""`template`: render `source` (from templates/) to `destination` with task-local `variables`.

A Jinja2 template is ansible.builtin.template's, its variables task vars. An AutomateJS template (a
CommonJS module, `module.exports = (vars) => ...`) is rendered as AutomateJS did, by Node on the
controller called with the variables as JSON (the helper collection's `node_template` lookup), and
written by ansible.builtin.copy, so mode, owner, diff and check mode mean what they always do.
`engine` says which, when the file alone does not.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import yaml

from ..calls import jinja_values
from ..errors import Location
from ..loader import is_file
from ..nodes import NodeReader, variable_name_problem
from . import _javascript
from ._core import AnsibleCall, Argument
from .file import COPY_ARGUMENTS, CopyArguments, File, argument_node, file_options, writer

ENGINES = ("jinja2", "node")
STRING = "tag:yaml.org,2002:str"
LOOKUP = "rb2ansible.runbook.node_template"
# Task vars of the emitted copy: the template and its variables reach the lookup by name, so `${}` in
# them is evaluated per host like any variable, and a variable may be called anything (even `name`).
TEMPLATE_VAR, VARIABLES_VAR = "rb2a_js_template", "rb2a_js_variables"
CONTENT = f'{{{{ lookup("{LOOKUP}", {TEMPLATE_VAR}, template_vars={VARIABLES_VAR}) }}}}'


@dataclass(frozen=True)
class TemplateArguments(CopyArguments):
    variables: dict[str, Any] = field(default_factory=dict)  # Jinja2: task vars; node: the function's argument
    engine: str | None = None  # "jinja2" or "node"; None until read() decides from the file


class Template(File):
    name = "template"
    fqcn = "ansible.builtin.template"
    arguments = (*COPY_ARGUMENTS, Argument("variables", "mapping"), Argument("engine", "text"))
    folder = "templates"
    foreground_reason = "ansible.builtin.template runs through an action plugin that Ansible cannot run async"

    def typed(self, values: dict[str, Any]) -> TemplateArguments:
        return TemplateArguments(**values)

    def read(self, reader: NodeReader, node: yaml.Node) -> TemplateArguments | None:
        args = super().read(reader, node)
        if args is None:
            return None
        engine = self.engine(args, reader, node)
        if engine is None:
            return None
        if engine == "jinja2" and not self.jinja_names(reader, node):
            return None
        if engine == "node" and not self.node_ready(args, reader, node):
            return None
        return replace(args, engine=engine)

    def engine(self, args: TemplateArguments, reader: NodeReader, node: yaml.Node) -> str | None:
        """The engine asked for, else `node` for a .js/.cjs/.mjs file that exports (module.exports, or an ES
        module's `export`, which validation then refuses with the CommonJS form), else Jinja2."""
        if args.engine is not None:
            if args.engine in ENGINES:
                return args.engine
            reader.error(argument_node(node, "engine"), f"'engine' must be one of: {', '.join(ENGINES)}")
            return None
        source = reader.source.parent / self.folder / args.source
        return "node" if _javascript.is_commonjs(source) else "jinja2"

    def jinja_names(self, reader: NodeReader, node: yaml.Node) -> bool:
        """Jinja2 variables become task vars: each name must be one Ansible can keep."""
        variables = argument_node(node, "variables")
        if not isinstance(variables, yaml.MappingNode):
            return True
        fine = True
        for key_node, _ in variables.value:  # keys already read (and any problem with them reported)
            problem = variable_name_problem(key_node.value) if key_node.tag == STRING else ""
            if problem:
                reader.error(key_node, problem)
                fine = False
        return fine

    def node_ready(self, args: TemplateArguments, reader: NodeReader, node: yaml.Node) -> bool:
        """Node is there to render it at run time, and reads the file without a syntax error."""
        where = argument_node(node, "source")
        node_program = _javascript.node_program()
        if node_program is None:
            reader.error(where, f"'{args.source}' is a JavaScript template (a CommonJS module, as AutomateJS's), "
                                f"rendered by Node on this machine, but `node` is not installed: "
                                f"{_javascript.INSTALL}; or write it in Jinja2")
            return False
        path = self.source_path(reader, args.source)
        if path is None or not is_file(path):
            return True  # named at run time: Node reports what it finds then
        problem = _javascript.syntax_problem(path.resolve(), node_program)
        if problem is None:
            return True
        reader.diagnostics.error(Location(path, problem.line, problem.column),
                                 f"JavaScript template: {problem.message}", source_line=problem.source_line)
        return False

    def to_ansible(self, args: TemplateArguments, files_prefix: str) -> AnsibleCall:
        if args.engine == "node":
            return self.node_call(args, files_prefix)
        keywords = {"vars": jinja_values(args.variables)} if args.variables else {}
        return AnsibleCall(writer(self.fqcn, args), jinja_values(self.copy_arguments(args, files_prefix)), keywords)

    def node_call(self, args: TemplateArguments, files_prefix: str) -> AnsibleCall:
        copy: dict[str, Any] = {"content": CONTENT, "dest": jinja_values(args.destination)}
        if args.mode is not None:  # not `preserve`: the content's temporary file is the user's alone
            copy["mode"] = args.mode
        copy.update(jinja_values(file_options(args)))
        source = f"{files_prefix}{self.folder}/{args.source}" if files_prefix else args.source
        task_vars = {TEMPLATE_VAR: jinja_values(source), VARIABLES_VAR: jinja_values(args.variables)}
        return AnsibleCall(writer("ansible.builtin.copy", args), copy, {"vars": task_vars})


MODULE = Template()
