"""The cached Debian bookworm root filesystem that every nspawn machine boots from (read-only, overlaid)."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import time
from pathlib import Path

from tests.lab import LabError
from tests.lab.processes import die_with_parent

# Bump the version whenever the build or preparation below changes: a new directory is built
# and the old one is simply no longer used.
ROOTFS_NAME = "bookworm-v2"
DEFAULT_CACHE = Path("/var/cache/rb2ansible-lab")
DEBOOTSTRAP = Path("/usr/sbin/debootstrap")
# debootstrap runs chroot and friends from sbin, which a non-login or CI PATH may lack.
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
PACKAGES = ["systemd", "systemd-sysv", "openssh-server", "python3", "dbus", "iproute2", "sudo"]
FALLBACK_MIRROR = "http://deb.debian.org/debian"
BUILD_TIMEOUT = 900
LOCK_TIMEOUT = BUILD_TIMEOUT + 60  # another process may be building it right now


def cache_dir() -> Path:
    return Path(os.environ.get("RB2A_LAB_CACHE", DEFAULT_CACHE))


def apt_mirror() -> str:
    """The Debian mirror apt already uses here: the one serving 'bookworm' itself (not -security)."""
    sources = Path("/etc/apt")
    for deb822 in sorted(sources.glob("sources.list.d/*.sources")):
        for stanza in deb822.read_text().split("\n\n"):
            fields = dict(
                line.split(":", 1) for line in stanza.splitlines() if ":" in line and not line.startswith("#")
            )
            if "bookworm" in fields.get("Suites", "").split() and "deb" in fields.get("Types", "").split():
                return fields["URIs"].split()[0]
    for one_line in [sources / "sources.list", *sorted(sources.glob("sources.list.d/*.list"))]:
        for line in one_line.read_text().splitlines() if one_line.exists() else []:
            words = [w for w in line.split("#", 1)[0].split() if not w.startswith("[")]
            if len(words) >= 3 and words[0] == "deb" and words[2] == "bookworm":
                return words[1]
    return FALLBACK_MIRROR


def _remove_partial(root: Path) -> None:
    """Delete an unfinished build without ever reaching into the host's /proc, /sys or /dev."""
    # A killed debootstrap may leave those mounted inside; unmount deepest first, then remove
    # only what lies on root's own filesystem.
    mounts = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()]
    for mount in sorted((m for m in mounts if m.startswith(f"{root}/")), reverse=True):
        subprocess.run(["umount", "--lazy", mount], check=False)
    subprocess.run(["rm", "-rf", "--one-file-system", str(root)], check=False)


def _prepare(root: Path) -> None:
    """Make the fresh rootfs fit for booting many times at once under --volatile=overlay."""
    # Empty machine-id: each boot gets its own transient id (from nspawn --uuid) and is not treated
    # as a first boot. systemd would copy dbus's id instead, so that becomes a link to ours.
    (root / "etc/machine-id").write_text("")
    dbus_id = root / "var/lib/dbus/machine-id"
    dbus_id.unlink(missing_ok=True)
    dbus_id.symlink_to("/etc/machine-id")
    # Mount points for the per-boot --bind-ro files (session key, sshd listen address).
    ssh_dir = root / "root/.ssh"
    ssh_dir.mkdir(mode=0o700, exist_ok=True)
    (ssh_dir / "authorized_keys").touch(mode=0o600)
    (root / "etc/ssh/sshd_config.d/lab.conf").touch(mode=0o644)
    shutil.rmtree(root / "var/cache/apt/archives", ignore_errors=True)
    (root / "var/cache/apt/archives/partial").mkdir(parents=True)


def _build(target: Path, log_path: Path) -> None:
    building = target.with_name(f"{target.name}.building-{os.getpid()}")
    argv = [
        str(DEBOOTSTRAP), "--variant=minbase", f"--include={','.join(PACKAGES)}",
        "bookworm", str(building), apt_mirror(),
    ]
    with open(log_path, "wb") as log:
        try:
            returncode = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                        env={**os.environ, "PATH": SYSTEM_PATH}, timeout=BUILD_TIMEOUT,
                                        preexec_fn=die_with_parent).returncode
        except subprocess.TimeoutExpired:
            returncode = f"timed out after {BUILD_TIMEOUT}s"
    if returncode != 0:
        _remove_partial(building)
        tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-30:])
        raise LabError(f"debootstrap failed ({returncode}), log {log_path}:\n{tail}")
    _prepare(building)
    # Only a complete rootfs ever gets the final name, so a half-built one is never booted.
    building.rename(target)


def ensure_rootfs() -> Path:
    """Return the cached rootfs, building it first (under a lock shared by all pytest processes)."""
    if not DEBOOTSTRAP.exists():
        raise LabError(f"{DEBOOTSTRAP} is missing: run tools/install-test-system-deps.sh")
    cache = cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / ROOTFS_NAME
    with open(cache / f"{ROOTFS_NAME}.lock", "w") as lock:
        deadline = time.monotonic() + LOCK_TIMEOUT
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise LabError(f"another process held {lock.name} for over {LOCK_TIMEOUT}s") from None
                time.sleep(1)
        if not target.is_dir():
            # Leftovers of a build that was killed: we hold the lock, so nobody is still writing them.
            for stale in cache.glob(f"{ROOTFS_NAME}.building-*"):
                _remove_partial(stale)
            _build(target, cache / f"{ROOTFS_NAME}.debootstrap.log")
    return target
