#!/usr/bin/env python3
"""Sort the samples of a `profile_conn.py --perf FILE` run into phases.

Every cpu-clock sample of a postern-* process (perf record -a -g) is put
in the first phase whose pattern matches a frame of its call chain, leaf
first; the table gives milliseconds of CPU per unit of work (samples /
frequency / units).  The process name is the one at the sample: a child
between clone and execve still counts as postern-master.

  perf_phases.py FILE UNITS [--freq 4000]
"""

import argparse
import re
import subprocess
import sys
from collections import defaultdict

# (phase, regex on a frame's symbol).  Leaf frames are tried first, so the
# user-space groups catch what a library does, the kernel groups where a
# system call spends its time.
PHASES = [
    ("CPUID probes (glibc start-up, BearSSL)",
     r"^(intel_check_word|handle_intel|get_common_cache_info|get_common_indices|"
     r"get_extended_indices|update_active|init_cpu_features|init_cacheinfo|"
     r"br_aes_x86ni_supported|br_ghash_pclmul_get|br_prng_seeder_system|br_chacha20_sse2_get|"
     r"br_cpuid)"),
    ("libseccomp compiler", r"^(_?gen_bpf|_?db_|arch_|_hsh_|hash$|seccomp_|_sys_|_bpf_|_blk_|_program_)"),
    ("TLS (BearSSL)", r"^(br_|f255_|t0_|\w+_f256$|p256_|api_)"),
    ("static-PIE relocation", r"^_dl_relocate_static_pie"),
    ("kernel: execve", r"^(bprm_execve|load_elf_binary|begin_new_exec|do_execveat_common)"),
    ("kernel: exit", r"^(do_exit|do_group_exit|exit_mmap|mmput)$"),
    ("kernel: fork/clone", r"^(copy_process|kernel_clone|dup_mm|dup_mmap)"),
    ("kernel: page faults", r"^(exc_page_fault|asm_exc_page_fault|handle_mm_fault)$"),
    ("kernel: seccomp filter load", r"^(do_seccomp|seccomp_set_mode_filter)"),
    ("kernel: prctl/capabilities/ids", r"^(__do_sys_prctl|__x64_sys_prctl|__sys_setres[ug]id|"
     r"__x64_sys_capset|__x64_sys_setgroups|commit_creds)"),
    ("kernel: sockets, pipes, fds", r"^(tcp_|unix_|sock_|__sys_|inet_|pipe|do_pipe|__fput|"
     r"__x64_sys_(close|dup2|fcntl|socketpair|accept4|memfd_create|openat|read|write))"),
    ("kernel: other system calls", r"^(entry_SYSCALL_64|do_syscall_64)"),
]
COMPILED = [(name, re.compile(rx)) for name, rx in PHASES]


def samples(path):
    """(comm, [symbols leaf first]) per sample, from perf script."""
    out = subprocess.run(["perf", "script", "-i", path, "-F", "comm,ip,sym"],
                         capture_output=True, text=True, errors="replace").stdout
    comm, frames = None, []
    for line in out.splitlines():
        if not line.strip():
            if comm is not None:
                yield comm, frames
            comm, frames = None, []
        elif not line[0].isspace():
            comm, frames = line.strip(), []
        else:
            parts = line.split(None, 1)
            frames.append(parts[1].split("+")[0].strip() if len(parts) > 1 else "?")
    if comm is not None:
        yield comm, frames


def phase_of(frames):
    for f in frames:
        for name, rx in COMPILED:
            if rx.search(f):
                return name
    return "user space, the rest" if frames else "?"


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file")
    ap.add_argument("units", type=int)
    ap.add_argument("--freq", type=float, default=4000.0)
    args = ap.parse_args()
    table = defaultdict(lambda: defaultdict(int))
    for comm, frames in samples(args.file):
        if comm.startswith("postern-"):
            table[comm][phase_of(frames)] += 1
    scale = 1000.0 / args.freq / args.units
    grand = 0
    for comm in sorted(table):
        total = sum(table[comm].values())
        grand += total
        print(f"{comm}: {total * scale:.3f} ms per unit")
        for ph, n in sorted(table[comm].items(), key=lambda kv: -kv[1]):
            print(f"  {n * scale:7.3f}  {ph}")
    print(f"all postern processes: {grand * scale:.3f} ms per unit")
    return 0


if __name__ == "__main__":
    sys.exit(main())
