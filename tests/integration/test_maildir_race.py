"""A hostile local user whose uid is their mail uid (Maildirs under /home,
`posternctl user add -u`) against the root side of stored and `posternctl
deliver`: symlinks planted in, and raced into, the Maildir must never make
root change a file outside it."""
import ctypes
import errno
import os
import poplib
import select
import stat
import traceback
import unittest

from harness import Appliance, make_message, wait_until

RENAME_EXCHANGE = 2  # linux/fs.h
LIBC = ctypes.CDLL(None, use_errno=True)

# The race is bounded by counts, not by time: so many logins, so many
# deliveries, while the racer swaps until told to stop (or reaches its cap).
RACE_LOGINS, RACE_DELIVERIES, RACER_MAX_SWAPS = 50, 30, 2000000


def exchange(dfd, a, b):
    """renameat2(RENAME_EXCHANGE): both names swap atomically."""
    if LIBC.renameat2(dfd, a, dfd, b, RENAME_EXCHANGE) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))


def become(uid, gid):
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    assert os.getresuid() == (uid, uid, uid) and os.getresgid() == (gid, gid, gid)


class Racer:
    """A child running as the hostile uid.  Each name of `names` (a dir fd,
    a bytes name, a symlink target) is swapped, round by round, three ways:
    toggled between its real directory and a symlink to a root-owned target
    by renameat2(RENAME_EXCHANGE) with a prepared NAME.lnk; toggled by
    os.rename + os.symlink; and lured: the real directory is moved away so
    that root-run code recreates the name, and a directory there that is not
    the user's is exchanged with the symlink back and forth at once (the
    window between a root lstat() and chown() that the finding used).  stop() ends the loop,
    puts every real directory back and returns the number of swaps.  Lures
    take long (the name stays free while probing), so they are optional: a
    racer without them toggles far more often."""

    LURE_SPINS, LURE_FLIPS = 5000, 400  # lstat() probes and exchanges per lure: counts

    def __init__(self, uid, gid, names, lures):
        self.lures = lures
        self.stop_r, self.stop_w = os.pipe()
        self.res_r, self.res_w = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            code = 1
            try:
                become(uid, gid)
                os.write(self.res_w, b"%d" % self.run(names))
                code = 0
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(code)
        os.close(self.res_w)

    def run(self, names):
        self.state = {}  # name -> None (real) | "x" (exchanged) | "r" (renamed aside)
        for dfd, name, target in names:
            if name not in self.state:  # a name may be listed more than once
                os.symlink(target, name + b".lnk", dir_fd=dfd)
                self.state[name] = None
        n = 0
        while n < RACER_MAX_SWAPS:
            if n % 32 == 0 and select.select([self.stop_r], [], [], 0)[0]:
                break
            dfd, name, target = names[n % len(names)]
            mode = (n // len(names)) % (3 if self.lures else 2)
            try:
                if mode == 2 and self.state[name] is None:
                    n += self.lure(dfd, name)
                else:
                    self.toggle(dfd, name, target, mode == 0 if self.state[name] is None
                                else self.state[name] == "x")
            except OSError:
                pass  # stored or deliver made a fresh directory meanwhile: next round
            n += 1
        for dfd, name, target in names:
            if self.state[name] is not None:
                self.toggle(dfd, name, target, self.state[name] == "x")
        return n

    @staticmethod
    def aside(dfd, name):
        """Move whatever directory is at name out of the way."""
        junk = b"%s.junk%d" % (name, os.stat(name, dir_fd=dfd, follow_symlinks=False).st_ino)
        os.rename(name, junk, src_dir_fd=dfd, dst_dir_fd=dfd)

    def lure(self, dfd, name):
        """Returns the number of exchanges made."""
        os.rename(name, name + b".real", src_dir_fd=dfd, dst_dir_fd=dfd)
        self.state[name] = "r"
        flips = 0
        for _ in range(self.LURE_SPINS):
            try:
                st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
            except FileNotFoundError:
                continue
            if stat.S_ISDIR(st.st_mode) and st.st_uid != os.getuid():
                # root made it: flip it with the symlink while root goes on
                # from its lstat() to its chown(); an even count ends with
                # root's directory back at name
                for flips in range(1, self.LURE_FLIPS + 1):
                    exchange(dfd, name, name + b".lnk")
            break
        self.toggle(dfd, name, None, False)
        return flips

    def toggle(self, dfd, name, target, by_exchange):
        if self.state[name] is None and by_exchange:
            exchange(dfd, name, name + b".lnk")
            self.state[name] = "x"
        elif self.state[name] is None:
            os.rename(name, name + b".real", src_dir_fd=dfd, dst_dir_fd=dfd)
            self.state[name] = "r"
            os.symlink(target, name, dir_fd=dfd)
        elif self.state[name] == "x":
            exchange(dfd, name, name + b".lnk")
            self.state[name] = None
        else:
            try:
                os.unlink(name, dir_fd=dfd)
            except FileNotFoundError:
                pass
            except IsADirectoryError:
                self.aside(dfd, name)  # made in the instant the name was free
            os.rename(name + b".real", name, src_dir_fd=dfd, dst_dir_fd=dfd)
            self.state[name] = None

    def stop(self):
        os.write(self.stop_w, b"x")
        _, status = os.waitpid(self.pid, 0)
        swaps = os.read(self.res_r, 64)
        for fd in (self.stop_r, self.stop_w, self.res_r):
            os.close(fd)
        if status != 0:
            raise AssertionError("racer failed: status %d" % status)
        return int(swaps)


class HostileBase(unittest.TestCase):
    """One appliance; each test makes its own hostile user under home/."""
    uid = 7300

    @classmethod
    def setUpClass(cls):
        cls.app = Appliance().start()
        cls.home = os.path.join(cls.app.dir, "home")
        os.mkdir(cls.home, 0o755)

    def setUp(self):
        """Root-owned targets a symlink may point at, fresh for each test."""
        self.targets = os.path.join(self.app.dir, "targets-" + self._testMethodName)
        self.rootdir = os.path.join(self.targets, "rootdir")
        self.secret = os.path.join(self.targets, "secret")
        os.makedirs(self.rootdir, 0o755)
        os.chmod(self.targets, 0o755)
        with open(self.secret, "w") as f:
            f.write("root's file\n")
        os.chmod(self.secret, 0o600)
        with open(os.path.join(self.rootdir, "keep"), "w") as f:
            f.write("root's dir\n")

    @classmethod
    def tearDownClass(cls):
        cls.app.cleanup()

    def hostile_user(self):
        """A user whose home (the mail root's parent) is their own, as under
        /home, with uid = gid = their mail uid."""
        type(self).uid += 1
        uid, name = self.uid, "h%d" % self.uid
        home = os.path.join(self.home, name)
        os.mkdir(home, 0o755)
        os.chown(home, uid, uid)
        self.app.ctl("user", "add", name, "-p", "pw", "-u", str(uid), "-g", str(uid),
                     "-m", os.path.join(home, "Maildir"))
        return name, uid, home

    def targets_state(self):
        out = {}
        for p in (self.targets, self.rootdir, self.secret, os.path.join(self.rootdir, "keep")):
            st = os.lstat(p)
            out[p] = (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode))
        out["listing"] = sorted(os.listdir(self.rootdir))
        with open(self.secret) as f:
            out["content"] = f.read()
        return out

    def outside_state(self, mailroot_parent):
        """Owner, mode and size of every path of the appliance's directory
        except the log, the user database and what is inside the hostile
        user's home (the mail root and the racer's names)."""
        out = {}
        skip = (os.path.join(self.app.dir, "state"), self.app.logpath)
        for root, dirs, files in os.walk(self.app.dir):
            if root == mailroot_parent:
                dirs[:] = []
                continue
            for n in dirs + files:
                p = os.path.join(root, n)
                if p in skip:
                    continue
                st = os.lstat(p)
                out[p] = (st.st_uid, st.st_gid, st.st_mode, st.st_size if stat.S_ISREG(st.st_mode) else 0)
        return out

    def pop_login(self, user):
        """Log in and STAT; False on any refusal (a refused Maildir, a
        session still holding the lock)."""
        try:
            p = poplib.POP3("127.0.0.1", self.app.port, timeout=10)
        except OSError:
            return False
        try:
            p.user(user)
            p.pass_("pw")
            p.stat()
            p.quit()
            return True
        except (poplib.error_proto, OSError, EOFError):
            return False
        finally:
            p.close()


@unittest.skipUnless(os.geteuid() == 0, "needs root: a hostile uid against root-run code")
class TestRace(HostileBase):
    def race(self, logins, deliveries, lures):
        """Race the hostile user's swaps against so many POP3 logins (stored)
        and `posternctl deliver` runs, then check nothing outside changed."""
        name, uid, home = self.hostile_user()
        self.app.deliver(name, make_message("first", "made the Maildir\n"))
        md = os.path.join(home, "Maildir")
        self.assertEqual(os.stat(md).st_uid, uid)
        before, outside = self.targets_state(), self.outside_state(home)
        home_fd = os.open(home, os.O_RDONLY | os.O_DIRECTORY)
        md_fd = os.open(md, os.O_RDONLY | os.O_DIRECTORY)
        rootdir, secret = os.fsencode(self.rootdir), os.fsencode(self.secret)
        maildir = (home_fd, b"Maildir", rootdir)
        new, cur, tmp = (md_fd, b"new", rootdir), (md_fd, b"cur", secret), (md_fd, b"tmp", secret)
        names = [new, cur, tmp, maildir]
        if lures:
            # the Maildir lured most: root that recreates it, then makes
            # cur/ new/ tmp/ by path, has the most steps to catch
            names = [new, maildir, cur, maildir, tmp, maildir] + [maildir] * 3
        racer = Racer(uid, uid, names, lures)
        ok_logins = ok_deliveries = 0
        try:
            for i in range(max(logins, deliveries)):
                if i < deliveries:
                    r = self.app.ctl("deliver", name, input=make_message("race %d" % i, "x\n"), check=False)
                    ok_deliveries += r.returncode == 0
                if i < logins:
                    ok_logins += self.pop_login(name)
        finally:
            swaps = racer.stop()
            os.close(home_fd)
            os.close(md_fd)
        if os.environ.get("MAILDIR_RACE_VERBOSE"):
            print("\nrace: %d swaps; %d/%d logins and %d/%d deliveries got through"
                  % (swaps, ok_logins, logins, ok_deliveries, deliveries))
        self.assertGreater(swaps, 0)
        self.assertEqual(self.targets_state(), before)
        self.assertEqual(self.outside_state(home), outside)
        # and with the racer gone the user is served as usual (once the last
        # racing session has let go of the POP3 lock)
        self.app.deliver(name, make_message("after", "calm again\n"))
        wait_until(lambda: self.pop_login(name), 10, "a login after the race")

    def test_racing_logins_never_reach_root_files(self):
        self.race(RACE_LOGINS, 0, lures=True)  # stored made root-owned dirs to chown

    def test_racing_deliveries_never_reach_root_files(self):
        self.race(0, RACE_DELIVERIES, lures=False)  # deliver followed plain symlinks


@unittest.skipUnless(os.geteuid() == 0, "needs root: a hostile uid against root-run code")
class TestPlantedSymlinks(HostileBase):
    def plant(self, home, sub):
        """Replace Maildir/<sub> (or the Maildir itself, sub None) by a
        symlink to the root-owned directory, as the user could."""
        md = os.path.join(home, "Maildir")
        path = md if sub is None else os.path.join(md, sub)
        os.rename(path, path + ".real")
        os.symlink(self.rootdir, path)
        os.lchown(path, self.uid, self.uid)

    def assert_both_refuse(self, name, why):
        before = self.targets_state()
        r = self.app.ctl("deliver", name, input=make_message("planted", "x\n"), check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("refusing to deliver", r.stderr)
        self.assertIn(why, r.stderr)
        mark = self.app.log_mark()
        p = poplib.POP3("127.0.0.1", self.app.port, timeout=10)
        p.user(name)
        with self.assertRaises(poplib.error_proto) as e:
            p.pass_("pw")
            p.stat()  # the refusal may come with the first command after PASS
        self.assertIn(b"[SYS/TEMP]", e.exception.args[0])
        p.close()
        self.app.wait_log(r"proc=stored pid=\d+ sid=\w+ level=error event=mailroot_refused "
                          r"user=%s@localhost reason=\"[^\"]*%s" % (name, why), start=mark)
        self.assertEqual(self.targets_state(), before)

    def test_symlinked_new_is_refused(self):
        name, uid, home = self.hostile_user()
        self.app.deliver(name, make_message("first", "x\n"))
        self.plant(home, "new")
        self.assert_both_refuse(name, "new is a symlink or not a directory")

    def test_symlinked_tmp_is_refused(self):
        name, uid, home = self.hostile_user()
        self.app.deliver(name, make_message("first", "x\n"))
        self.plant(home, "tmp")
        self.assert_both_refuse(name, "tmp is a symlink or not a directory")

    def test_symlinked_mail_root_is_refused(self):
        name, uid, home = self.hostile_user()
        self.app.deliver(name, make_message("first", "x\n"))
        self.plant(home, None)
        self.assert_both_refuse(name, "Maildir: is a symlink")

    def test_mail_root_of_another_uid_is_refused(self):
        name, uid, home = self.hostile_user()
        os.mkdir(os.path.join(home, "Maildir"), 0o700)  # left to root: never given away
        self.assert_both_refuse(name, "Maildir: owned by uid 0, not the user's uid %d" % uid)


@unittest.skipUnless(os.geteuid() == 0, "needs root to create users' Maildirs")
class TestNormalMaildirs(HostileBase):
    def test_first_login_creates_the_maildir_as_the_user(self):
        name, uid, home = self.hostile_user()
        self.assertTrue(self.pop_login(name))
        md = os.path.join(home, "Maildir")
        for sub in ("", "cur", "new", "tmp"):
            st = os.lstat(os.path.join(md, sub))
            self.assertTrue(stat.S_ISDIR(st.st_mode))
            self.assertEqual((st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)), (uid, uid, 0o700), sub)
        # the default layout: root makes the parents, the user the Maildir
        self.app.ctl("user", "add", "fresh", "-p", "pw")
        self.assertTrue(self.pop_login("fresh"))
        md = self.app.maildir("fresh")
        st, parent = os.stat(md), os.stat(os.path.dirname(md))
        self.assertEqual((st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)), (7100, 7100, 0o700))
        self.assertEqual(parent.st_uid, 0)

    def test_existing_courier_and_dovecot_maildirs_are_served(self):
        name, uid, home = self.hostile_user()
        md = os.path.join(home, "Maildir")
        files = {
            "cur/1700000001.M1P1.courier,S=31:2,S": b"Subject: courier\n\nseen mail\n",
            "new/1700000002.M2P2.dovecot,S=30,W=32": b"Subject: dovecot\n\nnew mail\n",
            "dovecot-uidlist": b"3 V1700000000 N3\n", "courierimapuiddb": b"1 1700000000 3\n",
            ".Sent/cur/1700000003.M3P3.x:2,S": b"Subject: sent\n\nnot the INBOX\n",
            ".Sent/maildirfolder": b"",
        }
        for p in ("cur", "new", "tmp", ".Sent/cur", ".Sent/new", ".Sent/tmp"):
            os.makedirs(os.path.join(md, p), 0o700)
        for p, data in files.items():
            with open(os.path.join(md, p), "wb") as f:
                f.write(data)
        for root, dirs, fs in os.walk(md):
            for n in [root] + [os.path.join(root, x) for x in dirs + fs]:
                os.lchown(n, uid, uid)
        p = poplib.POP3("127.0.0.1", self.app.port, timeout=10)
        p.user(name)
        p.pass_("pw")
        self.assertEqual(p.stat()[0], 2)
        subjects = [l for i in (1, 2) for l in p.retr(i)[1] if l.startswith(b"Subject:")]
        self.assertEqual(subjects, [b"Subject: courier", b"Subject: dovecot"])
        p.quit()
        with open(os.path.join(md, "dovecot-uidlist"), "rb") as f:
            self.assertEqual(f.read(), files["dovecot-uidlist"])  # other servers' files untouched


if __name__ == "__main__":
    unittest.main()
