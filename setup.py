#!/usr/bin/env python
# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
from setuptools import find_packages, setup

VERSION = '1.0.0b1'

CLASSIFIERS = [
    'Development Status :: 4 - Beta',
    'Environment :: Console',
    'Intended Audience :: Developers',
    'Intended Audience :: System Administrators',
    'License :: OSI Approved :: MIT License',
    'Operating System :: OS Independent',
    'Programming Language :: Python',
    'Programming Language :: Python :: 3',
    'Programming Language :: Python :: 3 :: Only',
    'Programming Language :: Python :: 3.10',
    'Programming Language :: Python :: 3.11',
    'Programming Language :: Python :: 3.12',
    'Topic :: System :: Systems Administration',
]

# The Azure CLI supplies azure-mgmt-compute; an extension must not pin its own copy.
DEPENDENCIES = []

# What the wheel's page says: the extension, then its release history (HISTORY.rst). The repository's README.md is
# about working on it (the simulator, make) and is not part of the wheel.
DESCRIPTION = '''
vmsscrg: capacity reservation groups for VM scale sets
======================================================

An Azure CLI extension that adds ``az vmss capacity-reservation``:

* ``status``: whether a scale set's model and each of its instances are on a capacity reservation group, with the
  group's reservations and the command that finishes a partial move. It changes nothing.
* ``detach``: the documented procedure that removes a scale set and all its instances from their group
  ("Remove a Virtual Machine Scale Set association from a Capacity Reservation group"), in one command:
  ``--strategy deallocate`` or ``zero-capacity``.
* ``attach``: puts a scale set and all its instances on a group, checked first, switching groups in one plan.

``attach`` and ``detach`` show their plan (``--dry-run``), ask once, run with progress, read every change back and
start again every instance that was running. Run the same command again after an interruption: it plans from what
Azure reports and finishes the job.

Install: ``az extension add --source vmsscrg-{version}-py3-none-any.whl``. Requires Azure CLI 2.91.0 or later, and
nothing else: it uses the compute SDK the CLI ships.
'''.format(version=VERSION)


def _read(path):
    with open(path, encoding='utf-8') as f:
        return f.read()


setup(
    name='vmsscrg',
    version=VERSION,
    description='Azure CLI extension that moves VM scale sets on and off capacity reservation groups.',
    long_description=DESCRIPTION + '\n\n' + _read('HISTORY.rst'),
    long_description_content_type='text/x-rst',
    license='MIT',
    author='vmsscrg maintainers',
    author_email='maintainers@users.noreply.b-seed-68c751e7.example',
    # No public repository yet: the Azure documentation of the feature the extension drives.
    url='https://learn.microsoft.com/azure/virtual-machines/capacity-reservation-overview',
    classifiers=CLASSIFIERS,
    python_requires='>=3.10',
    packages=find_packages(include=['azext_vmsscrg', 'azext_vmsscrg.*']),
    install_requires=DEPENDENCIES,
    package_data={'azext_vmsscrg': ['azext_metadata.json']},
)
