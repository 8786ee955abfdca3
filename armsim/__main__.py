# --------------------------------------------------------------------------------------------
# Copyright (c) vmsscrg maintainers. All rights reserved.
# Licensed under the MIT License. See LICENSE in the project root for license information.
# --------------------------------------------------------------------------------------------
"""python -m armsim up|down|serve|seed"""
import argparse
import logging
import os
import signal
import ssl
import sys

from . import lifecycle


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m armsim", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def options(p):
        p.add_argument("--lro-seconds", metavar="MEAN[:SPREAD[:SEED]]",
                       help="duration of long-running operations (default 0: 202 or 201 and done at the first poll); "
                            "with SPREAD, each drawn uniformly from MEAN +- SPREAD, seeded (rule W16)")
        p.add_argument("--synchronous", action="store_true", default=None,
                       help="rule W10: with --lro-seconds 0, answer writes synchronously (200/201, no async headers) "
                            "instead of as Azure does; a shortcut, never the default")
        p.add_argument("--page-size", type=int, help="items per page of list responses (default 100)")
        p.add_argument("--state-file", help="keep resources in this JSON file across restarts")
        p.add_argument("--consistency-seconds", type=float,
                       help="rule C5: association lists lag a change by this long (default 0)")
        p.add_argument("--pause-scale", type=float,
                       help="rule A6: factor on rolling upgrades' pauses between batches (default 1; 0.01 in tests)")
        p.add_argument("--rule", action="append", default=[], metavar="ID=READING",
                       help="a reading of a decision rule (repeatable; ID=opposite: its second; GET /simulator/rules "
                            "lists them)")
        p.add_argument("--write-budget", metavar="N[/S]",
                       help="rule W13: at most N writes per minute (or per S seconds), 429 with Retry-After beyond; "
                            "0: no budget (default)")
        p.add_argument("--arm-limits", metavar="on|reads=250/25,writes=200/10,deletes=200/10[,compute=off]",
                       help="rules W14, W15: ARM's token buckets per subscription (SIZE tokens, RATE back per "
                            "second; kinds left out keep these documented sizes) and Compute's per-operation "
                            "limits, 429 with Retry-After beyond, x-ms-ratelimit-remaining-* headers on every "
                            "answer; off by default")
        p.add_argument("--capacity", action="append", default=None, metavar="LOCATION[/ZONE]:SIZE=COUNT",
                       help="rules K1-K7: COUNT free on-demand machines of SIZE in LOCATION (or one of its zones); "
                            "repeatable; unlimited when not set. See GET/POST /simulator/capacity")
        p.add_argument("--faults", metavar="SPEC",
                       help="inject faults (rules F1, F2), e.g. seed=7,throttle=0.05,error500=0.02,lro-failed:"
                            "deallocate=0.1,conflict=0.05,reset=0.02,slow=0.1:1.5; see armsim/faults.py and "
                            "GET/POST /simulator/faults")

    p = sub.add_parser("up", help="start in the background and prepare DIR/azure and DIR/env for stock az")
    p.add_argument("--dir", required=True)
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: an ephemeral one)")
    options(p)
    p = sub.add_parser("down", help="stop the simulator started for DIR")
    p.add_argument("--dir", required=True)
    p = sub.add_parser("serve", help="run in the foreground")
    p.add_argument("--dir", required=True)
    p.add_argument("--port", type=int, default=0)
    options(p)
    p = sub.add_parser("seed", help="create a landscape described by a JSON or YAML file")
    p.add_argument("--dir", required=True)
    p.add_argument("file")
    args = parser.parse_args(argv)

    try:
        if args.command == "up":
            port = lifecycle.up(args.dir, args.lro_seconds, args.page_size, args.state_file, args.port,
                                consistency_seconds=args.consistency_seconds, pause_scale=args.pause_scale,
                                rule_overrides=args.rule, write_budget=args.write_budget, faults=args.faults,
                                synchronous=args.synchronous, capacity=args.capacity, arm_limits=args.arm_limits)
            print("armsim listening on https://127.0.0.1:{}/ ; run: source {}".format(
                port, os.path.join(os.path.abspath(args.dir), lifecycle.ENV)))
        elif args.command == "down":
            stopped = lifecycle.down(args.dir)
            print("armsim stopped" if stopped else "armsim was not running")
        elif args.command == "serve":
            serve(args)
        elif args.command == "seed":
            from . import seed
            print(seed.run(args.dir, args.file))
    except lifecycle.LifecycleError as e:
        print(str(e), file=sys.stderr)
        return 1
    return 0


def serve(args):
    from .app import build
    from .backend import LroOptionError, Options, parse_lro
    from .server import serve as run_server
    from . import faults, rules, throttle, tls
    logging.basicConfig(level=logging.INFO, format="%(asctime)s armsim %(levelname)s %(message)s")
    try:
        overrides = rules.parse_overrides(args.rule)
    except rules.RuleOptionError as e:
        raise lifecycle.LifecycleError(str(e)) from e
    from .models import allocation
    try:
        throttle.parse(args.write_budget)
        throttle.parse_limits(args.arm_limits)
        parse_lro(args.lro_seconds)
        faults.parse(args.faults)
        allocation.parse_all(args.capacity)
    except (throttle.BudgetOptionError, throttle.LimitsOptionError, LroOptionError, faults.FaultSpecError,
            allocation.CapacitySpecError) as e:
        raise lifecycle.LifecycleError(str(e)) from e
    directory = os.path.abspath(args.dir)
    os.makedirs(directory, exist_ok=True)
    config = lifecycle.write_config(directory, {"lro_seconds": args.lro_seconds, "page_size": args.page_size,
                                                "state_file": args.state_file,
                                                "consistency_seconds": args.consistency_seconds,
                                                "pause_scale": args.pause_scale, "write_budget": args.write_budget,
                                                "synchronous": args.synchronous, "capacity": args.capacity,
                                                "arm_limits": args.arm_limits})
    cert, key, _ = tls.ensure_certificate(directory)
    opts = Options(lro_seconds=config.get("lro_seconds") or 0, page_size=config.get("page_size") or 100,
                   state_file=config.get("state_file"), subscription_id=config["subscription_id"],
                   tenant_id=config["tenant_id"], client_id=config["client_id"],
                   client_secret=config["client_secret"], rule_overrides=overrides,
                   consistency_seconds=config.get("consistency_seconds") or 0,
                   pause_scale=_given(config.get("pause_scale"), 1.0), write_budget=config.get("write_budget"),
                   synchronous=config.get("synchronous") or False,
                   capacity=config.get("capacity"), arm_limits=config.get("arm_limits"))
    app = build(opts, log_path=os.path.join(directory, lifecycle.REQUESTS))
    app.backend.faults.configure(args.faults or "")  # `up` turns them on later, once az is signed in
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

    def ready(port):
        tmp = os.path.join(directory, lifecycle.PORT + ".tmp")
        with open(tmp, "w") as f:
            f.write(str(port))
        os.replace(tmp, os.path.join(directory, lifecycle.PORT))
        logging.info("listening on https://127.0.0.1:%s/ (lro %ss%s, page size %s, state %s, consistency %ss, "
                     "pause scale %s, rules %s, write budget %s, arm limits %s, faults %s, capacity %s)", port,
                     args.lro_seconds or 0,
                     " synchronous" if opts.synchronous else "", opts.page_size, opts.state_file or "in memory",
                     opts.consistency_seconds, opts.pause_scale,
                     opts.rule_overrides or "default readings", opts.write_budget or "none", opts.arm_limits or "off",
                     args.faults or "none",
                     ", ".join(opts.capacity) or "unlimited")

    try:
        run_server(app, "127.0.0.1", args.port, cert, key, ready)
    except ssl.SSLError as e:
        raise lifecycle.LifecycleError("armsim: cannot load the TLS certificate {} ({}); delete it and its key to "
                                       "have a new one made".format(cert, e)) from e
    except OSError as e:
        raise lifecycle.LifecycleError("armsim: cannot listen on 127.0.0.1:{}: {}".format(args.port, e)) from e
    finally:
        with app.backend.lock:
            app.backend.save()


def _given(value, default):
    return default if value is None else value


if __name__ == "__main__":
    sys.exit(main())
