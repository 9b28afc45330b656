"""pip install ./python: the colb package with a copy of libcolb.so inside it.

Offline, with Debian's pip, setuptools and numpy (no other registry needed):

    make                                   # builds build/libcolb.so
    python3 -m venv --without-pip --system-site-packages /opt/colb-env
    /opt/colb-env/bin/python -m pip install --no-build-isolation --no-index ./python

COLB_LIBRARY (an absolute path) names another libcolb.so to copy (default
../build/libcolb.so).
See docs/python.md.
"""
import os
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

HERE = os.path.dirname(os.path.abspath(__file__))


class BuildWithLibrary(build_py):
    """build_py, then libcolb.so copied next to the package's modules (the
    first place colb looks for it, after COLB_LIBRARY)."""

    def run(self):
        super().run()
        lib = os.environ.get("COLB_LIBRARY") or os.path.join(HERE, "..", "build", "libcolb.so")
        if not os.path.exists(lib):
            raise SystemExit(f"colb: {lib} not found: run `make` first (or set COLB_LIBRARY)")
        shutil.copyfile(lib, os.path.join(self.build_lib, "colb", "libcolb.so"))


class BinaryDistribution(Distribution):
    """The package carries a shared library: a platform wheel, not a pure one."""

    def has_ext_modules(self):
        return True


setup(
    name="colb",
    version="0.1.0",
    description="Collaborative multi-agent linear bandits: Python front of libcolb",
    packages=["colb"],
    python_requires=">=3.9",
    install_requires=["numpy"],
    cmdclass={"build_py": BuildWithLibrary},
    distclass=BinaryDistribution,
)
