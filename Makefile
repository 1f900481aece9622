# Every target sets everything up first and is idempotent: run it twice, the second time it only does the job.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
FMNIST := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
SOUNDFONT := /usr/share/sounds/sf2/FluidR3_GM.sf2
DEMO_OUT ?= runs/demo
AUDIO_OUT ?= runs/demo-audio

.PHONY: setup system demo demo-audio test bench lint clean

setup: system $(STAMP)

# Debian packages: the real Fashion-MNIST, the Fluid R3 soundfont and libfluidsynth (guitar-effects synth), and
# Chromium (the test that opens report.html in a headless browser).
system:
	@need=""; \
	[ -e $(FMNIST) ] || need="$$need dataset-fashion-mnist"; \
	[ -e $(SOUNDFONT) ] || need="$$need fluid-soundfont-gm"; \
	ldconfig -p 2>/dev/null | grep -q libfluidsynth || need="$$need libfluidsynth3"; \
	command -v chromium >/dev/null 2>&1 || need="$$need chromium"; \
	if [ -n "$$need" ]; then \
	  if command -v apt-get >/dev/null 2>&1; then \
	    echo "apt-get install$$need"; \
	    SUDO=""; [ "$$(id -u)" = 0 ] || SUDO="sudo"; \
	    $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$need >/dev/null; \
	  else \
	    echo "warning: apt-get not available; missing Debian packages:$$need (tests that need them are skipped)"; \
	  fi; \
	fi

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

# torch is pinned and installed first, explicitly: an unpinned torch pulls several GB of CUDA packages.
$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

demo: setup
	$(VENV)/bin/helmholtz bits --dataset fashion-mnist --quality 2,5,10,20,25,50,75,95
	$(VENV)/bin/helmholtz demo --out $(DEMO_OUT)

demo-audio: setup
	$(VENV)/bin/helmholtz demo-audio --out $(AUDIO_OUT)

test: setup
	$(PY) -m pytest -q

bench: setup
	$(PY) bench/run_all.py

lint: setup
	$(VENV)/bin/ruff check src tests bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
