"""Map the top-level folders hw/, sw/ and sim/ onto the namespace ``spikevec``.

Everything else about the distribution is declared in pyproject.toml.
"""
from setuptools import find_packages, setup

ROOTS = ("hw", "sw", "sim")

packages = []
for root in ROOTS:
    packages += ["spikevec." + name for name in find_packages(include=[root, root + ".*"])]

setup(packages=packages, package_dir={"spikevec." + root: root for root in ROOTS})
