"""armsim: a local HTTPS simulator of Azure Resource Manager for the Compute resources vmsscrg touches."""
