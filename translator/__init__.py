"""rb2ansible: compile AutomateJS-style runbooks into Ansible and run them with ansible-runner.

The pipeline, one module per stage:
loader → build (the model, checked; modules resolved) → emit (+ calls) → yamlout →
project → execute → results → progress → cli. easy_modules/ wraps Python functions as modules.
"""

__version__ = "0.1.0"

# The oldest ansible-core the generated roles and collections declare (meta/main.yml, meta/runtime.yml). It must
# match pyproject.toml's `ansible-core>=` and ansible_modules/meta/runtime.yml: tests/unit/test_versions.py checks.
MIN_ANSIBLE_CORE = "2.18"
