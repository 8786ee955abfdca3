# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""Benchmarks: our commands against the documented procedure and against the critical-path limit.

`make bench` (or `python -m bench`) runs them against armsim; see README.md, "Benchmarks".
"""
