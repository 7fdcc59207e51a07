"""rb2ansible: compile AutomateJS-style runbooks into Ansible and run them with ansible-runner.

The pipeline, one module per stage:
loader → build (the model, checked; modules resolved) → emit (+ calls) → yamlout →
project → execute → results → progress → cli. easy_modules/ wraps Python functions as modules.
"""

__version__ = "0.1.0"
