"""rb2ansible: compile AutomateJS-style runbooks into Ansible and run them with ansible-runner.

The pipeline, one module per stage:
loader → build (model) → checks → schedule → emit → project → execute → results → cli.
"""

__version__ = "0.1.0"
