#!/usr/bin/env python3
"""serve_client.py - the HTTP client of tests/test_serve.c: drives a running
`colb serve` over keep-alive connections with Python's http.client (a real,
independent HTTP implementation) and writes what it sent and what the server
answered as JSON lines, which the C test replays through the library.

Modes:
  script  one connection, a fixed-seed sequence of every request form
          (single and batch choose, JSON and base64 contexts, single and
          batch rewards, duplicates), then every user's estimate and the
          stats; every status is checked against the API's contract.
  load    several threads, each choose then reward as fast as it can, until
          the server goes away (the crash test kills it) or a bound is hit;
          writes every decision and every acknowledged reward.
  fetch   every user's estimate and the stats.
  bad     malformed and hostile requests; checks each status, and that the
          server keeps serving. Exit 1 with a list when any check fails.

Only 127.0.0.1. Bounded in requests and time.
"""
import argparse
import base64
import http.client
import json
import random
import socket
import struct
import sys
import threading
import time
import urllib.parse


def conn(port, timeout=30):
    return http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)


def call(c, method, path, body=None, headers=None):
    h = {"Content-Type": "application/json"}
    h.update(headers or {})
    data = body if body is None or isinstance(body, bytes) else json.dumps(body).encode()
    c.request(method, path, body=data, headers=h)
    r = c.getresponse()
    raw = r.read()
    try:
        doc = json.loads(raw) if raw else None
    except ValueError:
        doc = raw.decode("latin-1")
    return r.status, doc


def user_path(uid):
    return "/v1/users/" + urllib.parse.quote(uid, safe="")


def fetch(c, users, out):
    for uid in users:
        st, doc = call(c, "GET", user_path(uid))
        if st != 200:
            raise SystemExit("GET user %r: %d %r" % (uid, st, doc))
        out.write(json.dumps({"op": "user", "id": uid, "answer": doc}) + "\n")
    st, doc = call(c, "GET", "/v1/stats")
    if st != 200:
        raise SystemExit("GET stats: %d %r" % (st, doc))
    out.write(json.dumps({"op": "stats", "answer": doc}) + "\n")


def b64(contexts):
    raw = b"".join(struct.pack("<%dd" % len(row), *row) for row in contexts)
    return base64.b64encode(raw).decode()


def script(a):
    rng = random.Random(a.seed)
    users = ["alice", "bob", "carol", "dave", "ève", "x/y z", "u-7", "日本", "user with \"quotes\"", "u9"]
    c = conn(a.port)
    pending, rewarded, seen = [], [], []
    with open(a.out, "w") as out:
        def ctx(k):
            return [[rng.uniform(-1, 1) for _ in range(a.dim)] for _ in range(k)]

        req = [0]

        def record_rounds(rounds, doc):
            ds = doc["decisions"] if "decisions" in doc else [doc]
            i = 0
            req[0] += 1
            for us, cs in rounds:
                out.write(json.dumps({"op": "choose", "req": req[0], "users": us, "contexts": cs,
                                      "decisions": [d["decision"] for d in ds[i:i + len(us)]],
                                      "arms": [d["arm"] for d in ds[i:i + len(us)]]}) + "\n")
                for u, d in zip(us, ds[i:i + len(us)]):
                    pending.append(d["decision"])
                    if u not in seen:
                        seen.append(u)
                i += len(us)

        for step in range(a.steps):
            kind = rng.random()
            if kind < 0.3:
                u, cs = rng.choice(users), ctx(rng.randint(1, 6))
                body = {"user": u, "contexts_b64": b64(cs)} if rng.random() < 0.3 else {"user": u, "contexts": cs}
                st, doc = call(c, "POST", "/v1/choose", body)
                if st != 200:
                    raise SystemExit("choose: %d %r" % (st, doc))
                record_rounds([([u], cs)], doc)
            elif kind < 0.45:
                us, cs = rng.sample(users, rng.randint(1, 5)), ctx(rng.randint(1, 6))
                st, doc = call(c, "POST", "/v1/choose/batch", {"contexts": cs, "users": us})
                if st != 200:
                    raise SystemExit("choose batch: %d %r" % (st, doc))
                record_rounds([(us, cs)], doc)
            elif kind < 0.55:
                items = [(rng.choice(users), ctx(rng.randint(1, 4))) for _ in range(rng.randint(1, 4))]
                st, doc = call(c, "POST", "/v1/choose/batch",
                               {"requests": [{"user": u, "contexts": cs} for u, cs in items]})
                if st != 200:
                    raise SystemExit("choose requests: %d %r" % (st, doc))
                record_rounds([([u], cs) for u, cs in items], doc)
            elif kind < 0.8 and pending:
                d = pending.pop(rng.randrange(len(pending)))
                y = rng.gauss(0.5, 1)
                st, doc = call(c, "POST", "/v1/reward", {"decision": d, "reward": y})
                if st != 200:
                    raise SystemExit("reward: %d %r" % (st, doc))
                rewarded.append(d)
                out.write(json.dumps({"op": "reward", "decision": d, "reward": y}) + "\n")
            elif kind < 0.9 and pending:
                k = min(len(pending), rng.randint(1, 5))
                ds = [pending.pop(rng.randrange(len(pending))) for _ in range(k)]
                dup = rng.choice(rewarded) if rewarded and rng.random() < 0.5 else None
                items = [{"decision": d, "reward": rng.uniform(-2, 2)} for d in ds]
                if dup:
                    items.insert(rng.randrange(len(items) + 1), {"decision": dup, "reward": 1.0})
                st, doc = call(c, "POST", "/v1/reward/batch", {"rewards": items})
                if st != 200 or doc["applied"] != k or len(doc["conflicts"]) != (1 if dup else 0):
                    raise SystemExit("reward batch: %d %r" % (st, doc))
                if dup and doc["conflicts"][0]["code"] != "already_rewarded":
                    raise SystemExit("reward batch duplicate: %r" % doc)
                for it in items:
                    if it["decision"] != dup:
                        out.write(json.dumps({"op": "reward", "decision": it["decision"], "reward": it["reward"]}) + "\n")
                        rewarded.append(it["decision"])
            elif rewarded:
                st, doc = call(c, "POST", "/v1/reward", {"decision": rng.choice(rewarded), "reward": 0.0})
                if st != 409 or doc["code"] != "already_rewarded":
                    raise SystemExit("duplicate reward: %d %r" % (st, doc))
        fetch(c, seen, out)


def load(a):
    out = open(a.out, "w")
    lock = threading.Lock()
    deadline = time.time() + a.seconds
    count = [0]

    def worker(k):
        rng = random.Random(a.seed * 1000 + k)
        try:
            c = conn(a.port, timeout=10)
            while time.time() < deadline and count[0] < a.max_requests:
                u = "user-%d" % rng.randrange(a.users)
                cs = [[rng.uniform(-1, 1) for _ in range(a.dim)] for _ in range(rng.randint(1, 4))]
                st, doc = call(c, "POST", "/v1/choose", {"user": u, "contexts": cs})
                if st != 200:
                    raise SystemExit("load choose: %d %r" % (st, doc))
                with lock:
                    out.write(json.dumps({"op": "choose", "users": [u], "contexts": cs,
                                          "decisions": [doc["decision"]], "arms": [doc["arm"]]}) + "\n")
                    count[0] += 1
                if rng.random() < 0.9:
                    y = rng.gauss(0, 1)
                    st, doc = call(c, "POST", "/v1/reward", {"decision": doc["decision"], "reward": y})
                    if st != 200:
                        raise SystemExit("load reward: %d %r" % (st, doc))
                    with lock:
                        out.write(json.dumps({"op": "reward", "decision": doc["decision"], "reward": y}) + "\n")
                        out.flush()
                        count[0] += 1
        except (OSError, http.client.HTTPException):
            pass  # the server is gone: what was acknowledged is written

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(a.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.close()


def bad(a):
    fails = []
    c = conn(a.port)
    d = a.dim
    ok_ctx = [[0.5] * d, [0.25] * d]

    def expect(name, status, method, path, body, code=None, headers=None):
        nonlocal c
        try:
            st, doc = call(c, method, path, body, headers)
        except (OSError, http.client.HTTPException) as e:
            fails.append("%s: no answer (%s)" % (name, e))
            c = conn(a.port)
            return None
        if st != status or (code and (not isinstance(doc, dict) or doc.get("code") != code)):
            fails.append("%s: got %d %r, expected %d %s" % (name, st, doc, status, code or ""))
        elif status >= 400 and status != 405 and not (isinstance(doc, dict) and doc.get("error")):
            fails.append("%s: %d without an error message: %r" % (name, st, doc))
        if st in (413, 408) or (isinstance(doc, dict) and doc.get("code") == "stopping"):
            c = conn(a.port)  # the server closes such connections
        return doc

    P = "/v1/choose"
    for name, body in [
        ("empty body", b""), ("not JSON", b"hello"), ("truncated", b'{"user":"a","contexts":[[1'),
        ("array", b"[1,2]"), ("string", b'"x"'), ("trailing garbage", b'{"user":"a","contexts":[[0.5]]} x'),
        ("NaN literal", ('{"user":"a","contexts":[[NaN%s]]}' % (",0" * (d - 1))).encode()),
        ("Infinity literal", ('{"user":"a","contexts":[[Infinity%s]]}' % (",0" * (d - 1))).encode()),
        ("huge number", ('{"user":"a","contexts":[[1e999%s]]}' % (",0" * (d - 1))).encode()),
        ("beyond the context limit", ('{"user":"a","contexts":[[2e6%s]]}' % (",0" * (d - 1))).encode()),
        ("NUL byte", b'{"user":"a\x00b","contexts":[[0.5]]}'),
        ("escaped NUL", ('{"user":"a\\u0000b","contexts":[%s]}' % json.dumps([0.5] * d)).encode()),
        ("deep nesting", b"[" * 30000 + b"]" * 30000),
        ("deep object", b'{"user":' * 3000 + b"1" + b"}" * 3000),
    ]:
        expect(name, 400, "POST", P, body, "bad_request")
    for name, body in [
        ("user missing", {"contexts": ok_ctx}), ("contexts missing", {"user": "a"}),
        ("user a number", {"user": 7, "contexts": ok_ctx}), ("user empty", {"user": "", "contexts": ok_ctx}),
        ("user too long", {"user": "u" * 300, "contexts": ok_ctx}),
        ("user control char", {"user": "a\tb", "contexts": ok_ctx}),
        ("contexts not an array", {"user": "a", "contexts": 3}), ("contexts empty", {"user": "a", "contexts": []}),
        ("context not an array", {"user": "a", "contexts": [1, 2]}),
        ("wrong dimension (short)", {"user": "a", "contexts": [[0.5] * (d - 1)]}),
        ("wrong dimension (long)", {"user": "a", "contexts": [[0.5] * (d + 1)]}),
        ("string in a context", {"user": "a", "contexts": [["0.5"] * d]}),
        ("null in a context", {"user": "a", "contexts": [[None] * d]}),
        ("bool in a context", {"user": "a", "contexts": [[True] * d]}),
        ("too many contexts", {"user": "a", "contexts": [[0.5] * d] * (a.max_contexts + 1)}),
        ("unknown field", {"user": "a", "contexts": ok_ctx, "extra": 1}),
        ("both context forms", {"user": "a", "contexts": ok_ctx, "contexts_b64": b64(ok_ctx)}),
        ("b64 not base64", {"user": "a", "contexts_b64": "!!!!"}),
        ("b64 wrong size", {"user": "a", "contexts_b64": base64.b64encode(b"x" * (8 * d + 8)).decode()}),
        ("b64 NaN", {"user": "a", "contexts_b64": b64([[float("nan")] * d])}),
    ]:
        expect(name, 400, "POST", P, body, "bad_request")
    # numbers are read up to 63 characters (cJSON's limit, on both parsers):
    # one longer is refused, saying so (it was called "not JSON's")
    rest = ",0" * (d - 1)
    expect("a 63-character number", 200, "POST", P,
           ('{"user":"long","contexts":[[0.%s%s]]}' % ("1" * 61, rest)).encode())
    for name, body in [("a 64-character number", '{"user":"long","contexts":[[0.%s%s]]}' % ("1" * 62, rest)),
                       ("a 64-digit number, escaped user",
                        '{"user":"\\u0041","contexts":[[%s%s]]}' % ("1" * 64, rest))]:
        doc = expect(name, 400, "POST", P, body.encode(), "bad_request")
        if isinstance(doc, dict) and "has more than 63 characters" not in doc.get("error", ""):
            fails.append("%s: %r does not say the number is too long" % (name, doc))
    expect("duplicate field", 400, "POST", P,
           ('{"user":"a","user":"b","contexts":%s}' % json.dumps(ok_ctx)).encode(), "bad_request")
    expect("invalid UTF-8 user", 400, "POST", P,
           b'{"user":"\xff\xfe","contexts":' + json.dumps(ok_ctx).encode() + b"}", "bad_request")
    B = "/v1/choose/batch"
    expect("batch: both forms", 400, "POST", B, {"contexts": ok_ctx, "users": ["a"], "requests": []}, "bad_request")
    expect("batch: users twice", 400, "POST", B, {"contexts": ok_ctx, "users": ["a", "b", "a"]}, "bad_request")
    expect("batch: too many users", 400, "POST", B,
           {"contexts": ok_ctx, "users": ["u%d" % i for i in range(a.max_batch + 1)]}, "bad_request")
    expect("batch: users empty", 400, "POST", B, {"contexts": ok_ctx, "users": []}, "bad_request")
    # the message quotes the id cut to 64 bytes, here within a character: the answer must stay UTF-8
    long_id = "x" + "\u00e9" * 40
    expect("batch: a long id twice", 400, "POST", B, {"contexts": ok_ctx, "users": [long_id, long_id]}, "bad_request")
    expect("batch: a bad item", 400, "POST", B,
           {"requests": [{"user": "a", "contexts": ok_ctx}, {"user": "b", "contexts": [[1]]}]}, "bad_request")
    R = "/v1/reward"
    for name, body in [
        ("reward missing", {"decision": "1-1"}), ("decision missing", {"reward": 1}),
        ("reward a string", {"decision": "1-1", "reward": "1"}),
        ("reward too large", {"decision": "1-1", "reward": 2e9}),
        ("decision a number", {"decision": 11, "reward": 1}),
        ("decision malformed", {"decision": "abc", "reward": 1}),
        ("decision with sign", {"decision": "+1-1", "reward": 1}),
        ("decision seq 0", {"decision": "1-0", "reward": 1}),
        ("decision overflow", {"decision": "1-99999999999999999999999", "reward": 1}),
        ("decision leading zero", {"decision": "1-01", "reward": 1}),
    ]:
        expect(name, 400, "POST", R, body, "bad_request")
    expect("reward 1e999", 400, "POST", R, b'{"decision":"1-1","reward":1e999}', "bad_request")
    # numbers JSON does not have, which a lenient reader takes (01 = 1, 1. = 1)
    for name, num in [("leading zero", b"01"), ("point without digits", b"1."), ("exponent point", b"1.e5"),
                      ("negative leading zero", b"-00.5")]:
        expect("reward " + name, 400, "POST", R, b'{"decision":"1-1","reward":' + num + b"}", "bad_request")
        expect("context " + name, 400, "POST", P, b'{"user":"a\\u00e9","contexts":[[' + num +
               b",0" * (d - 1) + b"]]}", "bad_request")
    # JSON's own numbers, read by either reader (an escape in the id sends the body to the lenient one)
    forms = [b"-0.5e-3", b"0", b"1E+2", b"-0", b"0.25e1", b"2e-1"]
    row = b",".join(forms[i % len(forms)] for i in range(d))
    for user in (b"num-ok", b"num-ok\\u00e9"):
        expect("numbers of every form", 200, "POST", P, b'{"user":"' + user + b'","contexts":[[' + row + b"]]}")
    expect("reward batch empty", 400, "POST", "/v1/reward/batch", {"rewards": []}, "bad_request")
    expect("unknown decision", 409, "POST", R, {"decision": "1-999999", "reward": 1}, "unknown_decision")
    expect("decision of another generation", 409, "POST", R, {"decision": "77-1", "reward": 1}, "unknown_decision")
    expect("unknown route", 404, "GET", "/v2/nothing", None, "not_found")
    expect("wrong method", 405, "GET", "/v1/choose", None)
    expect("wrong method on stats", 405, "POST", "/v1/stats", {"x": 1})
    expect("unknown user", 404, "GET", "/v1/users/nobody-here", None, "unknown_user")
    expect("bad user id in the path", 400, "GET", "/v1/users/%01x", None, "bad_request")
    expect("C1 control in a user id in the path", 400, "GET", "/v1/users/a%C2%9Bb", None, "bad_request")
    expect("C1 control in a user id", 400, "POST", P, {"user": "a\u0085b", "contexts": ok_ctx}, "bad_request")
    # a %00 in the path is a control character there, not its end
    expect("choose for the %00 checks", 200, "POST", P, {"user": "nul-test", "contexts": ok_ctx})
    expect("%00 inside a user id in the path", 400, "GET", "/v1/users/nul-test%00x", None, "bad_request")
    expect("%00 after a user id in the path", 400, "GET", "/v1/users/nul-test%00", None, "bad_request")
    expect("%00 after a route", 404, "GET", "/v1/stats%00", None, "not_found")
    expect("body too large", 413, "POST", P, b"{" + b" " * (a.max_body + 10) + b"}", "too_large")
    # a lying Content-Length, by hand: the server must not wait for bytes it was promised forever
    s = socket.create_connection(("127.0.0.1", a.port), timeout=10)
    auth = ("Authorization: Bearer %s\r\n" % a.token).encode() if a.token else b""
    s.sendall(b"POST /v1/choose HTTP/1.1\r\nHost: x\r\n" + auth + b"Content-Length: 99999999999\r\n\r\n{}")
    first = s.recv(200)
    s.close()
    if b" 413 " not in first.split(b"\r\n")[0]:
        fails.append("huge Content-Length: %r" % first[:80])
    # a method that is not UTF-8, and one cut within a character in the message: a JSON answer in UTF-8
    for method in (b"GET\xff", b"POSTPOSTPOSTPOS\xc3\xa9"):
        s = socket.create_connection(("127.0.0.1", a.port), timeout=10)
        s.sendall(method + b" /v1/stats HTTP/1.1\r\nHost: x\r\n" + auth + b"Connection: close\r\n\r\n")
        answer = b""
        while True:
            got = s.recv(4096)
            if not got:
                break
            answer += got
        s.close()
        head, _, body = answer.partition(b"\r\n\r\n")
        try:
            doc = json.loads(body.decode("utf-8"))
        except ValueError as e:
            doc = "not JSON in UTF-8 (%s): %r" % (e, body)
        if b" 405 " not in head.split(b"\r\n")[0] or not isinstance(doc, dict) or not doc.get("error"):
            fails.append("method %r: %r %r" % (method, head.split(b"\r\n")[0], doc))
    # garbage instead of HTTP
    s = socket.create_connection(("127.0.0.1", a.port), timeout=10)
    s.sendall(bytes(random.Random(5).randrange(256) for _ in range(4096)) + b"\r\n\r\n")
    try:
        s.recv(200)
    except OSError:
        pass
    s.close()
    # concurrent duplicates: one 200, the rest 409 already_rewarded
    st, doc = call(c, "POST", P, {"user": "dup", "contexts": ok_ctx})
    dec = doc["decision"] if st == 200 else None
    if not dec:
        fails.append("choose for the duplicate test: %d %r" % (st, doc))
    else:
        results = []

        def send():
            cc = conn(a.port)
            results.append(call(cc, "POST", R, {"decision": dec, "reward": 0.5}))

        ts = [threading.Thread(target=send) for _ in range(8)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        codes = sorted(st for st, _ in results)
        if codes != [200] + [409] * 7 or any(d.get("code") != "already_rewarded" for st, d in results if st == 409):
            fails.append("concurrent duplicates: %r" % results)
    # still serving
    st, doc = call(c, "GET", "/healthz")
    if st != 200:
        fails.append("healthz after the bad requests: %d %r" % (st, doc))
    st, doc = call(c, "POST", P, {"user": "still-here", "contexts": ok_ctx})
    if st != 200:
        fails.append("a good request after the bad ones: %d %r" % (st, doc))
    if a.token:
        expect("no token", 401, "GET", "/v1/stats", None, "unauthorized", headers={"Authorization": ""})
        # checked before the path and method: a client without the token learns
        # nothing of the routes (a wrong method was a 405 with Allow, a path a 404)
        expect("no token, wrong method", 401, "GET", "/v1/choose", None, "unauthorized",
               headers={"Authorization": ""})
        expect("no token, unknown path", 401, "GET", "/v1/nope", None, "unauthorized",
               headers={"Authorization": ""})
        expect("wrong token", 401, "POST", P, {"user": "a", "contexts": ok_ctx}, "unauthorized",
               headers={"Authorization": "Bearer nope"})
        for name, value in [("scheme in lower case", "bearer %s"), ("two spaces", "Bearer  %s"),
                            ("trailing whitespace", "Bearer %s \t")]:
            expect("token: " + name, 200, "GET", "/v1/stats", None, headers={"Authorization": value % a.token})
        t = a.token
        for name, value in [("longer", "Bearer " + t + "x"), ("shorter", "Bearer " + t[:-1]), ("no space", "Bearer" + t),
                            ("a second word", "Bearer " + t + " x"), ("another scheme", "Basic " + t)]:
            expect("token: " + name, 401, "GET", "/v1/stats", None, "unauthorized", headers={"Authorization": value})
        st, _ = call(c, "GET", "/healthz", headers={"Authorization": ""})
        if st != 200:
            fails.append("healthz needs no token: %d" % st)
    if fails:
        print("\n".join(fails))
        sys.exit(1)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["script", "load", "fetch", "bad"])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--out", default="/dev/null")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--dim", type=int, default=3)
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--threads", type=int, default=6)
    p.add_argument("--users", type=int, default=30)
    p.add_argument("--seconds", type=float, default=20)
    p.add_argument("--max-requests", type=int, default=20000)
    p.add_argument("--max-contexts", type=int, default=1024)
    p.add_argument("--max-batch", type=int, default=100000)
    p.add_argument("--max-body", type=int, default=16 << 20)
    p.add_argument("--users-file", default="", help="fetch: the user ids, one JSON string a line")
    p.add_argument("--token", default="")
    a = p.parse_args()
    if a.token:  # every request carries it, unless a check overrides the header
        def with_token(c, method, path, body=None, headers=None, _call=call):
            h = {"Authorization": "Bearer " + a.token}
            h.update(headers or {})
            return _call(c, method, path, body, h)
        globals()["call"] = with_token
    if a.mode == "script":
        script(a)
    elif a.mode == "load":
        load(a)
    elif a.mode == "fetch":
        with open(a.out, "w") as out:
            with open(a.users_file) as f:
                fetch(conn(a.port), [json.loads(line) for line in f if line.strip()], out)
    else:
        bad(a)


if __name__ == "__main__":
    main()
