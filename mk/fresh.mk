# mk/fresh.mk - the newcomer's check (issue 10): a clean Debian 12 chroot, a
# clone of HEAD, `make demo` then `make test` in it, nothing before them.
#   make fresh-check     tools/fresh-debian.sh (root; a few minutes; the base
#                        root and the .deb files are cached in FRESH_CACHE)
# .ci/run runs it before the full suite.

FRESH_CACHE ?= /var/cache/lua-aws-connect-ci
FRESH_LOGS  ?= build/fresh

.PHONY: fresh-check

fresh-check:
	@sh tools/fresh-debian.sh --cache $(FRESH_CACHE) --logs $(CURDIR)/$(FRESH_LOGS) .
