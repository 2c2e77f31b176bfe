"""CPU and memory of process trees, read from /proc."""

import os

from . import CLK_TCK


def _stat_fields(pid):
    """Fields 3.. of /proc/PID/stat (after the command name), or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    return data[data.rindex(b")") + 2:].split()


def read_stat(pid):
    """(ppid, cpu ticks incl. reaped children) or None if the pid is gone."""
    rest = _stat_fields(pid)
    if rest is None:
        return None
    # rest[0] is field 3 (state); utime..cstime are fields 14..17.
    return int(rest[1]), int(rest[11]) + int(rest[12]) + int(rest[13]) + int(rest[14])


def read_stat_split(pid):
    """(own utime+stime, reaped children's cutime+cstime) or None."""
    rest = _stat_fields(pid)
    if rest is None:
        return None
    return int(rest[11]) + int(rest[12]), int(rest[13]) + int(rest[14])


def start_time(pid):
    """Start time (field 22) of a live process; None if gone or a zombie."""
    rest = _stat_fields(pid)
    if rest is None or rest[0] in (b"Z", b"X"):
        return None
    return int(rest[19])


def all_ppids():
    out = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = read_stat(int(name))
            if st:
                out[int(name)] = st[0]
    return out


def tree(root_pid):
    """root_pid and every descendant."""
    ppids = all_ppids()
    kids = {}
    for pid, ppid in ppids.items():
        kids.setdefault(ppid, []).append(pid)
    out, todo = [], [root_pid]
    while todo:
        pid = todo.pop()
        if pid in ppids or pid == root_pid:
            out.append(pid)
        todo.extend(kids.get(pid, []))
    return out


def proc_name(pid):
    """argv[0] of pid (Dovecot: dovecot/pop3 etc.), '?' if gone."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().split(b"\0")[0].decode(errors="replace")
    except OSError:
        return "?"


def proc_exe(pid):
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return ""


def smaps_rollup(pid):
    """{field: KiB} from /proc/PID/smaps_rollup, or None if gone."""
    vals = {}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 2 and parts[0].endswith(":") and parts[1].isdigit():
                    vals[parts[0][:-1]] = int(parts[1])
    except OSError:
        return None
    return vals


def machine_busy():
    """(busy, total) CPU seconds of the whole machine since boot."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    total = sum(v)
    return (total - v[3] - v[4]) / CLK_TCK, total / CLK_TCK
