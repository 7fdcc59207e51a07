"""Real-host test lab: light sshd hosts and systemd-nspawn Debian machines on loopback addresses."""


class LabError(Exception):
    """A lab host could not be built, started, reached or stopped."""
