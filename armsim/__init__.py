# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""armsim: a local HTTPS simulator of Azure Resource Manager for the Compute resources vmsscrg touches."""
