"""The documented `pip install ./python` path, offline with Debian's pip and
setuptools: into a virtual environment that sees Debian's numpy, from a
copy of python/ (the build writes beside setup.py); the installed package
loads the copy of libcolb.so it carries. (`make install` is tested by
scripts/check-install in `make check`.)"""
import os
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT, SANITIZED


def test_pip_install_offline(tmp_path):
    if SANITIZED:
        pytest.skip("the sanitizer build's library needs the ASan runtime preloaded")
    probe = subprocess.run([sys.executable, "-c", "import setuptools, pip, venv"],
                           capture_output=True)
    if probe.returncode:
        pytest.skip("needs Debian's python3-pip and python3-setuptools (./scripts/install-deps)")
    lib = os.path.abspath(os.environ.get("COLB_LIBRARY", str(ROOT / "build" / "libcolb.so")))
    src = tmp_path / "python"
    shutil.copytree(ROOT / "python", src,
                    ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info", "libcolb*",
                                                  "_install.py"))
    env_dir = tmp_path / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", "--system-site-packages",
                    str(env_dir)], check=True, timeout=120)
    py = str(env_dir / "bin" / "python")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "COLB_LIBRARY")}
    subprocess.run([py, "-m", "pip", "install", "-q", "--no-build-isolation", "--no-index",
                    str(src)], check=True, timeout=300, capture_output=True,
                   env=dict(env, COLB_LIBRARY=lib))
    out = subprocess.run([py, "-c", "import colb; print(colb.library_path); "
                          "print(colb.Policy('linucb-ind', 3, 2).choose([[1.0, 0.0]]).tolist())"],
                         check=True, capture_output=True, text=True, cwd=tmp_path, env=env,
                         timeout=60).stdout.split("\n")
    assert out[0].startswith(str(env_dir)) and out[0].endswith("colb/libcolb.so")
    assert out[1] == "[0, 0, 0]"


def test_a_missing_library_is_named(tmp_path):
    env = dict(os.environ, COLB_LIBRARY=str(tmp_path / "nope.so"), PYTHONPATH=str(ROOT / "python"))
    env.pop("LD_PRELOAD", None)
    r = subprocess.run([sys.executable, "-c", "import colb"], env=env, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode != 0
    assert "cannot load libcolb.so" in r.stderr and "nope.so (COLB_LIBRARY: no such file)" in r.stderr
