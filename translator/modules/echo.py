"""`echo`: print a value (ansible.builtin.debug). Never "changed"; runs on the controller, so never as a job."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from ..calls import jinja_values
from ..nodes import NodeReader
from ._core import AnsibleCall, CoreModule


@dataclass(frozen=True)
class EchoArguments:
    message: Any  # any value: a string, a number, a list, a mapping


class Echo(CoreModule):
    name = "echo"
    fqcn = "ansible.builtin.debug"
    # debug runs on the controller in no time; a background job would only add a round trip.
    background = False
    foreground_reason = "echo runs on the controller"
    reports_change = False

    def read(self, reader: NodeReader, node: yaml.Node) -> EchoArguments:
        return EchoArguments(reader.plain(node))

    def to_ansible(self, args: EchoArguments, files_prefix: str) -> AnsibleCall:
        return AnsibleCall(self.fqcn, {"msg": jinja_values(args.message)})


MODULE = Echo()
