# The set-up of a fresh Debian/Ubuntu machine with Swift 6, in one command each:
#   make demo     install the missing system packages (sudo when not root), build, run `batch demo`
#   make test     the same set-up, then the whole test suite (what CI runs)
#   make install  the static release binary, shell completions and the man page under PREFIX
PREFIX ?= /usr/local
DESTDIR ?=
SWIFT ?= swift

BINDIR := $(DESTDIR)$(PREFIX)/bin
MANDIR := $(DESTDIR)$(PREFIX)/share/man/man1
BASHDIR := $(DESTDIR)$(PREFIX)/share/bash-completion/completions
ZSHDIR := $(DESTDIR)$(PREFIX)/share/zsh/site-functions
FISHDIR := $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
STAGE := .build/install-stage
# sudo for installing only when PREFIX cannot be written and we are not root.
SUDO := $(shell [ "$$(id -u)" = 0 ] || [ -w "$(DESTDIR)$(PREFIX)" ] || echo sudo)

.PHONY: deps build demo test release stage install uninstall

deps:
	ops/setup/install-deps.sh

build: deps
	$(SWIFT) build --product batch

demo: build
	.build/debug/batch demo

test: deps
	$(SWIFT) build
	$(SWIFT) test

release: deps
	$(SWIFT) build -c release --static-swift-stdlib --product batch

# The completions (from the binary itself) and the man page (swift-argument-parser's
# generate-manual plugin, on the debug build so the static release binary is left as it is;
# blank lines become paragraph breaks, which man wants).
stage: release build
	rm -rf $(STAGE) && mkdir -p $(STAGE)
	.build/release/batch --generate-completion-script bash > $(STAGE)/batch.bash
	.build/release/batch --generate-completion-script zsh > $(STAGE)/_batch
	.build/release/batch --generate-completion-script fish > $(STAGE)/batch.fish
	$(SWIFT) package plugin generate-manual --configuration debug
	sed 's/^$$/.Pp/' .build/plugins/GenerateManual/outputs/batch/batch.1 > $(STAGE)/batch.1

install: stage
	$(SUDO) install -d $(BINDIR) $(MANDIR) $(BASHDIR) $(ZSHDIR) $(FISHDIR)
	$(SUDO) install -m 755 .build/release/batch $(BINDIR)/batch
	$(SUDO) install -m 644 $(STAGE)/batch.1 $(MANDIR)/batch.1
	$(SUDO) install -m 644 $(STAGE)/batch.bash $(BASHDIR)/batch
	$(SUDO) install -m 644 $(STAGE)/_batch $(ZSHDIR)/_batch
	$(SUDO) install -m 644 $(STAGE)/batch.fish $(FISHDIR)/batch.fish
	@echo "installed $(BINDIR)/batch, its man page and completions (bash, zsh, fish); try: batch demo"

uninstall:
	$(SUDO) rm -f $(BINDIR)/batch $(MANDIR)/batch.1 $(BASHDIR)/batch $(ZSHDIR)/_batch $(FISHDIR)/batch.fish
