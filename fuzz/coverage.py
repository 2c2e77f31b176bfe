#!/usr/bin/env python3
"""Line and branch coverage of what each fuzz target owns, from its committed corpus.

    python3 fuzz/coverage.py [--work DIR] [--readme] [--check] [--write-baseline]

Builds every target with clang source-based coverage (fuzz/build.sh with
SANITIZER=coverage FUZZING_ENGINE=none: fuzz/replay.c is the main), runs each
over fuzz/corpus/<target>/, and sums llvm-cov's per-function figures over the
functions the target owns (OWNED below).  --readme rewrites the table between
the markers in fuzz/README.md; --check fails when a target is below
fuzz/coverage-baseline.txt; --write-baseline records the current figures
(do that on purpose, when a corpus or an owned function changes); --pick
adds to a corpus the few inputs of a campaign that raise its coverage.
"""
import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BASELINE = os.path.join(TOP, "fuzz", "coverage-baseline.txt")
README = os.path.join(TOP, "fuzz", "README.md")
CORPUS = os.path.join(TOP, "fuzz", "corpus")
BEGIN, END = "<!-- coverage:begin -->", "<!-- coverage:end -->"

# What each target is responsible for: a file and the functions of it that
# the target exists to exercise (None = the whole file).  Functions that do
# I/O live in the same files but are not the target's business.
OWNED = {
    "fuzz_authdproto": ("common/ipc/authdproto.c", None),
    "fuzz_cram": ("common/auth/cram.c", None),
    "fuzz_delivered": ("common/mail/delivered.c", None),
    "fuzz_dns": ("common/net/dns.c", None),
    "fuzz_resolvproto": ("common/ipc/resolvproto.c", None),
    "fuzz_mimecheck": ("common/mail/mimecheck.c", None),
    "fuzz_alias_record": ("common/mail/aliases.c", ["aliases_decode", "aliases_encode",
                                                    "aliases_text"]),
    "fuzz_dotstuff": ("common/proto/dotstuff.c", None),
    "fuzz_config": ("common/base/config.c", [
        "set_value", "mode_parse", "config_defaults", "find_key", "trim", "parse_line",
        "check_mail_root", "check_hostname", "config_parse", "config_path_canonical",
        "safe_part", "config_expand_mailroot"]),
    "fuzz_ctlproto": ("common/ipc/ctlproto.c", None),
    "fuzz_x25519": ("common/net/x25519.c", None),
    "fuzz_p256": ("common/net/p256.c", None),
    "fuzz_namechars": ("common/auth/namechars.c", None),
    "fuzz_config_env": ("common/base/config.c", [
        "config_apply_env", "env_value_ok", "config_format", "format_keys",
        "config_format_changed", "format_value"]),
    "fuzz_folder_name": ("common/mail/folders.c", [
        "fail", "is_inbox", "put_component", "folders_to_dir", "unescape", "dot_component",
        "decode_dir", "folders_from_dir"]),
    "fuzz_ipc": ("common/ipc/ipc.c", [
        "ipc_decode", "get_raw", "ipc_get_u8",
        "ipc_get_u32", "ipc_get_u64", "ipc_get_bytes", "ipc_get_str", "ipc_in_end",
        "ipc_dispatch", "ipc_dispatch_chan", "permitted"]),
    "fuzz_imap_fmt": ("common/proto/imap_fmt.c", [
        "digits", "expect", "month_days", "month_year", "day", "imap_date_parse", "time_zone",
        "imap_datetime_parse", "imap_is_keyword", "system_flag", "imap_flags_parse"]),
    "fuzz_imap_eval": ("common/mail/imap_eval.c", None),
    "fuzz_imap_fetch": ("common/mail/imap_fetch.c", None),
    "fuzz_http_req": ("common/proto/http_req.c", None),
    "fuzz_imap_parse": ("common/proto/imap_parse.c", None),
    "fuzz_imap_search": ("common/proto/imap_search.c", None),
    "fuzz_imap_list": ("common/proto/imap_list.c", None),
    "fuzz_imap_seqset": ("common/proto/imap_seqset.c", None),
    "fuzz_keydproto": ("common/ipc/keydproto.c", None),
    "fuzz_backendproto": ("common/ipc/backendproto.c", None),
    "fuzz_backendq": ("common/auth/backendq.c", None),
    "fuzz_ldapesc": ("common/auth/ldapesc.c", None),
    "fuzz_log_quote": ("common/base/log.c", ["log_quote"]),
    "fuzz_log_field": ("common/base/log.c", ["log_field"]),
    "fuzz_userimport": ("common/mail/userimport.c", None),
    "fuzz_masterproto": ("common/ipc/masterproto.c", None),
    "fuzz_mime": ("common/mail/mime.c", None),
    "fuzz_mailfiles": ("common/mail/mailfiles.c", None),
    "fuzz_maildir_name": ("common/mail/maildir.c", ["parse_field", "maildir_parse_name",
                                               "maildir_uidl"]),
    "fuzz_mutf7": ("common/proto/mutf7.c", None),
    "fuzz_netaddr": ("common/net/netaddr.c", ["netaddr_parse"]),
    "fuzz_pem": ("common/net/pem.c", None),
    "fuzz_pop3_encode": ("common/proto/pop3_encode.c", None),
    "fuzz_pop3_parse": ("common/proto/pop3_parse.c", None),
    "fuzz_proxy": ("common/net/proxy.c", None),
    "fuzz_quota_parse": ("common/mail/quota.c", ["parse_i64", "parse_def", "parse_usage",
                                               "quota_parse", "quota_imap"]),
    "fuzz_rfc2047": ("common/mail/decode.c", None),
    "fuzz_rfc5322_addr": ("common/mail/rfc5322.c", None),
    "fuzz_sasl": ("common/proto/sasl.c", None),
    "fuzz_scram": ("common/auth/scram.c", [
        "take", "at_end", "saslname", "printable", "extension", "b64text", "gs2_header",
        "scram_client_first_parse", "scram_client_final_parse", "scram_server_first"]),
    "fuzz_smtp_parse": ("common/proto/smtp_parse.c", None),
    "fuzz_smtp_reply": ("common/proto/smtp_reply.c", None),
    "fuzz_storeimap": ("common/ipc/storeimap.c", None),
    "fuzz_storeproto": ("common/ipc/storeproto.c", None),
    "fuzz_tls_pick": ("common/net/tls.c", ["tls_pick_chain", "chain_usable"]),
    "fuzz_userdb": ("common/mail/userdb.c", ["put_be", "get_be", "userdb_user_encode", "get_str",
                                        "userdb_user_decode", "get_scram", "get_which", "get_cram",
                                        "userdb_normalize"]),
    "fuzz_x509": ("common/net/x509.c", [
        "der_init", "der_next", "der_expect", "der_optional", "der_close", "der_is",
        "ascii_lower", "ascii_ieq", "x509_host_valid", "pattern_valid", "x509_name_match",
        "names_add", "walk_algid", "walk_name", "walk_validity", "walk_spki", "walk_san",
        "walk_extensions", "walk_tbs", "x509_cert_names"]),
}

ROW = re.compile(r"^(\S+)\s+(\d+)\s+(\d+)\s+\S+\s+(\d+)\s+(\d+)\s+\S+\s+(\d+)\s+(\d+)\s+\S+$")


def tool(name):
    for n in (name + "-14", name):
        p = shutil.which(n)
        if p:
            return p
    return None


def targets():
    names = [f[:-2] for f in os.listdir(os.path.join(TOP, "fuzz"))
             if f.startswith("fuzz_") and f.endswith(".c")]
    return sorted(names)


def build(work):
    env = dict(os.environ, SANITIZER="coverage", FUZZING_ENGINE="none",
               OUT=os.path.join(work, "out"), WORK=os.path.join(work, "obj"),
               SRC=os.path.dirname(TOP))
    for k in ("CFLAGS", "CXXFLAGS", "LIB_FUZZING_ENGINE"):
        env.pop(k, None)
    env.setdefault("CC", "clang")
    env.setdefault("CXX", "clang++")
    subprocess.run(["bash", os.path.join(TOP, "fuzz", "build.sh")], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return env["OUT"]


def run_profile(out, work, t, inputs, name):
    """Run target t over inputs (files or directories); returns a .profdata."""
    raw, prof = os.path.join(work, name + ".profraw"), os.path.join(work, name + ".profdata")
    subprocess.run([os.path.join(out, t)] + inputs, env=dict(os.environ, LLVM_PROFILE_FILE=raw),
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run([tool("llvm-profdata"), "merge", "-sparse", raw, "-o", prof], check=True)
    return prof


def per_function(out, t, prof):
    """{function: (lines covered, lines, branches covered, branches)} of t's
    owned functions, and the whole file's line percentage."""
    path, funcs = OWNED[t]
    rep = subprocess.run([tool("llvm-cov"), "report", "-show-functions", os.path.join(out, t),
                          "-instr-profile=" + prof, os.path.join(TOP, path)],
                         check=True, capture_output=True, text=True).stdout
    res, whole = {}, 0.0
    for line in rep.splitlines():
        m = ROW.match(line)
        if not m:
            continue
        lt, lm, bt, bm = (int(m.group(i)) for i in (4, 5, 6, 7))
        if m.group(1) == "TOTAL":
            whole = pct(lt - lm, lt)
            continue
        name = m.group(1).rsplit(":", 1)[-1]	# static functions are "file.c:name"
        if funcs is None or name in funcs:
            res[name] = (lt - lm, lt, bt - bm, bt)
    if not res:
        raise SystemExit("%s: none of its owned functions in %s" % (t, path))
    return res, whole


def measure(out, work, t):
    """(lines covered, lines, branches covered, branches, whole-file line %)."""
    prof = run_profile(out, work, t, [os.path.join(CORPUS, t)], t)
    res, whole = per_function(out, t, prof)
    return tuple(sum(v[i] for v in res.values()) for i in range(4)) + (whole,)


def pick(out, work, t, cand_dir, limit):
    """Copy into fuzz/corpus/t the inputs of cand_dir (smallest first) that
    add owned lines or branches, named after the function they reach."""
    corpus = os.path.join(CORPUS, t)
    base = run_profile(out, work, t, [corpus], t + "-base")
    have, _ = per_function(out, t, base)
    kept = 0
    cands = sorted(os.listdir(cand_dir), key=lambda f: (os.path.getsize(os.path.join(cand_dir, f)), f))
    for f in cands:
        if kept >= limit:
            break
        c = os.path.join(cand_dir, f)
        one = run_profile(out, work, t, [c], t + "-cand")
        both = os.path.join(work, t + "-both.profdata")
        subprocess.run([tool("llvm-profdata"), "merge", "-sparse", base, one, "-o", both], check=True)
        now, _ = per_function(out, t, both)
        gain = {fn: (v[0] - have[fn][0]) + (v[2] - have[fn][2]) for fn, v in now.items()}
        best = max(gain, key=gain.get)
        if gain[best] <= 0:
            continue
        with open(c, "rb") as fh:
            digest = hashlib.sha1(fh.read()).hexdigest()[:8]
        name = "found-%s-%s" % (best.replace("_", "-"), digest)
        shutil.copy(c, os.path.join(corpus, name))
        print("%s: +%d in %s" % (name, gain[best], best))
        os.replace(both, base)
        have = now
        kept += 1


def pct(c, t):
    return 100.0 * c / t if t else 100.0


def table(results):
    rows = ["| target | owns | lines | branches | whole file, lines |",
            "|---|---|---|---|---|"]
    for t, (lc, lt, bc, bt, whole) in sorted(results.items()):
        path, funcs = OWNED[t]
        owns = "`%s`%s" % (path, "" if funcs is None else " (%d functions)" % len(funcs))
        rows.append("| `%s` | %s | %.1f%% (%d/%d) | %.1f%% (%d/%d) | %.1f%% |" %
                    (t, owns, pct(lc, lt), lc, lt, pct(bc, bt), bc, bt, whole))
    return "\n".join(rows)


def update_readme(text):
    with open(README) as f:
        s = f.read()
    a, b = s.index(BEGIN) + len(BEGIN), s.index(END)
    with open(README, "w") as f:
        f.write(s[:a] + "\n" + text + "\n" + s[b:])


def read_baseline():
    base = {}
    with open(BASELINE) as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                t, lines, branches = line.split()
                base[t] = (float(lines), float(branches))
    return base


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work")
    ap.add_argument("--readme", action="store_true")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--write-baseline", action="store_true")
    ap.add_argument("--pick", nargs=2, metavar=("TARGET", "DIR"),
                    help="add the inputs of DIR that raise TARGET's coverage to its corpus")
    ap.add_argument("--limit", type=int, default=8)
    ap.add_argument("--corpus", help="measure the <target>/ directories here instead "
                    "(e.g. an older commit's fuzz/corpus)")
    a = ap.parse_args()
    global CORPUS
    if a.corpus:
        CORPUS = os.path.abspath(a.corpus)
    if not (tool("llvm-profdata") and tool("llvm-cov") and shutil.which("clang")):
        raise SystemExit("coverage.py: needs clang, llvm-profdata-14, llvm-cov-14 (llvm-14)")
    work = a.work or tempfile.mkdtemp(prefix="postern-cov-")
    os.makedirs(work, exist_ok=True)
    out = os.path.join(work, "out") if a.pick and os.path.isdir(os.path.join(work, "out")) \
        else build(work)
    if a.pick:
        pick(out, work, a.pick[0], a.pick[1], a.limit)
        return
    missing = [t for t in targets() if t not in OWNED]
    if missing:
        raise SystemExit("coverage.py: add %s to OWNED" % ", ".join(missing))
    results = {t: measure(out, work, t) for t in targets()
               if os.path.isdir(os.path.join(CORPUS, t))}
    print(table(results))
    if a.readme:
        update_readme(table(results))
    if a.write_baseline:
        with open(BASELINE, "w") as f:
            f.write("# target  line%  branch%  (fuzz/coverage.py --write-baseline)\n")
            for t, (lc, lt, bc, bt, _) in sorted(results.items()):
                f.write("%s %.1f %.1f\n" % (t, pct(lc, lt), pct(bc, bt)))
    if a.check:
        bad = []
        for t, (lines, branches) in read_baseline().items():
            if t not in results:
                bad.append("%s: in the baseline but not built" % t)
                continue
            lc, lt, bc, bt, _ = results[t]
            # one decimal as recorded; the run is deterministic
            if round(pct(lc, lt), 1) < lines or round(pct(bc, bt), 1) < branches:
                bad.append("%s: lines %.1f%% branches %.1f%%, baseline %.1f%% %.1f%%" %
                           (t, pct(lc, lt), pct(bc, bt), lines, branches))
        if bad:
            print("\n".join(bad), file=sys.stderr)
            sys.exit(1)
    if not a.work:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
