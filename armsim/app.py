# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""Build the simulator application from options (shared by `serve` and in-process tests)."""
from . import urls
from .backend import Backend
from .server import App
from .models import capacity, power, resources, scalesets, vms  # noqa: F401  (register event handlers)


def build(options, log_path=None):
    app = App(Backend(options), None, log_path)
    app.routes = urls.build(app)
    return app
