#!/usr/bin/env python
from setuptools import find_packages, setup

VERSION = '1.0.0b1'

CLASSIFIERS = [
    'Development Status :: 4 - Beta',
    'Intended Audience :: Developers',
    'Intended Audience :: System Administrators',
    'Programming Language :: Python',
    'Programming Language :: Python :: 3',
    'Programming Language :: Python :: 3.10',
    'Programming Language :: Python :: 3.11',
    'Programming Language :: Python :: 3.12',
]

# The Azure CLI supplies azure-mgmt-compute; an extension must not pin its own copy.
DEPENDENCIES = []


def _read(path):
    try:
        with open(path, encoding='utf-8') as f:
            return f.read()
    except FileNotFoundError:
        return ''


setup(
    name='vmsscrg',
    version=VERSION,
    description='Azure CLI extension that moves VM scale sets on and off capacity reservation groups.',
    long_description=_read('README.md') + '\n\n' + _read('HISTORY.rst'),
    classifiers=CLASSIFIERS,
    python_requires='>=3.10',
    packages=find_packages(include=['azext_vmsscrg', 'azext_vmsscrg.*']),
    install_requires=DEPENDENCIES,
    package_data={'azext_vmsscrg': ['azext_metadata.json']},
)
