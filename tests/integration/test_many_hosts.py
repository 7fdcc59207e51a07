"""Several hosts at once: strategy free, rolling batches, and parallel blocks overlapping on every host."""

from __future__ import annotations

import pytest

from tests.integration.conftest import write_runbook
from tests.integration.lab_runs import everything_printed, host_interval, interval, new_marker, statuses
from tests.lab.inventory import write_inventory

SLOW_SECONDS = 4
SLEEP = 6


@pytest.fixture
def inventory(ssh_hosts, lab_keys, tmp_path):
    return write_inventory(tmp_path / "hosts.ini", ssh_hosts, lab_keys.private_key)


@pytest.mark.parametrize("strategy", ["free", "linear"])
def test_free_strategy_lets_fast_hosts_go_ahead_of_a_slow_one(rb2ansible, ssh_hosts, inventory, tmp_path, strategy):
    slow, *fast = ssh_hosts
    marker = new_marker()
    runbook = write_runbook(tmp_path / "rb", f"""
name: one slow host
hosts: lab
strategy: {strategy}
tasks:
- name: first
  shell: sleep {{{{ {SLOW_SECONDS} if inventory_hostname == '{slow.name}' else 0 }}}}.{marker}
- name: second
  shell: echo second
""")
    # The control is Ansible's linear strategy itself: each step its own task (--fast, as in pytest --fast,
    # would fuse the two steps; tests/integration/test_fused_steps.py).
    done = rb2ansible("run", str(runbook), "-i", str(inventory), "--no-fuse")

    assert done.code == 0, everything_printed(done)
    everyone = {h.name for h in ssh_hosts}
    assert statuses(done.results, "first") == statuses(done.results, "second") == dict.fromkeys(everyone, "changed")
    _, slow_first_end = interval(done.results, "first", slow.name)
    for host in fast:
        second_start, _ = interval(done.results, "second", host.name)
        if strategy == "free":
            assert second_start < slow_first_end - 1, (host.name, second_start, slow_first_end)
        else:  # the control: linear waits for every host before the next task
            assert second_start >= slow_first_end, (host.name, second_start, slow_first_end)


def test_rolling_one_runs_the_hosts_one_after_another(rb2ansible, ssh_hosts, inventory, tmp_path):
    runbook = write_runbook(tmp_path / "rb", """
name: one at a time
hosts: lab
rolling: 1
tasks:
- name: take a second
  shell: sleep 1
- name: report
  shell: echo ${inventory_hostname}
""")
    done = rb2ansible("run", str(runbook), "-i", str(inventory))

    assert done.code == 0, everything_printed(done)
    assert statuses(done.results, "report") == {h.name: "changed" for h in ssh_hosts}
    spans = sorted(host_interval(done.results, h.name) for h in ssh_hosts)
    for (_, earlier_end), (later_start, _) in zip(spans, spans[1:]):
        assert earlier_end <= later_start, spans


def test_parallel_block_overlaps_on_every_host_at_once(rb2ansible, ssh_hosts, inventory, tmp_path):
    marker = new_marker()
    # Over SSH each background launch is one Ansible task of about 1.5 s here (as hand-written
    # async is), so the third child starts about 3 s after the first: the sleeps outlast that.
    children = "".join(f"  - name: sleep {n}\n    shell: sleep {SLEEP}.{marker}{n}\n" for n in range(3))
    runbook = write_runbook(tmp_path / "rb", f"name: together everywhere\nhosts: lab\ntasks:\n"
                                             f"- name: sleepers\n  parallel:\n{children}")
    done = rb2ansible("run", str(runbook), "-i", str(inventory))

    assert done.code == 0, everything_printed(done)
    names = [f"sleep {n}" for n in range(3)]
    spans = {h.name: [interval(done.results, name, h.name) for name in names] for h in ssh_hosts}
    for host, intervals in spans.items():
        assert all(end - start >= SLEEP for start, end in intervals), (host, intervals)
        assert max(start for start, _ in intervals) < min(end for _, end in intervals), (host, intervals)
    # The hosts worked at the same time too: every child on every host was running at one moment.
    every = [span for intervals in spans.values() for span in intervals]
    assert max(start for start, _ in every) < min(end for _, end in every), every
