"""How many whole-map states a search without the per-key split must visit.

Usage: python3 c50-frontier.py KV_HISTORY [LAST_EVENT]

Reads a Jepsen kv history (Porcupine's cNN-*.txt) and, key by key, keeps the
set of configurations reachable after each event: (pending operations already
placed, the key's value). Every 25 events it prints each key's configuration
count, their product (the whole map's configurations) and the product of each
key's distinct values (the whole map's distinct states). Keys are independent,
so the whole map's reachable states at one instant are exactly that product:
what a search that only calls `step`, never told how the model splits, has to
visit before it can say "not linearizable". Stops at LAST_EVENT (default: the
end) or at the first event that leaves a key with no configuration.
"""
import re
import sys

LINE = re.compile(
    r'\{:process (\d+), :type :(\w+), :f :(\w+), :key "([^"]*)", :value (nil|"[^"]*")\}'
)


def read(path):
    ops, events, running = [], [], {}
    for line in open(path).read().splitlines():
        process, kind, f, key, value = LINE.match(line).groups()
        value = None if value == "nil" else value[1:-1]
        if kind == "invoke":
            running[process] = len(ops)
            ops.append({"f": f, "key": key, "in": value, "out": None})
            events.append(("call", running[process]))
        else:
            op = running.pop(process)
            ops[op]["out"] = value
            events.append(("return", op))
    return ops, events


def step(value, op):
    if op["f"] == "get":
        return value if value == (op["out"] or "") else None
    if op["f"] == "put":
        return op["in"]
    return value + op["in"]  # append


def main():
    ops, events = read(sys.argv[1])
    last = int(sys.argv[2]) if len(sys.argv) > 2 else len(events)
    keys = sorted({op["key"] for op in ops})
    configs = {k: {(frozenset(), "")} for k in keys}
    pending = {k: set() for k in keys}
    for i, (kind, op) in enumerate(events):
        key = ops[op]["key"]
        if kind == "call":
            pending[key].add(op)
        else:
            # Every configuration in which `op` has been placed, by placing
            # pending operations one at a time.
            after, seen, stack = set(), set(), list(configs[key])
            while stack:
                config = stack.pop()
                if config in seen:
                    continue
                seen.add(config)
                placed, value = config
                if op in placed:
                    after.add((placed - {op}, value))
                    continue
                for p in pending[key] - placed:
                    nxt = step(value, ops[p])
                    if nxt is not None:
                        stack.append((placed | {p}, nxt))
            pending[key].discard(op)
            configs[key] = after
            if not after:
                print(f"event {i}: key {key} has no configuration left (the violation)")
                return
        if i % 25 == 0:
            counts = [len(configs[k]) for k in keys]
            product, states = 1, 1
            for k in keys:
                product *= len(configs[k])
                states *= len({value for _, value in configs[k]})
            print(f"event {i}: per key {counts}, configurations {product:.2e}, states {states:.2e}", flush=True)
        if i >= last:
            return


main()
