"""Makes the rb2ansible.runbook collection source tree loadable by Ansible from a temporary directory."""

from __future__ import annotations

from pathlib import Path

COLLECTION_SOURCE = Path(__file__).resolve().parents[1] / "ansible_modules"


def install_collection(root: Path) -> Path:
    """Lay out root/ansible_collections/rb2ansible/runbook pointing at the source tree.

    Returns root, the value for ANSIBLE_COLLECTIONS_PATH. A symlink, not a copy, so a test
    always runs the module as it is in the working tree.
    """
    namespace_dir = root / "ansible_collections" / "rb2ansible"
    namespace_dir.mkdir(parents=True, exist_ok=True)
    link = namespace_dir / "runbook"
    if not link.exists():
        link.symlink_to(COLLECTION_SOURCE, target_is_directory=True)
    return root
