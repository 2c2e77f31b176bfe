# Packaging: `make install`, `make uninstall`, `make deb` (docs/INSTALL.md).
# Included from the Makefile; every path below can be set on the command line.
#
#   make install [PREFIX=/usr/local] [DESTDIR=/stage]
#   make uninstall [PREFIX=...] [DESTDIR=...]     (keeps /etc/postern/postern.conf if edited)
#   make deb                                      (build/deb/postern_VERSION_amd64.deb)
#
# The master finds its children in the directory of its own binary
# (/proc/self/exe, symlinks resolved; daemons/master/main.c find_libexec),
# so it lives in LIBEXECDIR with the others and SBINDIR holds a relative
# symlink to it: no libexec_dir key is needed.

.PHONY: install uninstall deb

PREFIX      ?= /usr/local
SBINDIR     ?= $(PREFIX)/sbin
LIBEXECDIR  ?= $(PREFIX)/libexec/postern
DATADIR     ?= $(PREFIX)/share
MANDIR      ?= $(DATADIR)/man
DOCDIR      ?= $(DATADIR)/doc/postern
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
UNITDIR     ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
# The binaries read /etc/postern/postern.conf whatever the prefix.
CONFDIR     ?= /etc/postern

PKG_LIBEXEC := $(filter-out postern-master,$(DAEMONS:%=postern-%) $(DYN_DAEMONS:%=postern-%)) postern-master
PKG_UNITS   := $(notdir $(wildcard systemd/*.service systemd/*.socket))
PKG_MAN     := man/posternctl.8 man/postern-master.8 man/postern.conf.5
PKG_DOCS    := $(wildcard docs/*.md)
PKG_F2B     := $(wildcard docs/fail2ban/*)
INSTALL     ?= install

install: all
	$(INSTALL) -d -m 0755 $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBEXECDIR)
	$(INSTALL) -m 0755 $(PKG_LIBEXEC:%=$(B)/bin/%) $(DESTDIR)$(LIBEXECDIR)/
	$(INSTALL) -m 0755 $(B)/bin/posternctl $(DESTDIR)$(SBINDIR)/posternctl
	ln -sfn $$(realpath -m -s --relative-to=$(SBINDIR) $(LIBEXECDIR)/postern-master) \
	    $(DESTDIR)$(SBINDIR)/postern-master
	$(INSTALL) -d -m 0755 $(DESTDIR)$(UNITDIR)
	@# the units name the master and the docs by path: point them at this prefix
	for u in $(PKG_UNITS); do \
	  sed -e 's|/usr/libexec/postern/|$(LIBEXECDIR)/|g' -e 's|/usr/share/doc/postern/|$(DOCDIR)/|g' \
	    systemd/$$u >$(DESTDIR)$(UNITDIR)/$$u.tmp && chmod 0644 $(DESTDIR)$(UNITDIR)/$$u.tmp && \
	  mv $(DESTDIR)$(UNITDIR)/$$u.tmp $(DESTDIR)$(UNITDIR)/$$u || exit 1; \
	done
	$(INSTALL) -D -m 0644 systemd/postern.sysusers $(DESTDIR)$(SYSUSERSDIR)/postern.conf
	$(INSTALL) -D -m 0644 packaging/postern.tmpfiles $(DESTDIR)$(TMPFILESDIR)/postern.conf
	$(INSTALL) -d -m 0755 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	$(INSTALL) -m 0644 man/postern.conf.5 $(DESTDIR)$(MANDIR)/man5/
	$(INSTALL) -m 0644 man/posternctl.8 man/postern-master.8 $(DESTDIR)$(MANDIR)/man8/
	$(INSTALL) -D -m 0644 completion/posternctl.bash $(DESTDIR)$(BASHCOMPDIR)/posternctl
	$(INSTALL) -d -m 0755 $(DESTDIR)$(DOCDIR)/examples
	$(INSTALL) -m 0644 $(PKG_DOCS) $(DESTDIR)$(DOCDIR)/
	$(INSTALL) -m 0644 packaging/postern.conf $(DESTDIR)$(DOCDIR)/examples/postern.conf
	$(INSTALL) -d -m 0755 $(DESTDIR)$(DOCDIR)/examples/fail2ban
	$(INSTALL) -m 0644 $(PKG_F2B) $(DESTDIR)$(DOCDIR)/examples/fail2ban/
	@# the example config, never over an existing one
	$(INSTALL) -d -m 0755 $(DESTDIR)$(CONFDIR)
	@if [ -e $(DESTDIR)$(CONFDIR)/postern.conf ]; then \
	  echo "  KEEP    $(DESTDIR)$(CONFDIR)/postern.conf (the example is $(DOCDIR)/examples/postern.conf)"; \
	else \
	  $(INSTALL) -m 0644 packaging/postern.conf $(DESTDIR)$(CONFDIR)/postern.conf; \
	fi
	@[ -n "$(DESTDIR)" ] || echo "  next: systemd-sysusers; systemd-tmpfiles --create postern.conf;" \
	    "systemctl daemon-reload (docs/INSTALL.md)"

# Removes what install put there.  The config stays when it differs from the
# example (an edited file is the operator's); state and mail are never touched.
uninstall:
	rm -f $(PKG_LIBEXEC:%=$(DESTDIR)$(LIBEXECDIR)/%)
	-rmdir $(DESTDIR)$(LIBEXECDIR) 2>/dev/null
	rm -f $(DESTDIR)$(SBINDIR)/posternctl $(DESTDIR)$(SBINDIR)/postern-master
	rm -f $(PKG_UNITS:%=$(DESTDIR)$(UNITDIR)/%)
	rm -f $(DESTDIR)$(SYSUSERSDIR)/postern.conf $(DESTDIR)$(TMPFILESDIR)/postern.conf
	rm -f $(DESTDIR)$(MANDIR)/man5/postern.conf.5 $(DESTDIR)$(MANDIR)/man8/posternctl.8 \
	    $(DESTDIR)$(MANDIR)/man8/postern-master.8 $(DESTDIR)$(BASHCOMPDIR)/posternctl
	rm -f $(PKG_DOCS:docs/%=$(DESTDIR)$(DOCDIR)/%) $(DESTDIR)$(DOCDIR)/examples/postern.conf \
	    $(PKG_F2B:docs/fail2ban/%=$(DESTDIR)$(DOCDIR)/examples/fail2ban/%)
	-rmdir $(DESTDIR)$(DOCDIR)/examples/fail2ban $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR) 2>/dev/null
	@if cmp -s packaging/postern.conf $(DESTDIR)$(CONFDIR)/postern.conf; then \
	  rm -f $(DESTDIR)$(CONFDIR)/postern.conf; rmdir $(DESTDIR)$(CONFDIR) 2>/dev/null || true; \
	elif [ -e $(DESTDIR)$(CONFDIR)/postern.conf ]; then \
	  echo "  KEEP    $(DESTDIR)$(CONFDIR)/postern.conf (edited)"; \
	fi

# --- make deb ---------------------------------------------------------------
# A binary package from `make install PREFIX=/usr DESTDIR=stage`, with the
# maintainer scripts of packaging/; dpkg-deb --root-owner-group gives root
# ownership without fakeroot.  The version is git describe in Debian's form
# (packaging/version.sh).
DEB_DIR     := $(B)/deb
DEB_STAGE   := $(DEB_DIR)/stage
DEB_VERSION  = $(shell sh packaging/version.sh)
DEB_FILE     = $(DEB_DIR)/postern_$(DEB_VERSION)_amd64.deb
# Every time in the package is the commit's (reproducible builds: the same
# tree gives the same .deb, as image/build.sh does for the image).
DEB_EPOCH    = $(or $(SOURCE_DATE_EPOCH),$(shell git log -1 --format=%ct 2>/dev/null),0)

deb: all
	@command -v dpkg-deb >/dev/null || { echo "deb: dpkg-deb not found" >&2; exit 1; }
	rm -rf $(DEB_STAGE) && install -d -m 0755 $(DEB_STAGE) $(DEB_STAGE)/DEBIAN
	$(MAKE) --no-print-directory install PREFIX=/usr UNITDIR=/lib/systemd/system \
	    DESTDIR=$(CURDIR)/$(DEB_STAGE) >/dev/null
	@# dh_strip's and dh_compress's jobs, by hand
	strip --remove-section=.comment --remove-section=.note \
	    $(DEB_STAGE)/usr/libexec/postern/postern-* $(DEB_STAGE)/usr/sbin/posternctl
	gzip -9n $(DEB_STAGE)/usr/share/man/man*/*
	install -m 0644 packaging/copyright $(DEB_STAGE)/usr/share/doc/postern/copyright
	sh packaging/changelog.sh "$(DEB_VERSION)" | gzip -9n >$(DEB_STAGE)/usr/share/doc/postern/changelog.gz
	chmod 0644 $(DEB_STAGE)/usr/share/doc/postern/changelog.gz
	install -m 0755 packaging/postinst packaging/prerm packaging/postrm $(DEB_STAGE)/DEBIAN/
	(cd $(DEB_STAGE) && find etc -type f | sed 's|^|/|' | LC_ALL=C sort) >$(DEB_STAGE)/DEBIAN/conffiles
	(cd $(DEB_STAGE) && find . -path ./DEBIAN -prune -o -type f -print | LC_ALL=C sort | \
	    xargs md5sum | sed 's|  \./|  |') >$(DEB_STAGE)/DEBIAN/md5sums
	chmod 0644 $(DEB_STAGE)/DEBIAN/conffiles $(DEB_STAGE)/DEBIAN/md5sums
	sed -e "s|@VERSION@|$(DEB_VERSION)|" \
	    -e "s|@SIZE@|$$(du -sk --apparent-size --exclude=DEBIAN $(DEB_STAGE) | cut -f1)|" \
	    packaging/control.in >$(DEB_STAGE)/DEBIAN/control
	@# nor the umask: directories 0755 whoever made them
	find $(DEB_STAGE) -type d -exec chmod 0755 {} +
	chmod 0644 $(DEB_STAGE)/DEBIAN/control
	find $(DEB_STAGE) -exec touch -h -d @$(DEB_EPOCH) {} +
	rm -f $(DEB_DIR)/*.deb
	SOURCE_DATE_EPOCH=$(DEB_EPOCH) dpkg-deb --root-owner-group -Zxz --build $(DEB_STAGE) $(DEB_FILE)
	@echo "  DEB     $(DEB_FILE)"
